using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Dlc.Backend.Kernels;

namespace Dlc.Backend.Gemm;

/// <summary>
/// One row of C from one row of A and B stored k×n, reading only the rows of B whose entry of a is not zero
/// (<see cref="RunRows"/>): a batch of one whose input has zeros (the background pixels of an image) or follows a ReLU.
/// </summary>
internal static unsafe partial class GemmRowKernel
{
    // Columns of C one pass over a's entries builds: eight 16-wide accumulators in registers.
    private const int RowBlock = 128;

    /// <summary>
    /// c[0..n) = alpha·a·B + beta·c for one row a of k floats and B [k×n] stored row by row, ldb apart, with AVX-512: a's
    /// entries are tested 16 at a time and the row of B of each one that is not zero is added in, 128 columns a pass, so
    /// the rows of zeros are never read. Reference BLAS's SGEMV skips zero entries the same way, so a NaN or infinity in a
    /// skipped row of B does not reach C; a NaN in a is not zero and does.
    /// <para>
    /// A batch-1 product streams B from L2 and little else, so it runs as fast as B's rows are read. 128 columns of a
    /// 784-deep B (one core's half of the MLP's first layer), one core, medians: Fashion-MNIST's first test image (66% of
    /// its pixels zero) 3.06 µs as dot products (<see cref="RunDots"/>) → 1.17 µs; half of the entries zero 3.07 → 1.91;
    /// none zero 3.06 → 3.19, which is why a product with B transposed keeps its dot products for an a with few zeros (see
    /// <see cref="SkippingPays"/>). Listing the nonzero entries first (compressed stores) measured slower, 1.41 – 1.62 µs.
    /// </para>
    /// </summary>
    internal static void RunRows(float* a, int k, float* b, long ldb, int n, float* c, float alpha, float beta)
    {
        var j = 0;
        for (; j + RowBlock <= n; j += RowBlock) Rows<AllColumns>(a, k, b + j, ldb, RowBlock, c + j, alpha, beta);
        if (j < n) Rows<FirstColumns>(a, k, b + j, ldb, n - j, c + j, alpha, beta);
    }

    /// <summary>
    /// Whether skipping a's zero entries (<see cref="RunRows"/> on a copy of B stored k×n) beats dot products with B's rows
    /// (<see cref="RunDots"/>): when at least one entry in eight is zero. With none zero, the rows ran about 4% slower.
    /// </summary>
    internal static bool SkippingPays(float* a, int k)
    {
        var nonzero = 0;
        for (var p0 = 0; p0 < k; p0 += 16) nonzero += BitOperations.PopCount(NonzeroLanes(a, p0, k));
        return 8 * nonzero <= 7 * k;
    }

    /// <summary>
    /// Whether <see cref="Rows{T}"/> masks its loads and stores to the first n columns: a type argument, so each gets its
    /// own code.
    /// </summary>
    private interface IColumnMask
    {
        static abstract bool Masked { get; }
    }

    /// <summary>All 128 columns: plain loads.</summary>
    private struct AllColumns : IColumnMask
    {
        public static bool Masked => false;
    }

    /// <summary>Fewer than 128 columns: each vector's loads masked to the columns it has.</summary>
    private struct FirstColumns : IColumnMask
    {
        public static bool Masked => true;
    }

    /// <summary>
    /// <see cref="RunRows"/> for up to 128 columns: one accumulator a vector, eight loads and FMAs a nonzero entry. With
    /// <see cref="FirstColumns"/> the loads are masked to the n columns there are (none for the vectors past n, whose sums
    /// are not stored), so nothing past a row's n floats is read.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows<T>(float* a, int k, float* b, long ldb, int n, float* c, float alpha, float beta) where T : struct, IColumnMask
    {
        Vector512<float> m0 = EvenOdd.FirstLanes16(n), m1 = EvenOdd.FirstLanes16(n - 16);
        Vector512<float> m2 = EvenOdd.FirstLanes16(n - 32), m3 = EvenOdd.FirstLanes16(n - 48);
        Vector512<float> m4 = EvenOdd.FirstLanes16(n - 64), m5 = EvenOdd.FirstLanes16(n - 80);
        Vector512<float> m6 = EvenOdd.FirstLanes16(n - 96), m7 = EvenOdd.FirstLanes16(n - 112);
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
        for (var p0 = 0; p0 < k; p0 += 16)
        {
            for (var bits = NonzeroLanes(a, p0, k); bits != 0; bits &= bits - 1)
            {
                var p = p0 + BitOperations.TrailingZeroCount(bits);
                var x = Vector512.Create(a[p]);
                var row = b + p * ldb;
                c0 = Vector512.FusedMultiplyAdd(x, Load<T>(row, m0), c0);
                c1 = Vector512.FusedMultiplyAdd(x, Load<T>(row + 16, m1), c1);
                c2 = Vector512.FusedMultiplyAdd(x, Load<T>(row + 32, m2), c2);
                c3 = Vector512.FusedMultiplyAdd(x, Load<T>(row + 48, m3), c3);
                c4 = Vector512.FusedMultiplyAdd(x, Load<T>(row + 64, m4), c4);
                c5 = Vector512.FusedMultiplyAdd(x, Load<T>(row + 80, m5), c5);
                c6 = Vector512.FusedMultiplyAdd(x, Load<T>(row + 96, m6), c6);
                c7 = Vector512.FusedMultiplyAdd(x, Load<T>(row + 112, m7), c7);
            }
        }
        StoreMasked(c, c0, m0, alpha, beta);
        StoreMasked(c + 16, c1, m1, alpha, beta);
        StoreMasked(c + 32, c2, m2, alpha, beta);
        StoreMasked(c + 48, c3, m3, alpha, beta);
        StoreMasked(c + 64, c4, m4, alpha, beta);
        StoreMasked(c + 80, c5, m5, alpha, beta);
        StoreMasked(c + 96, c6, m6, alpha, beta);
        StoreMasked(c + 112, c7, m7, alpha, beta);
    }

    /// <summary>A vector of 16 floats at p, masked to <paramref name="mask"/> when <typeparamref name="T"/> masks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Load<T>(float* p, Vector512<float> mask) where T : struct, IColumnMask =>
        T.Masked ? Avx512F.MaskLoad(p, mask, Vector512<float>.Zero) : Vector512.Load(p);

    /// <summary>The lanes of a[p0, min(p0 + 16, k)) that are not zero, as the low bits of the result (a NaN is not zero).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint NonzeroLanes(float* a, int p0, int k)
    {
        var x = p0 + 16 <= k ? Vector512.Load(a + p0) : Avx512F.MaskLoad(a + p0, EvenOdd.FirstLanes16(k - p0), Vector512<float>.Zero);
        return (uint)(~Vector512.Equals(x, Vector512<float>.Zero)).ExtractMostSignificantBits();
    }

    /// <summary>The lanes of c in <paramref name="mask"/> = alpha·v + beta·c (c not read when beta is 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreMasked(float* c, Vector512<float> v, Vector512<float> mask, float alpha, float beta)
    {
        var scaled = v * Vector512.Create(alpha);
        if (beta != 0f) scaled = Vector512.FusedMultiplyAdd(Avx512F.MaskLoad(c, mask, Vector512<float>.Zero), Vector512.Create(beta), scaled);
        Avx512F.MaskStore(c, mask, scaled);
    }
}
