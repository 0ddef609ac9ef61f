using Dlc.Backend.Native;

namespace Dlc.Backend.Gemm;

/// <summary>GEMM by Intel MKL's cblas_sgemm (row-major), on as many MKL threads as asked for.</summary>
public sealed unsafe class MklGemm : IGemm
{
    /// <summary>Throws InvalidOperationException with <see cref="Mkl.LoadError"/> when MKL is missing.</summary>
    /// <param name="threads">MKL threads (process-wide setting); 0 keeps MKL's default (one per core).</param>
    public MklGemm(int threads = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(threads);
        Mkl.EnsureAvailable();
        if (threads > 0) Mkl.SetThreads(threads);
        Threads = Mkl.MaxThreads;
    }

    public string Name => "mkl";

    /// <summary>Threads MKL reported when this provider was made.</summary>
    public int Threads { get; }

    public void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha, float* a, int lda, float* b, int ldb,
        float beta, float* c, int ldc)
    {
        GemmArgs.Validate(transA, transB, m, n, k, lda, ldb, ldc);
        GemmArgs.ValidatePointers(transA, transB, m, n, k, a, b, c);
        if (m == 0 || n == 0) return;
        MklNative.cblas_sgemm(MklNative.CblasRowMajor, Op(transA), Op(transB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }

    /// <summary>
    /// The product by cblas_sgemm, then the epilogue in one vectorised pass over C: BLAS has no hook into
    /// the stores of its own kernels, so MKL cannot fuse it. Same values as ManagedGemm's fused epilogue.
    /// </summary>
    public void SgemmFused(bool transA, bool transB, int m, int n, int k, float alpha, float* a, int lda, float* b, int ldb,
        float beta, float* c, int ldc, in GemmEpilogue epilogue)
    {
        epilogue.Validate(m, n);
        Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        GemmEpilogueKernel.Apply(epilogue, c, ldc, 0, m, 0, n);
        if (epilogue.SumsOfA != null) GemmEpilogueKernel.SumsOfA(transA, a, lda, m, k, epilogue.SumsOfA);
    }

    /// <summary>
    /// batch independent products C_i = alpha·op(A_i)·op(B_i) + beta·C_i where A_i = a + i·strideA (likewise B, C),
    /// in one MKL call (cblas_sgemm_batch_strided); throws NotSupportedException on an MKL without it.
    /// </summary>
    public void SgemmBatchStrided(bool transA, bool transB, int m, int n, int k, float alpha, float* a, int lda, int strideA,
        float* b, int ldb, int strideB, float beta, float* c, int ldc, int strideC, int batch)
    {
        GemmArgs.Validate(transA, transB, m, n, k, lda, ldb, ldc);
        ArgumentOutOfRangeException.ThrowIfNegative(batch);
        ArgumentOutOfRangeException.ThrowIfNegative(strideA);
        ArgumentOutOfRangeException.ThrowIfNegative(strideB);
        ArgumentOutOfRangeException.ThrowIfNegative(strideC);
        GemmArgs.ValidatePointers(transA, transB, m, n, k, a, b, c);
        if (!Mkl.HasBatchStrided) throw new NotSupportedException($"This Intel MKL ({Mkl.Version}) has no cblas_sgemm_batch_strided.");
        if (m == 0 || n == 0 || batch == 0) return;
        MklNative.cblas_sgemm_batch_strided(MklNative.CblasRowMajor, Op(transA), Op(transB), m, n, k, alpha,
            a, lda, strideA, b, ldb, strideB, beta, c, ldc, strideC, batch);
    }

    private static int Op(bool trans) => trans ? MklNative.CblasTrans : MklNative.CblasNoTrans;
}
