namespace Dlc.Backend.Gemm;

/// <summary>Single-precision matrix multiply; every provider (MKL, managed, later AVX-512) sits behind it.</summary>
public unsafe interface IGemm
{
    /// <summary>Short provider name as accepted by <see cref="GemmProviders.Create"/>.</summary>
    string Name { get; }

    /// <summary>
    /// Row-major C[m×n] = alpha·op(A)·op(B) + beta·C, op(A) is m×k, op(B) is k×n; lda/ldb/ldc are row strides
    /// of the stored matrices (A is stored k×m when transA, B is stored n×k when transB). With beta = 0, C is
    /// not read, so it may hold anything (NaN included); with alpha = 0 or k = 0, A and B are not read.
    /// </summary>
    void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha, float* a, int lda, float* b, int ldb,
        float beta, float* c, int ldc);
}
