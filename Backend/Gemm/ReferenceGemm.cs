using System.Numerics;

namespace Dlc.Backend.Gemm;

/// <summary>
/// The living definition of <see cref="IGemm.Sgemm"/>: a plain triple loop, generic so the gradient checker
/// and the tests can run it in double. Slow on purpose; only tests and checkers call it.
/// </summary>
public static class ReferenceGemm
{
    /// <summary>Row-major C[m×n] = alpha·op(A)·op(B) + beta·C, with the argument meaning of IGemm.Sgemm.</summary>
    public static void Gemm<T>(bool transA, bool transB, int m, int n, int k, T alpha, ReadOnlySpan<T> a, int lda,
        ReadOnlySpan<T> b, int ldb, T beta, Span<T> c, int ldc)
        where T : IFloatingPointIeee754<T>
    {
        GemmArgs.Validate(transA, transB, m, n, k, lda, ldb, ldc);
        var (aRows, aCols) = GemmArgs.StoredA(transA, m, k);
        var (bRows, bCols) = GemmArgs.StoredB(transB, k, n);
        if (m == 0 || n == 0) return;
        CheckLength(c.Length, GemmArgs.Extent(m, n, ldc), nameof(c));
        var readsInputs = k > 0 && alpha != T.Zero;
        if (readsInputs)
        {
            CheckLength(a.Length, GemmArgs.Extent(aRows, aCols, lda), nameof(a));
            CheckLength(b.Length, GemmArgs.Extent(bRows, bCols, ldb), nameof(b));
        }

        for (var i = 0; i < m; i++)
        {
            for (var j = 0; j < n; j++)
            {
                var sum = T.Zero;
                if (readsInputs)
                {
                    for (var p = 0; p < k; p++)
                    {
                        var aip = transA ? a[p * lda + i] : a[i * lda + p];
                        var bpj = transB ? b[j * ldb + p] : b[p * ldb + j];
                        sum += aip * bpj;
                    }
                }
                // beta = 0 overwrites without reading C, as BLAS does.
                var old = beta == T.Zero ? T.Zero : beta * c[i * ldc + j];
                c[i * ldc + j] = alpha * sum + old;
            }
        }
    }

    private static void CheckLength(int length, long needed, string name)
    {
        if (length < needed) throw new ArgumentException($"{name} holds {length} elements; the shape and stride need {needed}.", name);
    }
}
