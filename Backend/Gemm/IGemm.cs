namespace Dlc.Backend.Gemm;

/// <summary>Single-precision matrix multiply; every provider (MKL, managed, later AVX-512) sits behind it.</summary>
public unsafe interface IGemm
{
    /// <summary>Short provider name as accepted by <see cref="GemmProviders.Create"/>.</summary>
    string Name { get; }

    /// <summary>The threads a large product is split over (the calling thread included).</summary>
    int Threads => 1;

    /// <summary>
    /// Row-major C[m×n] = alpha·op(A)·op(B) + beta·C, op(A) is m×k, op(B) is k×n; lda/ldb/ldc are row strides
    /// of the stored matrices (A is stored k×m when transA, B is stored n×k when transB). With beta = 0, C is
    /// not read, so it may hold anything (NaN included); with alpha = 0 or k = 0, A and B are not read.
    /// </summary>
    void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha, float* a, int lda, float* b, int ldb,
        float beta, float* c, int ldc);

    /// <summary>
    /// <see cref="Sgemm"/> followed by <paramref name="epilogue"/> (bias, activation or activation derivative;
    /// see <see cref="GemmEpilogue"/>) on every element of C, and the sums of op(A)'s rows it may ask for. Providers that can fuse it apply it while each
    /// tile of C is still in cache; this default (and BLAS, which has no hook into its stores) runs the plain
    /// product and then one vectorised pass over C with the same arithmetic.
    /// </summary>
    void SgemmFused(bool transA, bool transB, int m, int n, int k, float alpha, float* a, int lda, float* b, int ldb,
        float beta, float* c, int ldc, in GemmEpilogue epilogue)
    {
        epilogue.Validate(m, n);
        Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        GemmEpilogueKernel.Apply(epilogue, c, ldc, 0, m, 0, n);
        if (epilogue.SumsOfA != null) GemmEpilogueKernel.SumsOfA(transA, a, lda, m, k, epilogue.SumsOfA);
    }

    /// <summary>
    /// op(B) packed once for products of exactly this shape that read this B many times while it does not change (a
    /// model's weights during an evaluation), or null where the provider would not read such a copy: then it packs B as
    /// it goes, or reads it in place. Pass the copy to <see cref="SgemmFused(bool, bool, int, int, int, float, float*, int, float*, int, float, float*, int, in GemmEpilogue, PackedB?)"/>.
    /// </summary>
    PackedB? Prepack(bool transA, bool transB, int m, int n, int k, float* b, int ldb) => null;

    /// <summary>
    /// <see cref="SgemmFused(bool, bool, int, int, int, float, float*, int, float*, int, float, float*, int, in GemmEpilogue)"/>
    /// reading op(B) from <paramref name="packed"/> (made by this provider's <see cref="Prepack"/> from this B) where it
    /// would pack it; B must hold what it held when it was packed.
    /// </summary>
    void SgemmFused(bool transA, bool transB, int m, int n, int k, float alpha, float* a, int lda, float* b, int ldb,
        float beta, float* c, int ldc, in GemmEpilogue epilogue, PackedB? packed) =>
        SgemmFused(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, epilogue);

    /// <summary>
    /// The provider to run products of this shape on. A plan asks once per GEMM call site when it is compiled
    /// and keeps the answer, so no call pays for a lookup; fixed providers answer themselves, the "auto"
    /// provider (<see cref="GemmTuner"/>) the one that measured fastest at that shape on this machine.
    /// </summary>
    IGemm Choose(bool transA, bool transB, int m, int n, int k) => this;
}
