using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Dlc.Backend.Gemm;

/// <summary>Which micro-kernel ManagedGemm runs; picked from the hardware at construction.</summary>
internal enum GemmIsa
{
    Scalar,
    Vector256,
    Vector512,
}

/// <summary>
/// Register-blocked micro-kernels: C[mr×nr] = alpha·Apanel·Bpanel + beta·C over packed panels (see
/// GemmPacking). Each keeps its whole C tile in registers: 6×16 uses 12 of AVX2's 16 ymm registers for
/// accumulators (12 independent FMA chains hide the FMA latency), 8×32 uses 16 of AVX-512's 32 zmm.
/// beta = 0 writes C without reading it.
/// </summary>
internal static unsafe class GemmKernels
{
    internal static (int Mr, int Nr) TileOf(GemmIsa isa) => isa switch
    {
        GemmIsa.Vector512 => (8, 32),
        GemmIsa.Vector256 => (6, 16),
        _ => (4, 4),
    };

    internal static void Run(GemmIsa isa, int kc, float* a, float* b, float* c, int ldc, float alpha, float beta)
    {
        switch (isa)
        {
            case GemmIsa.Vector512: Kernel8x32(kc, a, b, c, ldc, alpha, beta); break;
            case GemmIsa.Vector256: Kernel6x16(kc, a, b, c, ldc, alpha, beta); break;
            default: Kernel4x4(kc, a, b, c, ldc, alpha, beta); break;
        }
    }

    /// <summary>
    /// An edge tile of <paramref name="rows"/> &lt; mr full-width rows written straight into C, when a kernel for
    /// fewer rows exists (AVX2: up to 4 of the 6): cheaper than the full tile into scratch and a copy. A batch of 16
    /// split as 6 + 6 + 4 rows then costs 16 rows' work, not 18.
    /// </summary>
    internal static bool RunRows(GemmIsa isa, int rows, int kc, float* a, float* b, float* c, int ldc, float alpha, float beta)
    {
        if (isa != GemmIsa.Vector256 || rows > 4) return false;
        Kernel4x16(rows, kc, a, b, c, ldc, alpha, beta);
        return true;
    }

    /// <summary>Rows 0 … rows − 1 (at most 4) of a 6×16 tile: A's panel is still 6 wide; its rows past the edge are zeros.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel4x16(int rows, int kc, float* a, float* b, float* c, int ldc, float alpha, float beta)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default;
        for (var p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var ai = Vector256.Create(a[0]);
            c00 = Vector256.FusedMultiplyAdd(ai, b0, c00);
            c01 = Vector256.FusedMultiplyAdd(ai, b1, c01);
            ai = Vector256.Create(a[1]);
            c10 = Vector256.FusedMultiplyAdd(ai, b0, c10);
            c11 = Vector256.FusedMultiplyAdd(ai, b1, c11);
            ai = Vector256.Create(a[2]);
            c20 = Vector256.FusedMultiplyAdd(ai, b0, c20);
            c21 = Vector256.FusedMultiplyAdd(ai, b1, c21);
            ai = Vector256.Create(a[3]);
            c30 = Vector256.FusedMultiplyAdd(ai, b0, c30);
            c31 = Vector256.FusedMultiplyAdd(ai, b1, c31);
            a += 6;
            b += 16;
        }
        Store256(c, c00, c01, alpha, beta);
        if (rows > 1) Store256(c + ldc, c10, c11, alpha, beta);
        if (rows > 2) Store256(c + 2 * ldc, c20, c21, alpha, beta);
        if (rows > 3) Store256(c + 3 * ldc, c30, c31, alpha, beta);
    }

    /// <summary>How a tile's rows leave the registers: scaled and stored, or with a fused epilogue applied on the way.</summary>
    internal interface ITileStore
    {
        /// <summary>Row <paramref name="row"/> of a 6×16 tile (v0, v1: its sixteen sums) into c, which points at that row.</summary>
        static abstract void Store(float* c, int row, Vector256<float> v0, Vector256<float> v1, float alpha, float beta, in TileEpilogue e);

        /// <summary>Row <paramref name="row"/> of an 8×32 tile (v0, v1: its thirty-two sums) into c, which points at that row.</summary>
        static abstract void Store(float* c, int row, Vector512<float> v0, Vector512<float> v1, float alpha, float beta, in TileEpilogue e);
    }

    /// <summary>An epilogue's operands at one tile: bias at its first column, saved and residual at its first element.</summary>
    internal readonly struct TileEpilogue(float* bias, float* saved, int savedStride, float* residual, int residualStride)
    {
        public readonly float* Bias = bias, Saved = saved, Residual = residual;
        public readonly int SavedStride = savedStride, ResidualStride = residualStride;
    }

    private readonly struct PlainStore : ITileStore
    {
        public static void Store(float* c, int row, Vector256<float> v0, Vector256<float> v1, float alpha, float beta, in TileEpilogue e) =>
            Store256(c, v0, v1, alpha, beta);

        public static void Store(float* c, int row, Vector512<float> v0, Vector512<float> v1, float alpha, float beta, in TileEpilogue e) =>
            Store512(c, v0, v1, alpha, beta);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel6x16(int kc, float* a, float* b, float* c, int ldc, float alpha, float beta) =>
        Kernel6x16<PlainStore>(kc, a, 1, 6, b, 16, c, ldc, alpha, beta, default);

    /// <summary>
    /// A full tile of the given kernel (AVX2 6×16 or AVX-512 8×32) with A read in place instead of from a packed panel: row
    /// i at step p of the sum is a[i·rowStride + p·depthStride], so (lda, 1) for A stored m×k and (1, lda) for A stored k×m
    /// (transposed). B's rows are ldb apart: the tile's width for a packed panel, B's row stride when it is read in place
    /// (attention's small products). Each element is the same chain of multiply-adds in either kernel.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void RunInPlace(GemmIsa isa, int kc, float* a, long rowStride, long depthStride, float* b, long ldb, float* c, int ldc,
        float alpha, float beta)
    {
        if (isa == GemmIsa.Vector512) Kernel8x32<PlainStore>(kc, a, rowStride, depthStride, b, ldb, c, ldc, alpha, beta, default);
        else Kernel6x16<PlainStore>(kc, a, rowStride, depthStride, b, ldb, c, ldc, alpha, beta, default);
    }

    /// <summary>
    /// Where a strip's tiles of A are: the first at <c>First</c>, each next one <c>TileStride</c> floats further, each
    /// read with the row and depth strides <see cref="Kernel6x16{TStore}"/> takes.
    /// </summary>
    internal readonly struct StripA(float* first, long tileStride, long rowStride, long depthStride)
    {
        public readonly float* First = first;
        public readonly long TileStride = tileStride, RowStride = rowStride, DepthStride = depthStride;
    }

    /// <summary>
    /// <paramref name="tiles"/> full tiles of the given kernel (AVX2 6×16 or AVX-512 8×32) down a strip of C (c at its first
    /// row), stored plainly. The epilogue's saved tensor and residual, when given, are only prefetched (the caller applies
    /// the epilogue to the stored strip).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void RunStrip(GemmIsa isa, int tiles, int kc, in StripA a, float* b, float* c, int ldc, float alpha, float beta,
        in TileEpilogue e) =>
        Strip<PlainStore>(isa, tiles, kc, a, b, c, ldc, alpha, beta, e);

    /// <summary>
    /// Tiles down a strip, each row stored through <typeparamref name="TStore"/>; e is at the strip's first row and moves
    /// down with the tiles. One call a strip, where a call per tile (choosing the epilogue's op each time) cost about
    /// 200 cycles a tile: a fifth of a tile's work at a depth of 128.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Strip<TStore>(GemmIsa isa, int tiles, int kc, in StripA a, float* b, float* c, int ldc, float alpha, float beta,
        in TileEpilogue e)
        where TStore : struct, ITileStore
    {
        var (rows, columns) = TileOf(isa);
        float* saved = e.Saved, residual = e.Residual;
        var aTile = a.First;
        // A tile of a few steps is done before its prefetches could land: they only cost their instructions (NN 128×256×10,
        // the MLP's output layer's input gradient: 9.4 → 7.2 µs on one thread; its training step 685 – 708 → 670 – 684 µs).
        var prefetch = kc >= PrefetchDepth;
        // Rows read in place with AVX-512 go twelve at a time while more than four are left (see Kernel12x32).
        var total = tiles * rows;
        var twelves = isa == GemmIsa.Vector512 && a.DepthStride == 1 && tiles >= 3 ? total / 12 - (total % 12 == 4 ? 1 : 0) : 0;
        for (var done = 0; done < total; )
        {
            var tileRows = done < 12 * twelves ? 12 : rows;
            if (prefetch) PrefetchTile(c, ldc, tileRows, columns, saved, e.SavedStride, residual, e.ResidualStride);
            var tile = new TileEpilogue(e.Bias, saved, e.SavedStride, residual, e.ResidualStride);
            if (tileRows == 12) Kernel12x32<TStore>(kc, aTile, a.RowStride, b, c, ldc, alpha, beta, tile);
            else if (isa == GemmIsa.Vector512) Kernel8x32<TStore>(kc, aTile, a.RowStride, a.DepthStride, b, 32, c, ldc, alpha, beta, tile);
            else Kernel6x16<TStore>(kc, aTile, a.RowStride, a.DepthStride, b, 16, c, ldc, alpha, beta, tile);
            aTile += tileRows == rows ? a.TileStride : tileRows * a.RowStride;
            c += (long)tileRows * ldc;
            if (saved != null) saved += (long)tileRows * e.SavedStride;
            if (residual != null) residual += (long)tileRows * e.ResidualStride;
            done += tileRows;
        }
    }

    /// <summary>
    /// Twelve rows of an AVX-512 tile 32 wide, A read in place (row i at step p is a[i·rowStride + p]) and B a packed panel:
    /// each step's two vectors of B serve twelve rows rather than eight, so a panel streamed from L2 (784 deep: 100 KB) is
    /// read a third less often for the same multiply-adds; 24 accumulators, 2 vectors of B and the broadcast fit the 32
    /// registers. Rows are stored through <typeparamref name="TStore"/> as <see cref="Kernel8x32{TStore}"/> stores them.
    /// The batch-1000 MLP inference plan, in-process A/B, alternating medians of 61 rounds: 2454 / 2501 / 2790 / 2914 /
    /// 2747 → 2281 / 2400 / 2645 / 2761 / 2610 µs; its two wide products, profiled: 2100 → 1816 and 740 → 649 µs. The MLP's
    /// training step at batch 128 (1.01 – 1.20 ms) and the small CNN's (33 – 38 ms) were level.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Kernel12x32<TStore>(int kc, float* a, long rowStride, float* b, float* c, int ldc,
        float alpha, float beta, in TileEpilogue e)
        where TStore : struct, ITileStore
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector512<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<float> c60 = default, c61 = default, c70 = default, c71 = default, c80 = default, c81 = default;
        Vector512<float> c90 = default, c91 = default, ca0 = default, ca1 = default, cb0 = default, cb1 = default;
        float* a0 = a, a1 = a0 + rowStride, a2 = a1 + rowStride, a3 = a2 + rowStride, a4 = a3 + rowStride, a5 = a4 + rowStride;
        float* a6 = a5 + rowStride, a7 = a6 + rowStride, a8 = a7 + rowStride, a9 = a8 + rowStride, aa = a9 + rowStride, ab = aa + rowStride;
        for (long p = 0; p != kc; p++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            Vector512<float> ai;
            ai = Vector512.Create(a0[p]);
            c00 = Vector512.FusedMultiplyAdd(ai, b0, c00);
            c01 = Vector512.FusedMultiplyAdd(ai, b1, c01);
            ai = Vector512.Create(a1[p]);
            c10 = Vector512.FusedMultiplyAdd(ai, b0, c10);
            c11 = Vector512.FusedMultiplyAdd(ai, b1, c11);
            ai = Vector512.Create(a2[p]);
            c20 = Vector512.FusedMultiplyAdd(ai, b0, c20);
            c21 = Vector512.FusedMultiplyAdd(ai, b1, c21);
            ai = Vector512.Create(a3[p]);
            c30 = Vector512.FusedMultiplyAdd(ai, b0, c30);
            c31 = Vector512.FusedMultiplyAdd(ai, b1, c31);
            ai = Vector512.Create(a4[p]);
            c40 = Vector512.FusedMultiplyAdd(ai, b0, c40);
            c41 = Vector512.FusedMultiplyAdd(ai, b1, c41);
            ai = Vector512.Create(a5[p]);
            c50 = Vector512.FusedMultiplyAdd(ai, b0, c50);
            c51 = Vector512.FusedMultiplyAdd(ai, b1, c51);
            ai = Vector512.Create(a6[p]);
            c60 = Vector512.FusedMultiplyAdd(ai, b0, c60);
            c61 = Vector512.FusedMultiplyAdd(ai, b1, c61);
            ai = Vector512.Create(a7[p]);
            c70 = Vector512.FusedMultiplyAdd(ai, b0, c70);
            c71 = Vector512.FusedMultiplyAdd(ai, b1, c71);
            ai = Vector512.Create(a8[p]);
            c80 = Vector512.FusedMultiplyAdd(ai, b0, c80);
            c81 = Vector512.FusedMultiplyAdd(ai, b1, c81);
            ai = Vector512.Create(a9[p]);
            c90 = Vector512.FusedMultiplyAdd(ai, b0, c90);
            c91 = Vector512.FusedMultiplyAdd(ai, b1, c91);
            ai = Vector512.Create(aa[p]);
            ca0 = Vector512.FusedMultiplyAdd(ai, b0, ca0);
            ca1 = Vector512.FusedMultiplyAdd(ai, b1, ca1);
            ai = Vector512.Create(ab[p]);
            cb0 = Vector512.FusedMultiplyAdd(ai, b0, cb0);
            cb1 = Vector512.FusedMultiplyAdd(ai, b1, cb1);
            b += 32;
        }
        TStore.Store(c + 0 * ldc, 0, c00, c01, alpha, beta, e);
        TStore.Store(c + 1 * ldc, 1, c10, c11, alpha, beta, e);
        TStore.Store(c + 2 * ldc, 2, c20, c21, alpha, beta, e);
        TStore.Store(c + 3 * ldc, 3, c30, c31, alpha, beta, e);
        TStore.Store(c + 4 * ldc, 4, c40, c41, alpha, beta, e);
        TStore.Store(c + 5 * ldc, 5, c50, c51, alpha, beta, e);
        TStore.Store(c + 6 * ldc, 6, c60, c61, alpha, beta, e);
        TStore.Store(c + 7 * ldc, 7, c70, c71, alpha, beta, e);
        TStore.Store(c + 8 * ldc, 8, c80, c81, alpha, beta, e);
        TStore.Store(c + 9 * ldc, 9, c90, c91, alpha, beta, e);
        TStore.Store(c + 10 * ldc, 10, ca0, ca1, alpha, beta, e);
        TStore.Store(c + 11 * ldc, 11, cb0, cb1, alpha, beta, e);
    }

    // Strips at least this deep prefetch each tile's rows of C (see PrefetchTile).
    private const int PrefetchDepth = 32;

    /// <summary>
    /// Starts loading a micro-tile's rows of C (and of the epilogue's saved tensor and residual) while the kernel computes it. A
    /// plan's C was last touched a layer ago; without this, each row's store waits for its line from memory, and the
    /// epilogue's reads after it stall as well (a 4096×512 product with bias: 9.2 → 8.2 ms). A row of 32 floats spans
    /// two cache lines.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void PrefetchTile(float* c, int ldc, int rows, int columns, float* saved, int lds, float* residual, int ldr)
    {
        if (!Sse.IsSupported) return;
        for (var i = 0; i < rows; i++)
        {
            for (var j = 0; j < columns; j += 16)
            {
                Sse.Prefetch0(c + (long)i * ldc + j);
                if (saved != null) Sse.Prefetch0(saved + (long)i * lds + j);
                if (residual != null) Sse.Prefetch0(residual + (long)i * ldr + j);
            }
        }
    }

    /// <summary>
    /// The 6×16 tile, each row stored through <typeparamref name="TStore"/> (see <see cref="ITileStore"/>). Row i of A at
    /// step p of the sum is a[i·rowStride + p·depthStride]: (1, 6) is a packed panel, (lda, 1) six rows of A itself.
    /// B's sixteen columns of a step are ldb floats after the last step's: 16 in a packed panel, B's row stride when it is
    /// read in place (attention's small products).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Kernel6x16<TStore>(int kc, float* a, long rowStride, long depthStride, float* b, long ldb, float* c, int ldc,
        float alpha, float beta, in TileEpilogue e)
        where TStore : struct, ITileStore
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        float* a0 = a, a1 = a + rowStride, a2 = a1 + rowStride, a3 = a2 + rowStride, a4 = a3 + rowStride, a5 = a4 + rowStride;
        // One offset into every row of A: one add a step.
        for (long p = 0, end = kc * depthStride; p != end; p += depthStride)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var ai = Vector256.Create(a0[p]);
            c00 = Vector256.FusedMultiplyAdd(ai, b0, c00);
            c01 = Vector256.FusedMultiplyAdd(ai, b1, c01);
            ai = Vector256.Create(a1[p]);
            c10 = Vector256.FusedMultiplyAdd(ai, b0, c10);
            c11 = Vector256.FusedMultiplyAdd(ai, b1, c11);
            ai = Vector256.Create(a2[p]);
            c20 = Vector256.FusedMultiplyAdd(ai, b0, c20);
            c21 = Vector256.FusedMultiplyAdd(ai, b1, c21);
            ai = Vector256.Create(a3[p]);
            c30 = Vector256.FusedMultiplyAdd(ai, b0, c30);
            c31 = Vector256.FusedMultiplyAdd(ai, b1, c31);
            ai = Vector256.Create(a4[p]);
            c40 = Vector256.FusedMultiplyAdd(ai, b0, c40);
            c41 = Vector256.FusedMultiplyAdd(ai, b1, c41);
            ai = Vector256.Create(a5[p]);
            c50 = Vector256.FusedMultiplyAdd(ai, b0, c50);
            c51 = Vector256.FusedMultiplyAdd(ai, b1, c51);
            b += ldb;
        }
        TStore.Store(c, 0, c00, c01, alpha, beta, e);
        TStore.Store(c + ldc, 1, c10, c11, alpha, beta, e);
        TStore.Store(c + 2 * ldc, 2, c20, c21, alpha, beta, e);
        TStore.Store(c + 3 * ldc, 3, c30, c31, alpha, beta, e);
        TStore.Store(c + 4 * ldc, 4, c40, c41, alpha, beta, e);
        TStore.Store(c + 5 * ldc, 5, c50, c51, alpha, beta, e);
    }

    /// <summary>Sixteen floats of C: alpha·v + beta·C (C not read when beta is 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store256(float* c, Vector256<float> v0, Vector256<float> v1, float alpha, float beta)
    {
        (v0, v1) = Scaled(c, v0, v1, alpha, beta);
        v0.Store(c);
        v1.Store(c + 8);
    }

    /// <summary>alpha·v + beta·C for sixteen floats of C at c, as <see cref="Store256"/> stores them (C not read when beta is 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static (Vector256<float>, Vector256<float>) Scaled(float* c, Vector256<float> v0, Vector256<float> v1, float alpha, float beta)
    {
        if (beta == 0f && alpha == 1f) return (v0, v1);
        var va = Vector256.Create(alpha);
        if (beta == 0f) return (v0 * va, v1 * va);
        var vb = Vector256.Create(beta);
        return (Vector256.FusedMultiplyAdd(v0, va, Vector256.Load(c) * vb), Vector256.FusedMultiplyAdd(v1, va, Vector256.Load(c + 8) * vb));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel8x32(int kc, float* a, float* b, float* c, int ldc, float alpha, float beta) =>
        Kernel8x32<PlainStore>(kc, a, 1, 8, b, 32, c, ldc, alpha, beta, default);

    /// <summary>
    /// The AVX-512 8×32 tile, each row stored through <typeparamref name="TStore"/>. Row i of A at step p is
    /// a[i·rowStride + p·depthStride], as in <see cref="Kernel6x16{TStore}"/>: (1, 8) is a packed panel, (lda, 1) eight rows
    /// of A itself. B's 32 columns of a step are ldb floats after the last step's: 32 in a packed panel. Each broadcast of
    /// A is folded into its FMA's memory operand.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Kernel8x32<TStore>(int kc, float* a, long rowStride, long depthStride, float* b, long ldb, float* c, int ldc,
        float alpha, float beta, in TileEpilogue e)
        where TStore : struct, ITileStore
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector512<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<float> c60 = default, c61 = default, c70 = default, c71 = default;
        float* a0 = a, a1 = a + rowStride, a2 = a1 + rowStride, a3 = a2 + rowStride, a4 = a3 + rowStride, a5 = a4 + rowStride;
        float* a6 = a5 + rowStride, a7 = a6 + rowStride;
        for (long p = 0, end = kc * depthStride; p != end; p += depthStride)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            var ai = Vector512.Create(a0[p]);
            c00 = Vector512.FusedMultiplyAdd(ai, b0, c00);
            c01 = Vector512.FusedMultiplyAdd(ai, b1, c01);
            ai = Vector512.Create(a1[p]);
            c10 = Vector512.FusedMultiplyAdd(ai, b0, c10);
            c11 = Vector512.FusedMultiplyAdd(ai, b1, c11);
            ai = Vector512.Create(a2[p]);
            c20 = Vector512.FusedMultiplyAdd(ai, b0, c20);
            c21 = Vector512.FusedMultiplyAdd(ai, b1, c21);
            ai = Vector512.Create(a3[p]);
            c30 = Vector512.FusedMultiplyAdd(ai, b0, c30);
            c31 = Vector512.FusedMultiplyAdd(ai, b1, c31);
            ai = Vector512.Create(a4[p]);
            c40 = Vector512.FusedMultiplyAdd(ai, b0, c40);
            c41 = Vector512.FusedMultiplyAdd(ai, b1, c41);
            ai = Vector512.Create(a5[p]);
            c50 = Vector512.FusedMultiplyAdd(ai, b0, c50);
            c51 = Vector512.FusedMultiplyAdd(ai, b1, c51);
            ai = Vector512.Create(a6[p]);
            c60 = Vector512.FusedMultiplyAdd(ai, b0, c60);
            c61 = Vector512.FusedMultiplyAdd(ai, b1, c61);
            ai = Vector512.Create(a7[p]);
            c70 = Vector512.FusedMultiplyAdd(ai, b0, c70);
            c71 = Vector512.FusedMultiplyAdd(ai, b1, c71);
            b += ldb;
        }
        TStore.Store(c, 0, c00, c01, alpha, beta, e);
        TStore.Store(c + ldc, 1, c10, c11, alpha, beta, e);
        TStore.Store(c + 2 * ldc, 2, c20, c21, alpha, beta, e);
        TStore.Store(c + 3 * ldc, 3, c30, c31, alpha, beta, e);
        TStore.Store(c + 4 * ldc, 4, c40, c41, alpha, beta, e);
        TStore.Store(c + 5 * ldc, 5, c50, c51, alpha, beta, e);
        TStore.Store(c + 6 * ldc, 6, c60, c61, alpha, beta, e);
        TStore.Store(c + 7 * ldc, 7, c70, c71, alpha, beta, e);
    }

    /// <summary>
    /// An AVX-512 tile of eight rows by sixteen columns, one vector a row, for products at most sixteen columns wide: the
    /// 8×32 tile spent more than two thirds of its multiply-adds on padding for ten columns (a classifier's output layer).
    /// Row i of A at step p is a[i·rowStride + p]; B is a packed panel sixteen wide; the sums go to c (row stride ldc)
    /// unscaled.
    /// </summary>

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Kernel8x16(int kc, float* a, long rowStride, float* b, float* c, int ldc)
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
        float* a0 = a, a1 = a + rowStride, a2 = a1 + rowStride, a3 = a2 + rowStride, a4 = a3 + rowStride, a5 = a4 + rowStride;
        float* a6 = a5 + rowStride, a7 = a6 + rowStride;
        // Steps in pairs, each into its own eight sums (added at the end): eight chains alone kept the FMA units waiting
        // (NT 1000×10×256 on one thread 98 → 91 µs, alternating medians).
        var p = 0;
        Vector512<float> d0 = default, d1 = default, d2 = default, d3 = default, d4 = default, d5 = default, d6 = default, d7 = default;
        for (; p + 2 <= kc; p += 2)
        {
            var bp = Vector512.Load(b);
            var bq = Vector512.Load(b + 16);
            c0 = Vector512.FusedMultiplyAdd(Vector512.Create(a0[p]), bp, c0);
            c1 = Vector512.FusedMultiplyAdd(Vector512.Create(a1[p]), bp, c1);
            c2 = Vector512.FusedMultiplyAdd(Vector512.Create(a2[p]), bp, c2);
            c3 = Vector512.FusedMultiplyAdd(Vector512.Create(a3[p]), bp, c3);
            c4 = Vector512.FusedMultiplyAdd(Vector512.Create(a4[p]), bp, c4);
            c5 = Vector512.FusedMultiplyAdd(Vector512.Create(a5[p]), bp, c5);
            c6 = Vector512.FusedMultiplyAdd(Vector512.Create(a6[p]), bp, c6);
            c7 = Vector512.FusedMultiplyAdd(Vector512.Create(a7[p]), bp, c7);
            d0 = Vector512.FusedMultiplyAdd(Vector512.Create(a0[p + 1]), bq, d0);
            d1 = Vector512.FusedMultiplyAdd(Vector512.Create(a1[p + 1]), bq, d1);
            d2 = Vector512.FusedMultiplyAdd(Vector512.Create(a2[p + 1]), bq, d2);
            d3 = Vector512.FusedMultiplyAdd(Vector512.Create(a3[p + 1]), bq, d3);
            d4 = Vector512.FusedMultiplyAdd(Vector512.Create(a4[p + 1]), bq, d4);
            d5 = Vector512.FusedMultiplyAdd(Vector512.Create(a5[p + 1]), bq, d5);
            d6 = Vector512.FusedMultiplyAdd(Vector512.Create(a6[p + 1]), bq, d6);
            d7 = Vector512.FusedMultiplyAdd(Vector512.Create(a7[p + 1]), bq, d7);
            b += 32;
        }
        (c0, c1, c2, c3, c4, c5, c6, c7) = (c0 + d0, c1 + d1, c2 + d2, c3 + d3, c4 + d4, c5 + d5, c6 + d6, c7 + d7);
        for (; p < kc; p++)
        {
            var bp = Vector512.Load(b);
            c0 = Vector512.FusedMultiplyAdd(Vector512.Create(a0[p]), bp, c0);
            c1 = Vector512.FusedMultiplyAdd(Vector512.Create(a1[p]), bp, c1);
            c2 = Vector512.FusedMultiplyAdd(Vector512.Create(a2[p]), bp, c2);
            c3 = Vector512.FusedMultiplyAdd(Vector512.Create(a3[p]), bp, c3);
            c4 = Vector512.FusedMultiplyAdd(Vector512.Create(a4[p]), bp, c4);
            c5 = Vector512.FusedMultiplyAdd(Vector512.Create(a5[p]), bp, c5);
            c6 = Vector512.FusedMultiplyAdd(Vector512.Create(a6[p]), bp, c6);
            c7 = Vector512.FusedMultiplyAdd(Vector512.Create(a7[p]), bp, c7);
            b += 16;
        }
        c0.Store(c);
        c1.Store(c + ldc);
        c2.Store(c + 2 * ldc);
        c3.Store(c + 3 * ldc);
        c4.Store(c + 4 * ldc);
        c5.Store(c + 5 * ldc);
        c6.Store(c + 6 * ldc);
        c7.Store(c + 7 * ldc);
    }

    /// <summary>Thirty-two floats of C: alpha·v + beta·C (C not read when beta is 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store512(float* c, Vector512<float> v0, Vector512<float> v1, float alpha, float beta)
    {
        Scaled(c, v0, alpha, beta).Store(c);
        Scaled(c + 16, v1, alpha, beta).Store(c + 16);
    }

    /// <summary>
    /// alpha·v + beta·C for sixteen floats of C at c, element by element as
    /// <see cref="Scaled(float*, Vector256{float}, Vector256{float}, float, float)"/> makes them (C not read when beta is 0).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Scaled(float* c, Vector512<float> v, float alpha, float beta)
    {
        if (beta == 0f) return alpha == 1f ? v : v * Vector512.Create(alpha);
        return Vector512.FusedMultiplyAdd(v, Vector512.Create(alpha), Vector512.Load(c) * Vector512.Create(beta));
    }

    /// <summary>Portable fallback for machines without 256-bit vectors.</summary>
    private static void Kernel4x4(int kc, float* a, float* b, float* c, int ldc, float alpha, float beta)
    {
        var acc = stackalloc float[16];
        for (var i = 0; i < 16; i++) acc[i] = 0f;
        for (var p = 0; p < kc; p++)
        {
            for (var i = 0; i < 4; i++)
            {
                var ai = a[i];
                acc[i * 4] += ai * b[0];
                acc[i * 4 + 1] += ai * b[1];
                acc[i * 4 + 2] += ai * b[2];
                acc[i * 4 + 3] += ai * b[3];
            }
            a += 4;
            b += 4;
        }
        for (var i = 0; i < 4; i++)
            for (var j = 0; j < 4; j++)
                c[i * ldc + j] = beta == 0f ? alpha * acc[i * 4 + j] : alpha * acc[i * 4 + j] + beta * c[i * ldc + j];
    }
}
