namespace Dlc.Backend.Gemm;

/// <summary>Argument checks shared by the providers, so a bad call fails the same way everywhere (and MKL
/// never gets to print its own parameter error).</summary>
internal static class GemmArgs
{
    /// <summary>Rows and columns of the stored A and B, and of C.</summary>
    internal static (int Rows, int Cols) StoredA(bool transA, int m, int k) => transA ? (k, m) : (m, k);

    internal static (int Rows, int Cols) StoredB(bool transB, int k, int n) => transB ? (n, k) : (k, n);

    internal static void Validate(bool transA, bool transB, int m, int n, int k, int lda, int ldb, int ldc)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        var (_, aCols) = StoredA(transA, m, k);
        var (_, bCols) = StoredB(transB, k, n);
        if (lda < Math.Max(1, aCols)) throw new ArgumentOutOfRangeException(nameof(lda), lda, $"lda must be at least {Math.Max(1, aCols)}.");
        if (ldb < Math.Max(1, bCols)) throw new ArgumentOutOfRangeException(nameof(ldb), ldb, $"ldb must be at least {Math.Max(1, bCols)}.");
        if (ldc < Math.Max(1, n)) throw new ArgumentOutOfRangeException(nameof(ldc), ldc, $"ldc must be at least {Math.Max(1, n)}.");
    }

    /// <summary>Elements a row-major matrix with this shape and stride spans.</summary>
    internal static long Extent(int rows, int cols, int ld) => rows == 0 || cols == 0 ? 0 : (long)(rows - 1) * ld + cols;

    internal static unsafe void ValidatePointers(bool transA, bool transB, int m, int n, int k, float* a, float* b, float* c)
    {
        if (m == 0 || n == 0) return;
        if (c == null) throw new ArgumentNullException(nameof(c));
        if (k == 0) return;
        if (a == null) throw new ArgumentNullException(nameof(a));
        if (b == null) throw new ArgumentNullException(nameof(b));
    }
}
