using System.Collections.Concurrent;
using Dlc.Backend.Gemm;
using Dlc.Backend.Tests.Support;

namespace Dlc.Backend.Tests.Gemm;

/// <summary>
/// One GEMM problem with strided storage: A, B, C rows are padded (lda = cols + 3, ldb = cols + 5,
/// ldc = n + 7) and the padding holds NaN, so reading outside the matrices poisons the result and writing
/// there is caught. The double-precision reference and its error bound are computed once per problem and
/// shared by every provider.
/// </summary>
internal sealed class GemmCase
{
    public const float Alpha = 1.5f;
    public const float Beta = -0.75f;

    private static readonly ConcurrentDictionary<(int, int, int, bool, bool), Lazy<GemmCase>> Cache = new();

    public readonly int M, N, K, Lda, Ldb, Ldc;
    public readonly bool TransA, TransB;
    public readonly float[] A, B, C0;
    public readonly double[] Expected, Bound;

    private GemmCase(int m, int n, int k, bool transA, bool transB)
    {
        (M, N, K, TransA, TransB) = (m, n, k, transA, transB);
        var (aRows, aCols) = transA ? (k, m) : (m, k);
        var (bRows, bCols) = transB ? (n, k) : (k, n);
        (Lda, Ldb, Ldc) = (aCols + 3, bCols + 5, n + 7);
        A = Padded(aRows, aCols, Lda, 11);
        B = Padded(bRows, bCols, Ldb, 12);
        C0 = Padded(m, n, Ldc, 13);

        Expected = TestData.ToDouble(C0);
        ReferenceGemm.Gemm<double>(transA, transB, m, n, k, Alpha, TestData.ToDouble(A), Lda, TestData.ToDouble(B), Ldb, Beta, Expected, Ldc);

        // Worst-case bound for a float dot product of k terms in any order (with or without FMA):
        // |error| ≤ γ(k+2)·(|alpha|·Σ|a||b| + |beta·c|), γ(n) = n·u/(1 − n·u), u = 2^-24. An indexing or
        // blocking mistake moves elements by O(1), far beyond it.
        Bound = C0.Select(v => Math.Abs((double)v)).ToArray();
        ReferenceGemm.Gemm<double>(transA, transB, m, n, k, Math.Abs(Alpha), Abs(A), Lda, Abs(B), Ldb, Math.Abs(Beta), Bound, Ldc);
        var gamma = (k + 2) * Close.U / (1 - (k + 2) * Close.U);
        for (var i = 0; i < Bound.Length; i++) Bound[i] = gamma * Bound[i] + 1e-30;
    }

    public static GemmCase Get(int m, int n, int k, bool transA, bool transB) =>
        Cache.GetOrAdd((m, n, k, transA, transB), key => new Lazy<GemmCase>(() => new GemmCase(m, n, k, transA, transB))).Value;

    /// <summary>Runs the provider on a fresh copy of C and checks values, bound and untouched padding.</summary>
    public unsafe void Check(IGemm gemm)
    {
        var c = (float[])C0.Clone();
        fixed (float* pa = A, pb = B, pc = c)
            gemm.Sgemm(TransA, TransB, M, N, K, Alpha, pa, Lda, pb, Ldb, Beta, pc, Ldc);
        Compare(c, $"{gemm.Name} {(TransA ? "Aᵀ" : "A")}·{(TransB ? "Bᵀ" : "B")} m={M} n={N} k={K}");
    }

    /// <summary>The same with op(B) packed once beforehand, as a recurrent layer multiplies its w_hh at every step.</summary>
    public unsafe void CheckPacked(ManagedGemm gemm)
    {
        if (TransA) throw new InvalidOperationException("the packed product takes A as stored");
        var c = (float[])C0.Clone();
        var packed = new float[gemm.PackedSize(K, N)];
        fixed (float* pa = A, pb = B, pc = c, pp = packed)
        {
            gemm.PackB(TransB, K, N, pb, Ldb, pp);
            gemm.SgemmPacked(M, N, K, Alpha, pa, Lda, pp, Beta, pc, Ldc);
        }
        Compare(c, $"{gemm.Name} packed A·{(TransB ? "Bᵀ" : "B")} m={M} n={N} k={K}");
    }

    private void Compare(float[] c, string what)
    {
        for (var i = 0; i < M; i++)
        {
            for (var j = 0; j < N + 7; j++)
            {
                var index = i * Ldc + j;
                if (index >= c.Length) break;
                if (j >= N)
                {
                    float.IsNaN(c[index]).ShouldBeTrue($"{what}: padding at row {i}, column {j} was written");
                    continue;
                }
                var error = Math.Abs(c[index] - Expected[index]);
                if (!(error <= Bound[index]))
                    throw new ShouldAssertException($"{what}: C[{i},{j}] = {c[index]:G9}, expected {Expected[index]:G17}, bound {Bound[index]:G3}");
            }
        }
    }

    /// <summary>Providers by name; null when the provider cannot run here (MKL missing).</summary>
    public static IGemm? Provider(string name) => name switch
    {
        "mkl" => MklGate.Available() ? new MklGemm(2) : null,
        "managed-1" => new ManagedGemm(1),
        "managed-2" => new ManagedGemm(2),
        "managed-512-emulated" => new ManagedGemm(1, GemmIsa.Vector512),
        "managed-scalar" => new ManagedGemm(2, GemmIsa.Scalar),
        _ => throw new ArgumentException(name),
    };

    private static float[] Padded(int rows, int cols, int ld, ulong seed)
    {
        var values = new float[Math.Max(1, rows * ld)];
        Array.Fill(values, float.NaN);
        var rng = new Rng(seed + (ulong)(rows * 7919 + cols * 104729));
        for (var r = 0; r < rows; r++)
            for (var c = 0; c < cols; c++) values[r * ld + c] = rng.NextFloat() * 2 - 1;
        return values;
    }

    private static double[] Abs(float[] values) => values.Select(v => Math.Abs((double)v)).ToArray();
}
