using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Dlc.Backend.Gemm;

/// <summary>
/// GEMM in managed SIMD code: op(B) is packed into panels of kc×nc, op(A) into blocks of mc×kc, and a
/// register-blocked micro-kernel (see GemmKernels) walks them, so A's block stays in L2 and each B strip in
/// L1. The AVX2 and AVX-512 kernels read an untransposed A's whole strips of six (eight) rows in place instead: its rows
/// are already sequential in k, and the pack was a pass of its own over A (AVX2, 2048×128×512 on two threads, cold,
/// alternating: 4.08 → 3.86 ms NT with bias and residual, 4.05 → 3.82 ms NN with residual; 128×256×784 NT 1.0 → 0.88 ms;
/// AVX-512, two threads: 128×256×784 NT with bias and ReLU 267 → 235 µs, 1000×256×784 2.08 → 1.97 ms).
/// Large products are split over row blocks (or column blocks when C is wider than tall) across the process's
/// worker threads (<see cref="WorkerPool.Shared"/>); each thread packs into its own reused buffer, so a call
/// allocates nothing. Where A is read in place, the threads claim rows a chunk at a time instead of a fixed share each
/// (block of columns after block, each as wide as a thread can pack all of its depth), so a core the machine holds up
/// for a while takes fewer.
/// A product far deeper than it is wide (a weight gradient, summed over a batch) is split over k instead,
/// and the parts' sums are added at the end.
/// Products with fewer rows than one micro-tile skip packing (with AVX-512 and A not transposed, fewer than 64: InPlaceRows). A fused epilogue (bias, activation or its derivative,
/// residual) is applied to each full tile of its last k block as it leaves the registers, where the kernel takes it
/// (see <see cref="GemmEpilogueKernel.FusesInTile"/>); otherwise to each strip of micro-tiles right after it is stored.
/// </summary>
public sealed unsafe partial class ManagedGemm : IGemm, IDisposable, WorkerPool.IBody
{
    // kc×nr floats of B (16 KB for the AVX2 tile, 32 KB for AVX-512's) plus mr×kc of A fit L1; mc×kc of A (96 KB) fits L2.
    private const int Kc = 256;

    // A depth up to this is one block when its packed B (depth × columns) is at most OneBlockFloats: each tile is then
    // stored once, not added onto in a second pass, and pays its overhead once (2048×128×512 on two threads, cold,
    // alternating: 4.17 → 3.94 ms NT, 4.18 → 3.94 ms NN). B's strip (up to 32 KB) then streams from L2, which the kernel
    // hides. A deeper or wider product keeps blocks of at most Kc (see BalancedDepth); so do the parts of one split over k
    // (weight gradients measured 1 – 4% slower with blocks of 512: their packed A, B and part of C overflow L2).
    private const int OneBlockDepth = 512;
    private const int OneBlockFloats = 64 * 1024;
    private const int NcTarget = 1024;

    // Below this many multiply-adds a second thread costs more in wake-up than it saves...
    private const long ParallelThreshold = 1L << 20;

    // ...unless the worker is still spinning from the last parallel kernel, as it is between a training step's kernels:
    // then products down to a quarter of that gain from it (the MLP's output layer, 128×256×10 three ways, in the plan's
    // profile: 98, 46 and 29 µs on one thread → 31 – 55, 26 – 31 and 18 – 21 µs).
    private const long SpinningParallelThreshold = 1L << 18;

    // Products at most this many columns wide run on the AVX-512 kernel's 8×16 tile (see Narrow)...
    private const int NarrowColumns = 16;

    // ...but with B transposed, as dot products row by row, which waste no lanes on missing columns: four rows at a time
    // with AVX-512 (GemmRowKernel.RunDots4; two threads, alternating medians: NT 1000×10×256 with bias 63.1 → 53.9 µs,
    // 128×10×256 18.7 → 14.5, 1000×16×256 60.2 → 43.2, 4000×12×128 92.8 → 69.3), one at a time with AVX2 up to this many
    // columns (one thread, alternating medians: NT 1000×4×256 117 → 55 µs, 1000×8×256 122 → 77, 128×8×784 31 → 17; at
    // ten columns the 6×16 tile was ahead, 67 against 75 µs).
    private const int DotColumns = 8;

    // k at least this many times m and n: split k, so no part packs all of an operand the others pack too.
    private const int DepthSplitRatio = 4;

    private readonly GemmIsa _isa;
    private readonly bool _tileEpilogues;
    private readonly int _mr, _nr, _mc, _nc;
    private readonly WorkerPool? _pool;
    private readonly Lock _sync = new();
    private Call _call;
    private bool _splitColumns, _splitDepth, _claimRows;

    // How the parts of the current parallel call divide it: blocks of rows, columns or depth (the flags above), a
    // few-rows product's columns, a narrow product's tiles of rows or rows of dot products, or a chain of two few-rows
    // products (see SgemmChain).
    private enum Parts { Blocks, FewRows, Narrow, DotRows, Chain }
    private Parts _parts;

    // The sums of the parts of a product split over k, but the first (which writes C): (parts − 1)·m·n floats.
    private NativeBuffer? _partSums;

    /// <param name="threads">Threads to split large products over (the calling thread included).</param>
    public ManagedGemm(int threads = 1) : this(threads, DetectIsa())
    {
    }

    /// <summary>Forces a micro-kernel, so tests cover all three on any machine (emulated where needed).</summary>
    /// <param name="tileEpilogues">Whether epilogues may be applied in the micro-kernel's registers (see
    /// <see cref="GemmEpilogueKernel.FusesInTile"/>); without, always on the stored strip. Tests compare the two.</param>
    internal ManagedGemm(int threads, GemmIsa isa, bool tileEpilogues = true)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        Threads = threads;
        _isa = isa;
        _tileEpilogues = tileEpilogues;
        (_mr, _nr) = GemmKernels.TileOf(isa);
        _mc = _mr * Math.Max(1, 96 / _mr);
        _nc = NcTarget / _nr * _nr;
        _rowsPerClaim = Math.Max(_mr, _mc / 2 / _mr * _mr);
        if (threads > 1) _pool = WorkerPool.Shared(threads - 1);
    }

    public string Name => "managed";

    public int Threads { get; }

    internal GemmIsa Isa => _isa;

    internal static GemmIsa DetectIsa() =>
        Vector512.IsHardwareAccelerated ? GemmIsa.Vector512
        : Vector256.IsHardwareAccelerated ? GemmIsa.Vector256
        : GemmIsa.Scalar;

    public void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha, float* a, int lda, float* b, int ldb,
        float beta, float* c, int ldc) =>
        SgemmFused(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, GemmEpilogue.None);

    /// <summary>The product with the epilogue applied to each micro-tile of C as soon as its last k block is stored.</summary>
    public void SgemmFused(bool transA, bool transB, int m, int n, int k, float alpha, float* a, int lda, float* b, int ldb,
        float beta, float* c, int ldc, in GemmEpilogue epilogue) =>
        SgemmFused(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, epilogue, null);

    /// <summary>The product reading op(B) from <paramref name="packed"/> where it would pack all of it (see <see cref="Prepack"/>).</summary>
    public void SgemmFused(bool transA, bool transB, int m, int n, int k, float alpha, float* a, int lda, float* b, int ldb,
        float beta, float* c, int ldc, in GemmEpilogue epilogue, PackedB? packed)
    {
        CheckCopy(packed, transA, transB, m, n, k, b, ldb);
        GemmArgs.Validate(transA, transB, m, n, k, lda, ldb, ldc);
        GemmArgs.ValidatePointers(transA, transB, m, n, k, a, b, c);
        epilogue.Validate(m, n);
        if (m == 0 || n == 0) return;
        // The sums of op(A)'s rows come from A as it is packed, which reads A stored k×m row by row; otherwise first.
        var sums = epilogue.SumsOfA;
        var fewRows = m < _mr || InPlaceRows(transA, transB, m, k);
        if (sums != null && (!transA || fewRows || k == 0 || alpha == 0f))
        {
            GemmEpilogueKernel.SumsOfA(transA, a, lda, m, k, sums);
            sums = null;
        }
        if (k == 0 || alpha == 0f)
        {
            ScaleRows(c, ldc, m, n, beta);
            GemmEpilogueKernel.Apply(epilogue, c, ldc, 0, m, 0, n);
            return;
        }
        // Each path reads the copy laid out for it: rows for a single row's product (few rows), panels for the blocked path.
        var copy = packed is null || packed.Rows != fewRows ? null : packed.Pointer;
        var call = new Call(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, epilogue, sums, copy);
        var size = (long)m * n * k;
        if (fewRows)
        {
            var columnParts = FewRowsParts(n, size);
            if (columnParts <= 1)
            {
                FewRows(call, 0, n);
                return;
            }
            RunParts(call, Parts.FewRows, columnParts);
            return;
        }
        // At most 16 columns (AVX2: DotColumns) of a B stored transposed (a classifier's or a regression head, a DQN's action
        // values): dot products row by row, split by rows (see DotColumns).
        if (transB && !transA && n <= (_isa == GemmIsa.Vector512 ? NarrowColumns : DotColumns) && sums == null && _isa != GemmIsa.Scalar)
        {
            var rowParts = _pool is null || m < 2 * _mr || !WorthSplitting(size) ? 1 : Math.Min(Threads, m / _mr);
            if (rowParts <= 1) FewRows(call, 0, n);
            else RunParts(call, Parts.DotRows, rowParts);
            return;
        }
        // A product at most 16 columns wide with B untransposed on the 8×16 tile: NN 128×10×256 18 → 11 µs (two threads,
        // alternating medians; with B transposed, as the dot products above are now, it took NT 128×10×256 with bias from
        // 22 to 15 µs).
        if (_isa == GemmIsa.Vector512 && n <= NarrowColumns && !transA && sums == null)
        {
            if (_pool is null || m < 4 * _mr || !WorthSplitting(size))
            {
                Narrow(call, 0, m);
                return;
            }
            RunParts(call, Parts.Narrow, Math.Min(Threads, m / (2 * _mr)));
            return;
        }
        var (splitDepth, splitColumns, parts, claimRows) = BlockSplit(transA, m, n, k);
        if (parts <= 1)
        {
            Block(call, 0, m, 0, n, 0, k);
            return;
        }
        lock (_sync)
        {
            _splitColumns = splitColumns;
            _splitDepth = splitDepth;
            var nPadded = (n + _nr - 1) / _nr * _nr;
            _claimColumns = ClaimColumns(n, k);
            _claimRows = claimRows;
            _nextRow = 0;
            var chunkCount = ClaimChunks(m).Chunks;
            _frontBack = _claimRows && parts == 2 && _claimColumns >= nPadded;
            _ends = (long)chunkCount << 32;
            if (!splitDepth)
            {
                _call = call;
                _pool!.Run(this, parts);
                return;
            }
            var partFloats = PartFloats(call);
            if (_partSums is null || _partSums.Length < (parts - 1) * partFloats)
            {
                _partSums?.Dispose();
                _partSums = new NativeBuffer(checked((int)((parts - 1) * partFloats)));
            }
            _call = new Call(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, GemmEpilogue.None, sums);
            _pool!.Run(this, parts);
            for (var part = 1; part < parts; part++)
            {
                var sum = _partSums.Pointer + (part - 1) * partFloats;
                for (var i = 0; i < m; i++)
                {
                    var row = new Span<float>(c + (long)i * ldc, n);
                    TensorPrimitives.Add(row, new ReadOnlySpan<float>(sum + (long)i * n, n), row);
                }
                if (sums != null) TensorPrimitives.Add(new Span<float>(sums, m), new ReadOnlySpan<float>(sum + (long)m * n, m), new Span<float>(sums, m));
            }
            GemmEpilogueKernel.Apply(epilogue, c, ldc, 0, m, 0, n);
        }
    }

    /// <summary>Throws unless <paramref name="packed"/> (when given) is this provider's copy of this B, laid out for this product.</summary>
    private void CheckCopy(PackedB? packed, bool transA, bool transB, int m, int n, int k, float* b, int ldb)
    {
        if (packed is null) return;
        if (!packed.Of(this, transB, n, k, b, ldb)) throw new ArgumentException("The packed copy is of another B, shape or provider.", nameof(packed));
        if (packed.Rows != ReadsRowsCopy(transA, transB, m, n, k))
            throw new ArgumentException($"The packed copy is laid out for products of {(packed.Rows ? "one row" : "many rows")}, not {m}.", nameof(packed));
    }

    void WorkerPool.IBody.Run(int part, int parts)
    {
        if (_parts == Parts.FewRows)
        {
            // The same columns on the same thread every call, so each core keeps its share of B in its own cache (see FewRows).
            var (c0, c1) = Share(part, parts, _call.N, FewRowsColumnStep);
            if (c0 < c1) FewRows(_call, c0, c1);
            return;
        }
        if (_parts == Parts.Chain)
        {
            ChainPart(part, parts);
            return;
        }
        if (_parts is Parts.Narrow or Parts.DotRows)
        {
            // The front rows on the caller, the back ones on the worker, as rows claimed from both ends put them (see NextClaim).
            var (r0, r1) = Share(part, parts, _call.M, _mr);
            if (r0 >= r1) return;
            if (_parts == Parts.Narrow) Narrow(_call, r0, r1);
            else FewRows(_call, 0, _call.N, r0, r1);
            return;
        }
        if (_splitDepth)
        {
            // Whole k blocks per part; the first part writes C (with beta), the others their own sums.
            var t = _call;
            var (first, end) = Kernels.SampleParallel.Range(part, parts, (t.K + Kc - 1) / Kc);
            var (k0, k1) = (first * Kc, Math.Min(t.K, end * Kc));
            if (part == 0)
            {
                Block(t, 0, t.M, 0, t.N, k0, k1, partOfDepth: true);
                return;
            }
            var sum = _partSums!.Pointer + (part - 1) * PartFloats(t);
            Block(new Call(t.TransA, t.TransB, t.M, t.N, t.K, t.Alpha, t.A, t.Lda, t.B, t.Ldb, 0f, sum, t.N, GemmEpilogue.None,
                t.Sums != null ? sum + (long)t.M * t.N : null), 0, t.M, 0, t.N, k0, k1, partOfDepth: true);
            return;
        }
        if (_claimRows)
        {
            Block(_call, 0, _call.M, 0, _call.N, 0, _call.K, claimRows: true, part: part);
            return;
        }
        var (start, stop) = _splitColumns ? Share(part, parts, _call.N, _nr) : Share(part, parts, _call.M, _mr);
        if (start >= stop) return;
        // Every column part packs all of A: the first one sums its rows. Row parts sum their own rows.
        if (_splitColumns) Block(start == 0 ? _call : _call.WithoutSums(), 0, _call.M, start, stop, 0, _call.K);
        else Block(_call, start, stop, 0, _call.N, 0, _call.K);
    }

    /// <summary>A few-rows or narrow product's parts over the pool (see <see cref="Parts"/>).</summary>
    private void RunParts(in Call call, Parts parts, int count)
    {
        lock (_sync)
        {
            _call = call;
            _parts = parts;
            try
            {
                _pool!.Run(this, count);
            }
            finally
            {
                _parts = Parts.Blocks;
            }
        }
    }

    /// <summary>
    /// Part <paramref name="part"/> of <paramref name="parts"/> of [0, extent) in whole steps (micro-tiles, or a few-rows
    /// product's groups of columns), so only the last part has a ragged edge; empty when the steps run out first.
    /// </summary>
    private static (int Start, int Stop) Share(int part, int parts, int extent, int step)
    {
        var perPart = ((extent + step - 1) / step + parts - 1) / parts * step;
        return (Math.Min(extent, part * perPart), Math.Min(extent, (part + 1) * perPart));
    }

    /// <summary>
    /// How the blocked path splits a product over the threads (see Block). Each thread packs what it multiplies: splitting
    /// rows makes every thread pack all of op(B) (k·n), splitting columns makes every thread pack all of op(A) (m·k), so
    /// the smaller one is duplicated; splitting k duplicates nothing but needs the parts' sums added. A part takes at
    /// least one k block, or at least two micro-tiles of rows or columns.
    /// <para>
    /// Rows split over threads are claimed a chunk at a time (an untransposed A, read in place, and enough rows for a few
    /// chunks a thread), block of columns after block of columns, a block as wide as a thread's pack holds all of its
    /// depth. A fixed half each waited for the slower core: on a 2-vCPU virtual machine one often runs a fifth slower than
    /// the other for a while. AVX-512, two threads, alternating medians: 1000×256×784 NT with bias and ReLU 2.02 – 2.10 →
    /// 1.75 – 2.03 ms and 1000×256×256 0.67 – 0.76 → 0.55 – 0.73 ms over 4 runs (one block); 2048×1024×512 NN 216 – 259 →
    /// 238 – 270 GFLOP/s and 1024² NT 195 – 247 → 236 – 252 over 3 (two and four blocks). When neither core was held up
    /// they were within 3% either way, and 1024² NN, which reads A once a block, 2 – 3% slower (275 – 285 → 264 – 283).
    /// </para>
    /// </summary>
    private (bool SplitDepth, bool SplitColumns, int Parts, bool ClaimRows) BlockSplit(bool transA, int m, int n, int k)
    {
        var splitDepth = k >= DepthSplitRatio * Math.Max(m, n);
        var splitColumns = m < n;
        var units = splitDepth ? (k + Kc - 1) / Kc : (splitColumns ? (n + _nr - 1) / _nr : (m + _mr - 1) / _mr) / 2;
        var parts = _pool is null || !WorthSplitting((long)m * n * k) ? 1 : Math.Min(Threads, units);
        var claimColumns = ClaimColumns(n, k);
        var claimRows = parts > 1 && !splitDepth && !splitColumns && !transA && _isa != GemmIsa.Scalar && claimColumns > 0
            && (long)claimColumns * MaxClaimBlocks >= (n + _nr - 1) / _nr * _nr && m >= 4 * parts * _rowsPerClaim;
        return (splitDepth, splitColumns, parts, claimRows);
    }

    /// <summary>Whether a product of this many multiply-adds gains from the worker: large enough, or the worker still spinning.</summary>
    private bool WorthSplitting(long size) =>
        size >= ParallelThreshold || size >= SpinningParallelThreshold && _pool!.WorkersSpinning;

    /// <summary>
    /// The depth of each k block when a depth takes more than one: as even as blocks of at most Kc make it. 784 runs as
    /// 262 + 262 + 260 rather than 256 · 3 + 16, whose last block paid a tile's loads and stores for 16 steps of work
    /// (AVX-512, two threads, alternating: 1000×256×784 NT with bias and ReLU 2.04 → 1.95 ms, 128×256×784 273 → 261 µs).
    /// </summary>
    private static int BalancedDepth(int depth)
    {
        var blocks = (depth + Kc - 1) / Kc;
        return (depth + blocks - 1) / blocks;
    }

    /// <summary>What each part after the first of a product split over k sums into: m·n floats of C, and m more for op(A)'s row sums.</summary>
    private static long PartFloats(in Call t) => (long)t.M * t.N + (t.Sums != null ? t.M : 0);

    /// <summary>C[r0..r1, c0..c1] by the packed, blocked algorithm, summing over k in [k0, k1).</summary>
    // Fully optimised from the first call: a training loop would otherwise run these through tier-0 code.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    /// <param name="partOfDepth">A part of a product split over k: its blocks stay Kc deep (see <see cref="OneBlockDepth"/>).</param>
    /// <param name="claimRows">
    /// Chunks of rows (see <see cref="_rowsPerClaim"/>) are claimed from <see cref="_nextRow"/> instead of [r0, r1), in
    /// blocks of <see cref="_claimColumns"/> columns: a thread packs all of a block's op(B), every k block, so a chunk runs
    /// through the block's whole depth on the thread that claimed it.
    /// </param>
    private void Block(in Call t, int r0, int r1, int c0, int c1, int k0, int k1, bool partOfDepth = false, bool claimRows = false, int part = 0)
    {
        var ncMax = Math.Min(_nc, (c1 - c0 + _nr - 1) / _nr * _nr);
        var depth = k1 - k0;
        var blockDepth = !partOfDepth && depth <= OneBlockDepth && (long)depth * ncMax <= OneBlockFloats ? depth : BalancedDepth(depth);
        // A claimed chunk of rows runs through all of its depth in one block where it is at most ClaimedBlockDepth: its
        // block of op(B) is packed whole anyway, and each tile of C is then stored once rather than once a block.
        if (claimRows && depth <= ClaimedBlockDepth) blockDepth = depth;
        var kcMax = Math.Min(blockDepth, depth);
        var bFloats = claimRows ? depth * _claimColumns : kcMax * ncMax;
        var aPack = GemmPacking.ThreadBuffer(_mc * kcMax + bFloats);
        var bPack = aPack + _mc * kcMax;
        var tile = stackalloc float[_mr * _nr];
        if (!claimRows)
        {
            for (var jc = c0; jc < c1; jc += _nc)
            {
                var nc = Math.Min(_nc, c1 - jc);
                for (var pc = k0; pc < k1; pc += blockDepth)
                {
                    var kc = Math.Min(blockDepth, k1 - pc);
                    GemmPacking.PackB(t.TransB, t.B, t.Ldb, pc, jc, kc, nc, _nr, bPack);
                    for (var ic = r0; ic < r1; ic += _mc) RowBlock(t, ic, Math.Min(_mc, r1 - ic), jc, nc, pc, kc, c0, k0, k1, aPack, bPack, tile);
                }
            }
            return;
        }
        // Claims run block of columns after block of columns (_claimColumns wide), chunk of rows after chunk of rows within
        // each; a thread packs a block's op(B), all of its depth, when its first claim there comes.
        var (chunks, wholeChunks) = ClaimChunks(r1 - r0);
        var packed = -1;
        // One block of all of op(B) is what Prepack packed.
        if (t.PackedB != null && ReadsPackedWhole(t.N, t.K) && (c0, c1, k0, k1) == (0, t.N, 0, t.K))
        {
            bPack = t.PackedB;
            packed = 0;
        }
        for (var claim = NextClaim(part); ; claim = NextClaim(part))
        {
            if (_frontBack && claim >= chunks) break;
            var block = claim / chunks;
            var jb = c0 + block * _claimColumns;
            if (jb >= c1) break;
            var jEnd = Math.Min(c1, jb + _claimColumns);
            float* panel;
            if (block != packed)
            {
                panel = bPack;
                for (var jc = jb; jc < jEnd; jc += _nc)
                {
                    var nc = Math.Min(_nc, jEnd - jc);
                    for (var pc = k0; pc < k1; pc += blockDepth)
                    {
                        var kc = Math.Min(blockDepth, k1 - pc);
                        GemmPacking.PackB(t.TransB, t.B, t.Ldb, pc, jc, kc, nc, _nr, panel);
                        panel += (long)kc * ((nc + _nr - 1) / _nr * _nr);
                    }
                }
                packed = block;
            }
            var (first, rows) = ChunkRows(claim % chunks, wholeChunks, r1 - r0);
            var ic = r0 + first;
            panel = bPack;
            for (var jc = jb; jc < jEnd; jc += _nc)
            {
                var nc = Math.Min(_nc, jEnd - jc);
                for (var pc = k0; pc < k1; pc += blockDepth)
                {
                    var kc = Math.Min(blockDepth, k1 - pc);
                    RowBlock(t, ic, rows, jc, nc, pc, kc, c0, k0, k1, aPack, panel, tile);
                    panel += (long)kc * ((nc + _nr - 1) / _nr * _nr);
                }
            }
        }
    }

    /// <summary>
    /// Rows [ic, ic + mc) (mc ≤ the A block's rows) of C's columns [jc, jc + nc), over the k block [pc, pc + kc), from op(B)'s
    /// packed panel: the first block of [k0, k1) writes C (with beta), later ones add to it, and the last applies the epilogue.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void RowBlock(in Call t, int ic, int mc, int jc, int nc, int pc, int kc, int c0, int k0, int k1, float* aPack, float* bPack,
        float* tile)
    {
        // Later k blocks add onto what the first one wrote; the last one finishes each tile.
        var beta = pc == k0 ? t.Beta : 1f;
        var finish = pc + kc == k1 && !t.Epilogue.IsIdentity;
        // Full tiles take the epilogue as they leave the registers; the edge tiles, and other kernels, after storing.
        var fused = finish && _tileEpilogues && GemmEpilogueKernel.FusesInTile(_isa, t.Epilogue);
        // A stored k×m (transposed) stays packed: read in place, its six values of a step sit a row of A apart
        // from the next step's, and the tile's rows of A thrash L1 (TN 512×128×2048 ran 10% slower).
        var inPlaceA = _isa != GemmIsa.Scalar && !t.TransA;
        // Whole strips of an untransposed A are read in place; only a ragged last strip is packed.
        var inPlace = inPlaceA ? mc / _mr * _mr : 0;
        if (inPlace < mc) GemmPacking.PackA(t.TransA, t.A, t.Lda, ic + inPlace, pc, mc - inPlace, kc, _mr, aPack + (long)inPlace * kc);
        // The block of A just packed is in cache: its rows' sums over this k block, once (the first block of columns).
        if (t.Sums != null && jc == c0)
            GemmEpilogueKernel.AddDepthRows(t.A + (long)pc * t.Lda + ic, t.Lda, kc, mc, t.Sums + ic, first: pc == k0);
        for (var jr = 0; jr < nc; jr += _nr)
        {
            var nr = Math.Min(_nr, nc - jr);
            var bPanel = bPack + (long)jr * kc;
            // The SIMD kernels take a strip's full tiles in one call; edge tiles, and the scalar kernel, one at a time.
            var first = 0;
            if (_isa != GemmIsa.Scalar && nr == _nr && mc >= _mr)
            {
                var tiles = mc / _mr;
                var strip = inPlace > 0
                    ? new GemmKernels.StripA(t.A + (long)ic * t.Lda + pc, (long)_mr * t.Lda, t.Lda, 1)
                    : new GemmKernels.StripA(aPack, (long)_mr * kc, 1, _mr);
                var cStrip = t.C + (long)ic * t.Ldc + jc + jr;
                if (fused) GemmEpilogueKernel.RunStrip(_isa, t.Epilogue, tiles, kc, strip, bPanel, cStrip, t.Ldc, t.Alpha, beta, ic, jc + jr);
                else
                    GemmKernels.RunStrip(_isa, tiles, kc, strip, bPanel, cStrip, t.Ldc, t.Alpha, beta,
                        finish ? GemmEpilogueKernel.TileAt(t.Epilogue, ic, jc + jr) : default);
                first = tiles * _mr;
            }
            for (var ir = first; ir < mc; ir += _mr)
            {
                var mr = Math.Min(_mr, mc - ir);
                var cTile = t.C + (long)(ic + ir) * t.Ldc + jc + jr;
                var aPanel = aPack + (long)ir * kc;
                var aRows = ir < inPlace ? t.A + (long)(ic + ir) * t.Lda + pc : null;
                GemmKernels.PrefetchTile(cTile, t.Ldc, mr, nr, finish ? t.Epilogue.SavedAt(ic + ir, jc + jr) : null, t.Epilogue.SavedStride,
                    finish ? t.Epilogue.ResidualAt(ic + ir, jc + jr) : null, t.Epilogue.ResidualStride);
                if (mr == _mr && nr == _nr)
                {
                    GemmKernels.Run(_isa, kc, aPanel, bPanel, cTile, t.Ldc, t.Alpha, beta);
                    continue;
                }
                if (nr != _nr || !GemmKernels.RunRows(_isa, mr, kc, aPanel, bPanel, cTile, t.Ldc, t.Alpha, beta))
                {
                    // Edge tile: full tile into scratch, then only the valid part into C.
                    if (aRows != null) GemmKernels.RunInPlace(_isa, kc, aRows, t.Lda, 1, bPanel, _nr, tile, _nr, 1f, 0f);
                    else GemmKernels.Run(_isa, kc, aPanel, bPanel, tile, _nr, 1f, 0f);
                    StoreScratch(tile, _nr, cTile, t.Ldc, mr, nr, t.Alpha, beta);
                }
                if (fused) GemmEpilogueKernel.Apply(t.Epilogue, cTile, t.Ldc, ic + ir, mr, jc + jr, nr);
            }
            // Otherwise the strip of C just written (mc × nr): one call for its 16 tiles, where a call per tile
            // cost more than its dozen vectors of work (4096×512×128 on two threads: bias and ReLU 8.4 → 8.1 ms).
            if (finish && !fused) GemmEpilogueKernel.Apply(t.Epilogue, t.C + (long)ic * t.Ldc + jc + jr, t.Ldc, ic, mc, jc + jr, nr);
        }
    }

    /// <summary>
    /// Rows [r0, r1) of a product at most <see cref="NarrowColumns"/> wide with A untransposed, on the AVX-512 kernel's
    /// 8×16 tile (<see cref="GemmKernels.Kernel8x16"/>): all of op(B) packed sixteen wide once, A read in place (a ragged
    /// last tile's rows copied into a zeroed block), each tile's valid columns scaled into C and the epilogue applied to
    /// them, as the wider kernels' edge tiles are.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Narrow(in Call t, int r0, int r1)
    {
        var k = t.K;
        var panel = GemmPacking.ThreadBuffer(k * NarrowColumns + _mr * NarrowColumns + _mr * k);
        var tile = panel + (long)k * NarrowColumns;
        var ragged = tile + _mr * NarrowColumns;
        GemmPacking.PackB(t.TransB, t.B, t.Ldb, 0, 0, k, t.N, NarrowColumns, panel);
        for (var ic = r0; ic < r1; ic += _mr)
        {
            var rows = Math.Min(_mr, r1 - ic);
            var a = t.A + (long)ic * t.Lda;
            long stride = t.Lda;
            if (rows < _mr)
            {
                new Span<float>(ragged, _mr * k).Clear();
                for (var i = 0; i < rows; i++) new ReadOnlySpan<float>(a + (long)i * t.Lda, k).CopyTo(new Span<float>(ragged + (long)i * k, k));
                a = ragged;
                stride = k;
            }
            GemmKernels.Kernel8x16(k, a, stride, panel, tile, NarrowColumns);
            StoreScratch(tile, NarrowColumns, t.C + (long)ic * t.Ldc, t.Ldc, rows, t.N, t.Alpha, t.Beta);
            GemmEpilogueKernel.Apply(t.Epilogue, t.C + (long)ic * t.Ldc, t.Ldc, ic, rows, 0, t.N);
        }
    }

    /// <summary>Frees the split products' sums; the worker threads are the process's (<see cref="WorkerPool.Shared"/>).</summary>
    public void Dispose() => _partSums?.Dispose();

    /// <summary>One product's arguments; <see cref="Sums"/> (m floats) receives op(A)'s rows summed over the part's k range, or is null.</summary>
    /// <remarks>
    /// <see cref="PackedB"/>: all of op(B) packed by <see cref="Prepack"/> in panels (the blocked path) or, for a single
    /// row, stored k×n (the few-rows path, see ReadsRowsCopy); or null.
    /// </remarks>
    private readonly struct Call(bool transA, bool transB, int m, int n, int k, float alpha, float* a, int lda,
        float* b, int ldb, float beta, float* c, int ldc, GemmEpilogue epilogue, float* sums = null, float* packedB = null)
    {
        public readonly GemmEpilogue Epilogue = epilogue;
        public readonly float* Sums = sums;
        public readonly float* PackedB = packedB;

        public Call WithoutSums() => new(TransA, TransB, M, N, K, Alpha, A, Lda, B, Ldb, Beta, C, Ldc, Epilogue, null, PackedB);

        public readonly bool TransA = transA, TransB = transB;
        public readonly int M = m, N = n, K = k, Lda = lda, Ldb = ldb, Ldc = ldc;
        public readonly float Alpha = alpha, Beta = beta;
        public readonly float* A = a, B = b, C = c;
    }
}
