using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Dlc.Backend.Gemm;

/// <summary>
/// Copies blocks of op(A) and op(B) into the layout the micro-kernels stream through: A as strips of mr rows
/// stored column by column (kc × mr), B as strips of nr columns stored row by row (kc × nr), zero padded to
/// whole strips so the kernels never branch on edges. Packing also folds the transposes away.
/// </summary>
internal static unsafe class GemmPacking
{
    [ThreadStatic] private static float[]? t_buffer;

    /// <summary>
    /// Rows of a transposed A the pack asks for ahead of the one it copies. Its rows are a whole row of A apart (2 KB
    /// for a layer of 512), and the hardware's prefetchers did not bring them in time: each row's lines were waited
    /// for. Four rows ahead made weight gradients 2 – 6% faster (TN 512×128×2048 and 384×128×2048 with the bias sums,
    /// two threads, cold, alternating, medians of 61), and changed nothing where A is narrow (128×512×2048).
    /// </summary>
    private const int RowsAhead = 4;

    /// <summary>This thread's pack buffer, 64-byte aligned, grown on demand and kept for later calls.</summary>
    internal static float* ThreadBuffer(int floats)
    {
        var buffer = t_buffer;
        if (buffer is null || buffer.Length < floats + 16)
        {
            // Pinned, so the pointer stays valid; 16 spare floats leave room to align to 64 bytes.
            buffer = GC.AllocateUninitializedArray<float>(floats + 16, pinned: true);
            t_buffer = buffer;
        }
        var start = (nuint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buffer));
        return (float*)((start + 63) & ~(nuint)63);
    }

    /// <summary>Packs op(A)[row0..row0+mc, col0..col0+kc] (op(A) is m×k) into strips of mr rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void PackA(bool transA, float* a, int lda, int row0, int col0, int mc, int kc, int mr, float* dst)
    {
        var packed = transA ? PackTransposedStrips(a, lda, row0, col0, mc, kc, mr, dst) : 0;
        for (var s = packed; s < mc; s += mr)
        {
            var rows = Math.Min(mr, mc - s);
            var d = dst + (long)s * kc;
            if (transA)
            {
                // Stored A is k×m: the mr values of one p are contiguous.
                for (var p = 0; p < kc; p++)
                {
                    var src = a + (long)(col0 + p) * lda + row0 + s;
                    var dp = d + p * mr;
                    for (var i = 0; i < rows; i++) dp[i] = src[i];
                    for (var i = rows; i < mr; i++) dp[i] = 0f;
                }
            }
            else
            {
                var src = a + (long)(row0 + s) * lda + col0;
                // Whole strips go through 8×8 register transposes, eight values of k at a time.
                var p0 = rows == mr ? GemmTranspose.PackRows(src, lda, mr, kc, d) : 0;
                for (var i = 0; i < rows; i++)
                {
                    var si = src + (long)i * lda;
                    for (var p = p0; p < kc; p++) d[p * mr + i] = si[p];
                }
                for (var i = rows; i < mr; i++)
                    for (var p = p0; p < kc; p++) d[p * mr + i] = 0f;
            }
        }
    }

    /// <summary>
    /// The whole strips of a transposed A's block (stored k×m, so one p's values of a strip are contiguous), a source
    /// row at a time: each row's mc values are read front to back and each strip's mr of them moved as one or two
    /// vectors (6 = 4 + 2), where element-by-element copying costs a load and a store per value. This pack is the
    /// weight gradients' overhead (A is the layer input, thousands of rows deep), and it was about a tenth of their
    /// time. Returns how many rows of the block it packed; the caller packs the ragged last strip.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int PackTransposedStrips(float* a, int lda, int row0, int col0, int mc, int kc, int mr, float* dst)
    {
        if (!Vector128.IsHardwareAccelerated || (mr != 6 && mr != 8)) return 0;
        var whole = mc / mr * mr;
        var strip = (long)kc * mr;
        for (var p = 0; p < kc; p++)
        {
            var src = a + (long)(col0 + p) * lda + row0;
            if (p + RowsAhead < kc && Sse.IsSupported)
            {
                var ahead = src + RowsAhead * (long)lda;
                for (var f = 0; f < mc; f += 16) Sse.Prefetch0(ahead + f);
            }
            var dp = dst + p * mr;
            for (var s = 0; s < whole; s += mr, dp += strip)
            {
                Vector128.Load(src + s).Store(dp);
                if (mr == 8) Vector128.Load(src + s + 4).Store(dp + 4);
                else Vector64.Load(src + s + 4).Store(dp + 4);
            }
        }
        return whole;
    }

    /// <summary>Packs op(B)[row0..row0+kc, col0..col0+nc] (op(B) is k×n) into strips of nr columns.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void PackB(bool transB, float* b, int ldb, int row0, int col0, int kc, int nc, int nr, float* dst)
    {
        // Stored B is k×n: whole panels are copied a source row at a time, so B is read front to back (a weight
        // gradient's B is thousands of rows, far from cache) with the row's pieces stored into each panel.
        var whole = !transB && nr % 8 == 0 && Vector256.IsHardwareAccelerated ? nc / nr * nr : 0;
        if (whole > 0)
        {
            for (var p = 0; p < kc; p++)
            {
                var src = b + (long)(row0 + p) * ldb + col0;
                for (var s = 0; s < whole; s += nr)
                {
                    var dp = dst + (long)s * kc + p * nr;
                    for (var v = 0; v < nr; v += 8) Vector256.Load(src + s + v).Store(dp + v);
                }
            }
        }
        for (var s = whole; s < nc; s += nr)
        {
            var cols = Math.Min(nr, nc - s);
            var d = dst + (long)s * kc;
            if (transB)
            {
                // Stored B is n×k. Walking p outside keeps the cols source rows hot in L1 while each
                // destination row of nr floats is written contiguously.
                var src = b + (long)(col0 + s) * ldb + row0;
                var p0 = cols == nr ? GemmTranspose.PackColumns(src, ldb, nr, kc, d) : 0;
                for (var p = p0; p < kc; p++)
                {
                    var dp = d + p * nr;
                    var sp = src + p;
                    for (var j = 0; j < cols; j++) dp[j] = sp[(long)j * ldb];
                    for (var j = cols; j < nr; j++) dp[j] = 0f;
                }
            }
            else
            {
                for (var p = 0; p < kc; p++)
                {
                    var src = b + (long)(row0 + p) * ldb + col0 + s;
                    var dp = d + p * nr;
                    new ReadOnlySpan<float>(src, cols).CopyTo(new Span<float>(dp, cols));
                    for (var j = cols; j < nr; j++) dp[j] = 0f;
                }
            }
        }
    }
}
