using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Dlc.Backend.Gemm;

/// <summary>
/// One row of C from one row of op(A) and an unpacked B, untransposed (<see cref="Run"/>) or transposed
/// (<see cref="RunDots"/>): c = alpha·a·op(B) + beta·c. Used when C
/// has fewer rows than a micro-tile, where packing B would cost as much as the product. Eight accumulators
/// of 8 columns each stay in registers over the whole k loop, so C is written once and each B row segment
/// is read once; eight chains also cover the FMA latency.
/// </summary>
internal static unsafe partial class GemmRowKernel
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Run(float* a, int k, float* b, int ldb, int n, float* c, float alpha, float beta)
    {
        var j = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; j + 64 <= n; j += 64)
            {
                Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default;
                Vector256<float> c4 = default, c5 = default, c6 = default, c7 = default;
                var bp = b + j;
                for (var p = 0; p < k; p++, bp += ldb)
                {
                    var ap = Vector256.Create(a[p]);
                    c0 = Vector256.FusedMultiplyAdd(ap, Vector256.Load(bp), c0);
                    c1 = Vector256.FusedMultiplyAdd(ap, Vector256.Load(bp + 8), c1);
                    c2 = Vector256.FusedMultiplyAdd(ap, Vector256.Load(bp + 16), c2);
                    c3 = Vector256.FusedMultiplyAdd(ap, Vector256.Load(bp + 24), c3);
                    c4 = Vector256.FusedMultiplyAdd(ap, Vector256.Load(bp + 32), c4);
                    c5 = Vector256.FusedMultiplyAdd(ap, Vector256.Load(bp + 40), c5);
                    c6 = Vector256.FusedMultiplyAdd(ap, Vector256.Load(bp + 48), c6);
                    c7 = Vector256.FusedMultiplyAdd(ap, Vector256.Load(bp + 56), c7);
                }
                Store(c + j, c0, alpha, beta);
                Store(c + j + 8, c1, alpha, beta);
                Store(c + j + 16, c2, alpha, beta);
                Store(c + j + 24, c3, alpha, beta);
                Store(c + j + 32, c4, alpha, beta);
                Store(c + j + 40, c5, alpha, beta);
                Store(c + j + 48, c6, alpha, beta);
                Store(c + j + 56, c7, alpha, beta);
            }
            for (; j + 8 <= n; j += 8)
            {
                var acc = Vector256<float>.Zero;
                var bp = b + j;
                for (var p = 0; p < k; p++, bp += ldb) acc = Vector256.FusedMultiplyAdd(Vector256.Create(a[p]), Vector256.Load(bp), acc);
                Store(c + j, acc, alpha, beta);
            }
        }
        for (; j < n; j++)
        {
            var sum = 0f;
            var bp = b + j;
            for (var p = 0; p < k; p++, bp += ldb) sum = MathF.FusedMultiplyAdd(a[p], *bp, sum);
            c[j] = beta == 0f ? alpha * sum : alpha * sum + beta * c[j];
        }
    }

    /// <summary>
    /// Up to four rows of C at once from as many rows of A (lda apart) and an untransposed B, with AVX-512: each row of
    /// B, 64 columns at a time, is read once for all of them (sixteen accumulators), so B streams once per four rows
    /// rather than once per row. Rows past <paramref name="rows"/> repeat the last one and are not stored. The last
    /// columns (fewer than 64) take the same block, the vectors past them loaded and stored under masks: run row by row
    /// instead, 8 columns had one FMA chain and the rest a scalar chain each, strided through B, and the last 12 of 588
    /// columns took a third of a stride-2 convolution's product (16 → 32 channels, 3×3, one core).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Run4(float* a, long lda, int rows, int k, float* b, int ldb, int n, float* c, long ldc, float alpha, float beta)
    {
        float* a0 = a, a1 = rows > 1 ? a0 + lda : a0, a2 = rows > 2 ? a1 + lda : a1, a3 = rows > 3 ? a2 + lda : a2;
        var j = 0;
        for (; j + 64 <= n; j += 64) Block4<WholeVectors>(a0, a1, a2, a3, rows, k, b + j, ldb, 64, c + j, ldc, alpha, beta);
        if (j < n) Block4<LastVectors>(a0, a1, a2, a3, rows, k, b + j, ldb, n - j, c + j, ldc, alpha, beta);
    }

    /// <summary>Whether <see cref="Block4"/> covers fewer than 64 columns (masked loads and stores): a type argument, so each kind gets its own code.</summary>
    private interface IColumnsKind
    {
        static abstract bool Masked { get; }
    }

    private struct WholeVectors : IColumnsKind
    {
        public static bool Masked => false;
    }

    private struct LastVectors : IColumnsKind
    {
        public static bool Masked => true;
    }

    /// <summary><see cref="Run4"/>'s block: four rows by <paramref name="n"/> columns (64, or fewer under masks).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block4<T>(float* a0, float* a1, float* a2, float* a3, int rows, int k, float* b, int ldb, int n, float* c, long ldc,
        float alpha, float beta) where T : struct, IColumnsKind
    {
        Vector512<float> m0 = default, m1 = default, m2 = default, m3 = default;
        if (T.Masked)
        {
            (m0, m1) = (Kernels.EvenOdd.FirstLanes16(n), Kernels.EvenOdd.FirstLanes16(n - 16));
            (m2, m3) = (Kernels.EvenOdd.FirstLanes16(n - 32), Kernels.EvenOdd.FirstLanes16(n - 48));
        }
        Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default, c10 = default, c11 = default, c12 = default, c13 = default;
        Vector512<float> c20 = default, c21 = default, c22 = default, c23 = default, c30 = default, c31 = default, c32 = default, c33 = default;
        var zero = Vector512<float>.Zero;
        var bp = b;
        for (var p = 0; p < k; p++, bp += ldb)
        {
            var y0 = T.Masked ? Avx512F.MaskLoad(bp, m0, zero) : Vector512.Load(bp);
            var y1 = T.Masked ? Avx512F.MaskLoad(bp + 16, m1, zero) : Vector512.Load(bp + 16);
            var y2 = T.Masked ? Avx512F.MaskLoad(bp + 32, m2, zero) : Vector512.Load(bp + 32);
            var y3 = T.Masked ? Avx512F.MaskLoad(bp + 48, m3, zero) : Vector512.Load(bp + 48);
            var x = Vector512.Create(a0[p]);
            c00 = Vector512.FusedMultiplyAdd(x, y0, c00);
            c01 = Vector512.FusedMultiplyAdd(x, y1, c01);
            c02 = Vector512.FusedMultiplyAdd(x, y2, c02);
            c03 = Vector512.FusedMultiplyAdd(x, y3, c03);
            x = Vector512.Create(a1[p]);
            c10 = Vector512.FusedMultiplyAdd(x, y0, c10);
            c11 = Vector512.FusedMultiplyAdd(x, y1, c11);
            c12 = Vector512.FusedMultiplyAdd(x, y2, c12);
            c13 = Vector512.FusedMultiplyAdd(x, y3, c13);
            x = Vector512.Create(a2[p]);
            c20 = Vector512.FusedMultiplyAdd(x, y0, c20);
            c21 = Vector512.FusedMultiplyAdd(x, y1, c21);
            c22 = Vector512.FusedMultiplyAdd(x, y2, c22);
            c23 = Vector512.FusedMultiplyAdd(x, y3, c23);
            x = Vector512.Create(a3[p]);
            c30 = Vector512.FusedMultiplyAdd(x, y0, c30);
            c31 = Vector512.FusedMultiplyAdd(x, y1, c31);
            c32 = Vector512.FusedMultiplyAdd(x, y2, c32);
            c33 = Vector512.FusedMultiplyAdd(x, y3, c33);
        }
        if (!T.Masked)
        {
            StoreRow(c, c00, c01, c02, c03, alpha, beta);
            if (rows > 1) StoreRow(c + ldc, c10, c11, c12, c13, alpha, beta);
            if (rows > 2) StoreRow(c + 2 * ldc, c20, c21, c22, c23, alpha, beta);
            if (rows > 3) StoreRow(c + 3 * ldc, c30, c31, c32, c33, alpha, beta);
            return;
        }
        StoreRowMasked(c, c00, c01, c02, c03, m0, m1, m2, m3, alpha, beta);
        if (rows > 1) StoreRowMasked(c + ldc, c10, c11, c12, c13, m0, m1, m2, m3, alpha, beta);
        if (rows > 2) StoreRowMasked(c + 2 * ldc, c20, c21, c22, c23, m0, m1, m2, m3, alpha, beta);
        if (rows > 3) StoreRowMasked(c + 3 * ldc, c30, c31, c32, c33, m0, m1, m2, m3, alpha, beta);
    }

    /// <summary>Sixty-four floats of C: alpha·v + beta·C (C not read when beta is 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(float* c, Vector512<float> v0, Vector512<float> v1, Vector512<float> v2, Vector512<float> v3, float alpha, float beta)
    {
        var scale = Vector512.Create(alpha);
        if (beta == 0f)
        {
            (v0 * scale).Store(c);
            (v1 * scale).Store(c + 16);
            (v2 * scale).Store(c + 32);
            (v3 * scale).Store(c + 48);
            return;
        }
        var keep = Vector512.Create(beta);
        Vector512.FusedMultiplyAdd(Vector512.Load(c), keep, v0 * scale).Store(c);
        Vector512.FusedMultiplyAdd(Vector512.Load(c + 16), keep, v1 * scale).Store(c + 16);
        Vector512.FusedMultiplyAdd(Vector512.Load(c + 32), keep, v2 * scale).Store(c + 32);
        Vector512.FusedMultiplyAdd(Vector512.Load(c + 48), keep, v3 * scale).Store(c + 48);
    }

    /// <summary><see cref="StoreRow"/> under masks: only the lanes each mask sets are read and written.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRowMasked(float* c, Vector512<float> v0, Vector512<float> v1, Vector512<float> v2, Vector512<float> v3,
        Vector512<float> m0, Vector512<float> m1, Vector512<float> m2, Vector512<float> m3, float alpha, float beta)
    {
        var (scale, keep, zero) = (Vector512.Create(alpha), Vector512.Create(beta), Vector512<float>.Zero);
        if (beta != 0f)
        {
            v0 = Vector512.FusedMultiplyAdd(Avx512F.MaskLoad(c, m0, zero), keep, v0 * scale);
            v1 = Vector512.FusedMultiplyAdd(Avx512F.MaskLoad(c + 16, m1, zero), keep, v1 * scale);
            v2 = Vector512.FusedMultiplyAdd(Avx512F.MaskLoad(c + 32, m2, zero), keep, v2 * scale);
            v3 = Vector512.FusedMultiplyAdd(Avx512F.MaskLoad(c + 48, m3, zero), keep, v3 * scale);
        }
        else
        {
            (v0, v1, v2, v3) = (v0 * scale, v1 * scale, v2 * scale, v3 * scale);
        }
        Avx512F.MaskStore(c, m0, v0);
        Avx512F.MaskStore(c + 16, m1, v1);
        Avx512F.MaskStore(c + 32, m2, v2);
        Avx512F.MaskStore(c + 48, m3, v3);
    }

    /// <summary>
    /// One row of C from one row of op(A) and a B stored transposed (n rows of k): c[j] = alpha·(a · B row j) + beta·c[j].
    /// Four rows of B at a time, two vectors of each a step: eight FMA chains, and each vector of a read once for four
    /// columns. Its own kernel rather than TensorPrimitives.Dot a column, which runs unoptimised for the first hundred or
    /// so calls of a process: a plan at batch 1 took 500 µs a run there instead of 15, and lost its provider trial.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void RunDots(float* a, int k, float* b, int ldb, int n, float* c, float alpha, float beta)
    {
        var j = 0;
        if (Avx512F.IsSupported && k >= 16)
        {
            // One 16-wide vector of each of four rows a step, one chain each, the four sums reduced together (Sum4): B
            // streams from L2 at the speed of a plain read, 127 – 131 GB/s, against the 8-wide kernel's 65 – 90 (256×784 on
            // one core, hot in L2: 8.9 → 6.2 µs; 256×256 3.5 → 2.0 µs). Reduced one row at a time, the 16-wide kernel ran
            // 7.2 and 2.7 µs; two chains of two rows, half as fast.
            var wide = k / 16 * 16;
            for (; j + 4 <= n; j += 4)
            {
                float* b0 = b + (long)j * ldb, b1 = b0 + ldb, b2 = b1 + ldb, b3 = b2 + ldb;
                Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
                for (var p = 0; p < wide; p += 16)
                {
                    var x = Vector512.Load(a + p);
                    s0 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b0 + p), s0);
                    s1 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b1 + p), s1);
                    s2 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b2 + p), s2);
                    s3 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b3 + p), s3);
                }
                StoreFour(c + j, Sum4(s0, s1, s2, s3), a, b0, ldb, wide, k, alpha, beta);
            }
            // The last columns one at a time, still vectorised: a scalar chain of 256 steps took about 0.35 µs a column.
            for (; j < n; j++)
            {
                var bj = b + (long)j * ldb;
                var sum = Vector512<float>.Zero;
                for (var p = 0; p < wide; p += 16) sum = Vector512.FusedMultiplyAdd(Vector512.Load(a + p), Vector512.Load(bj + p), sum);
                StoreDot(c + j, Vector512.Sum(sum), a, bj, wide, k, alpha, beta);
            }
            return;
        }
        var vectors = Vector256.IsHardwareAccelerated ? k / 16 * 16 : 0;
        for (; j + 4 <= n && vectors > 0; j += 4)
        {
            float* b0 = b + (long)j * ldb, b1 = b0 + ldb, b2 = b1 + ldb, b3 = b2 + ldb;
            Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
            Vector256<float> t0 = default, t1 = default, t2 = default, t3 = default;
            for (var p = 0; p < vectors; p += 16)
            {
                var x = Vector256.Load(a + p);
                var y = Vector256.Load(a + p + 8);
                s0 = Vector256.FusedMultiplyAdd(x, Vector256.Load(b0 + p), s0);
                t0 = Vector256.FusedMultiplyAdd(y, Vector256.Load(b0 + p + 8), t0);
                s1 = Vector256.FusedMultiplyAdd(x, Vector256.Load(b1 + p), s1);
                t1 = Vector256.FusedMultiplyAdd(y, Vector256.Load(b1 + p + 8), t1);
                s2 = Vector256.FusedMultiplyAdd(x, Vector256.Load(b2 + p), s2);
                t2 = Vector256.FusedMultiplyAdd(y, Vector256.Load(b2 + p + 8), t2);
                s3 = Vector256.FusedMultiplyAdd(x, Vector256.Load(b3 + p), s3);
                t3 = Vector256.FusedMultiplyAdd(y, Vector256.Load(b3 + p + 8), t3);
            }
            StoreFour(c + j, Sum4(s0 + t0, s1 + t1, s2 + t2, s3 + t3), a, b0, ldb, vectors, k, alpha, beta);
        }
        for (; j < n; j++)
        {
            var bj = b + (long)j * ldb;
            var sum = Vector256<float>.Zero;
            for (var p = 0; p < vectors; p += 8) sum = Vector256.FusedMultiplyAdd(Vector256.Load(a + p), Vector256.Load(bj + p), sum);
            StoreDot(c + j, Vector256.Sum(sum), a, bj, vectors, k, alpha, beta);
        }
    }

    /// <summary>
    /// Up to four rows of C at once from as many rows of op(A) (lda apart) and a B stored transposed, with AVX-512:
    /// each vector of four B rows is read once for all of them, sixteen FMA chains a step, so B streams once per four
    /// rows rather than once per row. Rows past <paramref name="rows"/> repeat the last one: their sums are computed and
    /// not stored. Needs k ≥ 16 (see <see cref="RunDots"/> otherwise).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void RunDots4(float* a, long lda, int rows, int k, float* b, int ldb, int n, float* c, long ldc, float alpha, float beta)
    {
        float* a0 = a, a1 = rows > 1 ? a0 + lda : a0, a2 = rows > 2 ? a1 + lda : a1, a3 = rows > 3 ? a2 + lda : a2;
        // At most two rows: eight chains, half the multiply-adds of four (MLP inference plan, alternating medians: batch 2
        // 13.8 / 14.6 → 11.5 / 11.7 µs; batch 6, whose last four rows are two, 20.4 / 24.5 → 18.7 / 22.5 µs).
        var j = rows <= 2
            ? DotGroups<TwoRows>(a0, a1, a2, a3, rows, k, b, ldb, n, c, ldc, alpha, beta)
            : DotGroups<FourRows>(a0, a1, a2, a3, rows, k, b, ldb, n, c, ldc, alpha, beta);
        if (j == n) return;
        if (j > 0)
        {
            // The last one to three columns as a group of four ending at n, overlapping the group before it; only its new
            // columns are stored. Each row's dot products alone took a third of the time for a classifier's 10 columns
            // (two threads, alternating medians: NT 1000×10×256 with bias 79.7 / 71.7 → 63.3 / 56.0 µs, 128×10×256 11.8 →
            // 10.0, 1000×6×256 61.7 → 48.4).
            var last = n - 4;
            var sums = stackalloc float[16];
            if (rows <= 2) DotGroups<TwoRows>(a0, a1, a2, a3, rows, k, b + (long)last * ldb, ldb, 4, sums, 4, 1f, 0f);
            else DotGroups<FourRows>(a0, a1, a2, a3, rows, k, b + (long)last * ldb, ldb, 4, sums, 4, 1f, 0f);
            for (var i = 0; i < rows; i++)
            for (var q = j; q < n; q++)
            {
                var ci = c + i * ldc + q;
                var dot = alpha * sums[i * 4 + q - last];
                *ci = beta == 0f ? dot : dot + beta * *ci;
            }
            return;
        }
        // Fewer than four columns: each row on its own.
        for (var i = 0; i < rows; i++) RunDots(a + i * lda, k, b + (long)j * ldb, ldb, n - j, c + i * ldc + j, alpha, beta);
    }

    /// <summary>Whether <see cref="DotGroups"/> runs rows 2 and 3 too: a type argument, so each count gets its own code.</summary>
    private interface IRowCount
    {
        static abstract bool Four { get; }
    }

    private struct TwoRows : IRowCount
    {
        public static bool Four => false;
    }

    private struct FourRows : IRowCount
    {
        public static bool Four => true;
    }

    /// <summary>
    /// <see cref="RunDots4"/>'s groups of four columns, for rows a0 … a3 (two with <see cref="TwoRows"/>); returns the first
    /// column it did not reach.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int DotGroups<T>(float* a0, float* a1, float* a2, float* a3, int rows, int k, float* b, int ldb, int n, float* c, long ldc,
        float alpha, float beta) where T : struct, IRowCount
    {
        var wide = k / 16 * 16;
        // The last k mod 16 terms' lanes (see below), made here: a call after the loop (this one's class check) made the
        // JIT store each of the loop's sums to the stack after every FMA in it, the MLP's inference at batch 32 4 times slower.
        var mask = Kernels.EvenOdd.FirstLanes16(k - wide);
        var j = 0;
        for (; j + 4 <= n; j += 4)
        {
            float* b0 = b + (long)j * ldb, b1 = b0 + ldb, b2 = b1 + ldb, b3 = b2 + ldb;
            Vector512<float> s00 = default, s01 = default, s02 = default, s03 = default, s10 = default, s11 = default, s12 = default, s13 = default;
            Vector512<float> s20 = default, s21 = default, s22 = default, s23 = default, s30 = default, s31 = default, s32 = default, s33 = default;
            for (var p = 0; p < wide; p += 16)
            {
                var y0 = Vector512.Load(b0 + p);
                var y1 = Vector512.Load(b1 + p);
                var y2 = Vector512.Load(b2 + p);
                var y3 = Vector512.Load(b3 + p);
                var x = Vector512.Load(a0 + p);
                s00 = Vector512.FusedMultiplyAdd(x, y0, s00);
                s01 = Vector512.FusedMultiplyAdd(x, y1, s01);
                s02 = Vector512.FusedMultiplyAdd(x, y2, s02);
                s03 = Vector512.FusedMultiplyAdd(x, y3, s03);
                x = Vector512.Load(a1 + p);
                s10 = Vector512.FusedMultiplyAdd(x, y0, s10);
                s11 = Vector512.FusedMultiplyAdd(x, y1, s11);
                s12 = Vector512.FusedMultiplyAdd(x, y2, s12);
                s13 = Vector512.FusedMultiplyAdd(x, y3, s13);
                if (!T.Four) continue;
                x = Vector512.Load(a2 + p);
                s20 = Vector512.FusedMultiplyAdd(x, y0, s20);
                s21 = Vector512.FusedMultiplyAdd(x, y1, s21);
                s22 = Vector512.FusedMultiplyAdd(x, y2, s22);
                s23 = Vector512.FusedMultiplyAdd(x, y3, s23);
                x = Vector512.Load(a3 + p);
                s30 = Vector512.FusedMultiplyAdd(x, y0, s30);
                s31 = Vector512.FusedMultiplyAdd(x, y1, s31);
                s32 = Vector512.FusedMultiplyAdd(x, y2, s32);
                s33 = Vector512.FusedMultiplyAdd(x, y3, s33);
            }
            if (wide < k)
            {
                // The last k mod 16 terms under a mask, in the same chains: left to StoreFour, each of the sixteen sums took
                // them one scalar FMA after another (a stride-2 convolution's weight gradient, 588 deep, spent a fifth of
                // its product there).
                var y0 = Avx512F.MaskLoad(b0 + wide, mask, Vector512<float>.Zero);
                var y1 = Avx512F.MaskLoad(b1 + wide, mask, Vector512<float>.Zero);
                var y2 = Avx512F.MaskLoad(b2 + wide, mask, Vector512<float>.Zero);
                var y3 = Avx512F.MaskLoad(b3 + wide, mask, Vector512<float>.Zero);
                var x = Avx512F.MaskLoad(a0 + wide, mask, Vector512<float>.Zero);
                s00 = Vector512.FusedMultiplyAdd(x, y0, s00);
                s01 = Vector512.FusedMultiplyAdd(x, y1, s01);
                s02 = Vector512.FusedMultiplyAdd(x, y2, s02);
                s03 = Vector512.FusedMultiplyAdd(x, y3, s03);
                x = Avx512F.MaskLoad(a1 + wide, mask, Vector512<float>.Zero);
                s10 = Vector512.FusedMultiplyAdd(x, y0, s10);
                s11 = Vector512.FusedMultiplyAdd(x, y1, s11);
                s12 = Vector512.FusedMultiplyAdd(x, y2, s12);
                s13 = Vector512.FusedMultiplyAdd(x, y3, s13);
                if (T.Four)
                {
                    x = Avx512F.MaskLoad(a2 + wide, mask, Vector512<float>.Zero);
                    s20 = Vector512.FusedMultiplyAdd(x, y0, s20);
                    s21 = Vector512.FusedMultiplyAdd(x, y1, s21);
                    s22 = Vector512.FusedMultiplyAdd(x, y2, s22);
                    s23 = Vector512.FusedMultiplyAdd(x, y3, s23);
                    x = Avx512F.MaskLoad(a3 + wide, mask, Vector512<float>.Zero);
                    s30 = Vector512.FusedMultiplyAdd(x, y0, s30);
                    s31 = Vector512.FusedMultiplyAdd(x, y1, s31);
                    s32 = Vector512.FusedMultiplyAdd(x, y2, s32);
                    s33 = Vector512.FusedMultiplyAdd(x, y3, s33);
                }
            }
            StoreFour(c + j, Sum4(s00, s01, s02, s03), a0, b0, ldb, k, k, alpha, beta);
            if (rows > 1) StoreFour(c + ldc + j, Sum4(s10, s11, s12, s13), a1, b0, ldb, k, k, alpha, beta);
            if (!T.Four) continue;
            if (rows > 2) StoreFour(c + 2 * ldc + j, Sum4(s20, s21, s22, s23), a2, b0, ldb, k, k, alpha, beta);
            if (rows > 3) StoreFour(c + 3 * ldc + j, Sum4(s30, s31, s32, s33), a3, b0, ldb, k, k, alpha, beta);
        }
        return j;
    }

    /// <summary>
    /// Four columns' dot products into c[0..4) (c = alpha·dot + beta·c): <paramref name="sums"/> holds each one's first
    /// <paramref name="from"/> terms (rows of B <paramref name="ldb"/> apart from b0); one vector store when that is all of k.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreFour(float* c, Vector128<float> sums, float* a, float* b0, long ldb, int from, int k, float alpha, float beta)
    {
        if (from == k)
        {
            var scaled = sums * Vector128.Create(alpha);
            if (beta != 0f) scaled += Vector128.Load(c) * Vector128.Create(beta);
            scaled.Store(c);
            return;
        }
        for (var i = 0; i < 4; i++) StoreDot(c + i, sums.GetElement(i), a, b0 + i * ldb, from, k, alpha, beta);
    }

    /// <summary>The sums of four 8-wide vectors' lanes, as one vector (horizontal adds, then the two halves).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Sum4(Vector256<float> v0, Vector256<float> v1, Vector256<float> v2, Vector256<float> v3)
    {
        if (!Avx.IsSupported) return Vector128.Create(Vector256.Sum(v0), Vector256.Sum(v1), Vector256.Sum(v2), Vector256.Sum(v3));
        var h = Avx.HorizontalAdd(Avx.HorizontalAdd(v0, v1), Avx.HorizontalAdd(v2, v3));
        return h.GetLower() + h.GetUpper();
    }

    /// <summary>
    /// The sums of four vectors' lanes, as one vector: 128-bit blocks of the four added pairwise across them (two levels of
    /// block shuffles), then the four lanes of each block, so each sum costs a few shuffles and adds rather than a whole
    /// horizontal reduction.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Sum4(Vector512<float> s0, Vector512<float> s1, Vector512<float> s2, Vector512<float> s3)
    {
        // Blocks 0 + 2 and 1 + 3 of s0 (then s1) side by side; likewise s2 and s3.
        var u01 = Avx512F.Shuffle4x128(s0, s1, 0b01_00_01_00) + Avx512F.Shuffle4x128(s0, s1, 0b11_10_11_10);
        var u23 = Avx512F.Shuffle4x128(s2, s3, 0b01_00_01_00) + Avx512F.Shuffle4x128(s2, s3, 0b11_10_11_10);
        // Block i: four partial sums of s_i.
        var w = Avx512F.Shuffle4x128(u01, u23, 0b10_00_10_00) + Avx512F.Shuffle4x128(u01, u23, 0b11_01_11_01);
        // Every lane of block i: the sum of s_i.
        w += Avx512F.Shuffle(w, w, 0b10_11_00_01);
        w += Avx512F.Shuffle(w, w, 0b01_00_11_10);
        return Avx512F.PermuteVar16x32(w, Vector512.Create(0, 4, 8, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)).GetLower().GetLower();
    }

    /// <summary>c = alpha·(sum + a[from..k] · b[from..k]) + beta·c (c not read when beta is 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreDot(float* c, float sum, float* a, float* b, int from, int k, float alpha, float beta)
    {
        for (var p = from; p < k; p++) sum = MathF.FusedMultiplyAdd(a[p], b[p], sum);
        *c = beta == 0f ? alpha * sum : alpha * sum + beta * *c;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* c, Vector256<float> acc, float alpha, float beta)
    {
        var scaled = acc * Vector256.Create(alpha);
        if (beta != 0f) scaled = Vector256.FusedMultiplyAdd(Vector256.Load(c), Vector256.Create(beta), scaled);
        scaled.Store(c);
    }
}
