using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Dlc.Backend.Gemm;

/// <summary>
/// The packing cases that turn rows of the stored matrix into columns of the packed one (A untransposed,
/// B transposed), done as 8×8 transposes in AVX registers: eight loads, 24 shuffles, eight stores per 64
/// values, where element-by-element copying costs a load and a store per value at strided addresses.
/// These packs are the NT and NN products' overhead (the forward pass and the input gradients), so they
/// decide how close those products come to the micro-kernel's own speed. Each method returns how many
/// values of k it packed (a multiple of 8); the caller's element loop packs the rest.
/// </summary>
internal static unsafe class GemmTranspose
{
    /// <summary>
    /// A strip of mr (6 or 8) rows of row-major A, row stride lda, into d as kc groups of mr values:
    /// d[p·mr + i] = src[i·lda + p].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static int PackRows(float* src, int lda, int mr, int kc, float* d)
    {
        if (!Avx.IsSupported || (mr != 6 && mr != 8)) return 0;
        var whole = kc & ~7;
        for (var p = 0; p < whole; p += 8)
        {
            var s = src + p;
            var r0 = Avx.LoadVector256(s);
            var r1 = Avx.LoadVector256(s + lda);
            var r2 = Avx.LoadVector256(s + 2L * lda);
            var r3 = Avx.LoadVector256(s + 3L * lda);
            var r4 = Avx.LoadVector256(s + 4L * lda);
            var r5 = Avx.LoadVector256(s + 5L * lda);
            var r6 = mr == 8 ? Avx.LoadVector256(s + 6L * lda) : Vector256<float>.Zero;
            var r7 = mr == 8 ? Avx.LoadVector256(s + 7L * lda) : Vector256<float>.Zero;
            Transpose(ref r0, ref r1, ref r2, ref r3, ref r4, ref r5, ref r6, ref r7);
            var dp = d + (long)p * mr;
            // With mr = 6 each 8-wide store spills two lanes into the next group, which the next store
            // overwrites; the last group is stored 6 wide so nothing past the strip is touched.
            Avx.Store(dp, r0);
            Avx.Store(dp + mr, r1);
            Avx.Store(dp + 2 * mr, r2);
            Avx.Store(dp + 3 * mr, r3);
            Avx.Store(dp + 4 * mr, r4);
            Avx.Store(dp + 5 * mr, r5);
            Avx.Store(dp + 6 * mr, r6);
            var last = dp + 7 * mr;
            if (mr == 8)
            {
                Avx.Store(last, r7);
            }
            else
            {
                Sse.Store(last, r7.GetLower());
                Sse.StoreLow(last + 4, r7.GetUpper());
            }
        }
        return whole;
    }

    /// <summary>
    /// A strip of nr (a multiple of 8) rows of stored Bᵀ (row stride ldb) into d as kc rows of nr values:
    /// d[p·nr + j] = src[j·ldb + p].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static int PackColumns(float* src, int ldb, int nr, int kc, float* d)
    {
        if (!Avx.IsSupported || nr % 8 != 0) return 0;
        var whole = kc & ~7;
        for (var g = 0; g < nr; g += 8)
        {
            var rows = src + (long)g * ldb;
            for (var p = 0; p < whole; p += 8) Block(rows + p, ldb, d + (long)p * nr + g, nr);
        }
        return whole;
    }

    /// <summary>dst[j·ldd + i] = src[i·srcStride + j] for i, j &lt; 8: one 8×8 block transposed through registers (AVX).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Block(float* src, long srcStride, float* dst, long ldd)
    {
        var r0 = Avx.LoadVector256(src);
        var r1 = Avx.LoadVector256(src + srcStride);
        var r2 = Avx.LoadVector256(src + 2 * srcStride);
        var r3 = Avx.LoadVector256(src + 3 * srcStride);
        var r4 = Avx.LoadVector256(src + 4 * srcStride);
        var r5 = Avx.LoadVector256(src + 5 * srcStride);
        var r6 = Avx.LoadVector256(src + 6 * srcStride);
        var r7 = Avx.LoadVector256(src + 7 * srcStride);
        Transpose(ref r0, ref r1, ref r2, ref r3, ref r4, ref r5, ref r6, ref r7);
        Avx.Store(dst, r0);
        Avx.Store(dst + ldd, r1);
        Avx.Store(dst + 2 * ldd, r2);
        Avx.Store(dst + 3 * ldd, r3);
        Avx.Store(dst + 4 * ldd, r4);
        Avx.Store(dst + 5 * ldd, r5);
        Avx.Store(dst + 6 * ldd, r6);
        Avx.Store(dst + 7 * ldd, r7);
    }

    /// <summary>In-register 8×8 transpose: afterwards rq holds what was lane q of r0..r7.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose(ref Vector256<float> r0, ref Vector256<float> r1, ref Vector256<float> r2, ref Vector256<float> r3,
        ref Vector256<float> r4, ref Vector256<float> r5, ref Vector256<float> r6, ref Vector256<float> r7)
    {
        var t0 = Avx.UnpackLow(r0, r1);
        var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3);
        var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5);
        var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7);
        var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44);
        var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44);
        var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44);
        var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44);
        var u7 = Avx.Shuffle(t5, t7, 0xEE);
        r0 = Avx.Permute2x128(u0, u4, 0x20);
        r1 = Avx.Permute2x128(u1, u5, 0x20);
        r2 = Avx.Permute2x128(u2, u6, 0x20);
        r3 = Avx.Permute2x128(u3, u7, 0x20);
        r4 = Avx.Permute2x128(u0, u4, 0x31);
        r5 = Avx.Permute2x128(u1, u5, 0x31);
        r6 = Avx.Permute2x128(u2, u6, 0x31);
        r7 = Avx.Permute2x128(u3, u7, 0x31);
    }
}
