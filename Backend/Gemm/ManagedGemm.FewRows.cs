using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace Dlc.Backend.Gemm;

/// <summary>Products with fewer rows than a micro-tile (a batch of one): no packing, split by columns when that pays.</summary>
public sealed unsafe partial class ManagedGemm
{
    // Products with fewer rows than a tile (a batch of one) are memory-bound: split by columns, a multiple of this many a
    // thread, when they read at least FewRowsSpinningThreshold floats of B and the workers are spinning, or at least
    // FewRowsThreshold in any case (a wake-up, about 0.2 ms, pays off only at about twice that of streaming B).
    private const int FewRowsColumnStep = 16;
    private const long FewRowsSpinningThreshold = 1L << 15;
    private const long FewRowsThreshold = 1L << 23;

    // How long products that would split have to keep coming before they wake the workers (see FewRowsParts), and when the
    // current stream of them began and its last one came (Stopwatch ticks).
    private static readonly TimeSpan WakeAfter = TimeSpan.FromMicroseconds(50);
    private static readonly long WakeAfterTicks = (long)(WakeAfter.TotalSeconds * Stopwatch.Frequency);
    private long _fewRowsSince, _fewRowsLast = long.MinValue / 2;

    // With AVX-512, products of fewer rows than this (A not transposed, see TransposedRowsLimit otherwise; with B
    // transposed, at least 16 deep) take the few-rows path too, four rows at a time (GemmRowKernel.RunDots4, Run4): B is read in place, once a four rows, where
    // the blocked path packs all of it first. MLP inference plan (784-256-256-10, all products with B transposed), two
    // threads, alternating medians: batch 8 47.9 → 20.8 µs, 12 75.4 → 29.6, 16 64.9 → 38.7, 32 97.4 → 74.0, 64 184 → 160;
    // at 128 they were level (391 against 397 µs) and at 256 the blocked path ahead (566 against 605). Its training step
    // with the forward products so: batch 16 200 → 172 µs, 32 335 → 304, 64 level; then with the input gradients' (B
    // untransposed) too: batch 8 121 → 107 µs, 16 178 → 163, 32 198 → 194, 48 313 → 297.
    private const int InPlaceRowsLimit = 64;

    // The fewest columns a single row's product with B transposed reads from a copy of op(B) stored k×n (see ReadsRowsCopy):
    // each nonzero entry of A costs at least an FMA's latency, which four vectors of B a row cover.
    private const int RowsCopyColumns = 64;

    /// <summary>
    /// Whether a product of this shape reads op(B) from a copy stored k×n (<see cref="Prepack"/>): a single row with B
    /// transposed (a dense layer at batch 1), at least <see cref="RowsCopyColumns"/> wide, with AVX-512. It then reads
    /// only the rows of op(B) that A's nonzero entries pick (GemmRowKernel.RunRows) where at least one entry in eight is
    /// zero, as an image's background pixels and the outputs of a ReLU are. MLP at batch 1 (784-256-256-10, two threads,
    /// the two hidden layers chained), in-process A/B alternating, median of ten medians: Fashion-MNIST's first test image
    /// (66% of its pixels zero) 7.66 → 4.47 µs; uniform noise (only the second layer's input, a ReLU's, has zeros) 7.97 →
    /// 7.07 µs. The copy takes as much memory as B.
    /// </summary>
    private bool ReadsRowsCopy(bool transA, bool transB, int m, int n, int k) =>
        m == 1 && !transA && transB && n >= RowsCopyColumns && k >= 16 && _isa == GemmIsa.Vector512;

    /// <summary>op(B) [k×n] of a B stored transposed (n rows of k, ldb apart), copied row by row for <see cref="ReadsRowsCopy"/>.</summary>
    private PackedB RowsCopy(int n, int k, float* b, int ldb)
    {
        if (b == null) throw new ArgumentNullException(nameof(b));
        var copy = new PackedB(this, true, n, k, b, ldb, checked(n * k), rows: true);
        var rows = copy.Pointer;
        for (var j = 0; j < n; j++)
        for (var p = 0; p < k; p++) rows[(long)p * n + j] = b[(long)j * ldb + p];
        return copy;
    }

    /// <summary>Whether a product of m rows takes the few-rows path, four rows at a time (see InPlaceRowsLimit).</summary>
    private bool InPlaceRows(bool transA, bool transB, int m, int k) =>
        m < (transA ? TransposedRowsLimit : InPlaceRowsLimit) && (!transB || !transA && k >= 16) && _isa == GemmIsa.Vector512;

    // With A transposed (a weight gradient dYᵀ·X of a layer with few outputs) only below this: the blocked path runs a
    // whole 8-row tile for a ragged edge, which these rows avoid, but at 32 rows it was ahead. Two threads, alternating
    // medians: TN 10×256×128 12.8 → 8.0 µs, 10×784×128 31.7 → 17.9, 12×256×32 7.1 → 3.0, 20×256×128 15.5 → 13.2; level
    // at 16 and 24 rows, 16.1 → 20.6 µs at 32.
    private const int TransposedRowsLimit = 24;

    /// <summary>
    /// The threads a product with fewer rows than a tile is split over by columns. One when the workers would need waking
    /// for it. Such products that keep coming, with no gap longer than a worker's spin, for <see cref="WakeAfter"/> wake
    /// the workers for the ones that follow (a batch-1 plan run in a loop). A lone request does not: the wake-up cost its
    /// own run more than the split gave back (one run of the MLP at batch 1 every millisecond: 15.8 µs median without,
    /// 38.4 µs waking the worker each time).
    /// </summary>
    private int FewRowsParts(int n, long size)
    {
        if (_pool is null || n < 2 * FewRowsColumnStep || size < FewRowsSpinningThreshold) return 1;
        var parts = Math.Min(Threads, n / FewRowsColumnStep);
        if (size >= FewRowsThreshold || _pool.WorkersSpinning) return parts;
        var now = Stopwatch.GetTimestamp();
        if (now - _fewRowsLast > WorkerPool.SpinTicks) _fewRowsSince = now;
        _fewRowsLast = now;
        if (now - _fewRowsSince >= WakeAfterTicks) _pool.Wake();
        return 1;
    }

    /// <summary>
    /// Columns [c0, c1) of a product with fewer rows than a micro-tile (e.g. a single sample): packing B would cost as much
    /// as the product, so each C row is built straight from B's rows (GemmRowKernel) or, for transposed B, from dot
    /// products; with AVX-512 four rows at a time (see InPlaceRowsLimit), a vector of B read once for the four. Such a
    /// product only streams B, so it is split by columns over the threads (see FewRowsParts) when B is
    /// large enough: a batch-1 MLP run (784-256-256-10) 12.4 – 18.1 → 7.5 – 8.9 µs, each core keeping its half of the
    /// weights in its own L2. The shares are even: giving the caller, which starts at once, a hand-off's worth more
    /// columns (about 48 KB of B) measured slower, 9.9 – 10.3 → 10.3 – 10.6 µs a batch-1 MLP run.
    /// </summary>
    /// <param name="r0">The first row (a product split by rows, see DotRows).</param>
    /// <param name="r1">The row past the last (by default all of them).</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FewRows(in Call t, int c0, int c1, int r0 = 0, int r1 = int.MaxValue)
    {
        r1 = Math.Min(r1, t.M);
        if (r1 - r0 > 1 && (t.TransB ? !t.TransA && t.K >= 16 : true) && Avx512F.IsSupported)
        {
            // Four rows at a time: each vector of B read once for all four. A transposed (a weight gradient's dYᵀ) has its
            // four rows gathered first, 4·k floats against the group's 4·k·n multiply-adds.
            var gathered = t.TransA ? GemmPacking.ThreadBuffer(4 * t.K) : null;
            for (var i = r0; i < r1; i += 4)
            {
                var rows = Math.Min(4, r1 - i);
                float* ai = t.A + (long)i * t.Lda, ci = t.C + (long)i * t.Ldc + c0;
                long lda = t.Lda;
                if (t.TransA)
                {
                    for (var p = 0; p < t.K; p++)
                    for (var r = 0; r < rows; r++) gathered[r * t.K + p] = t.A[(long)p * t.Lda + i + r];
                    ai = gathered;
                    lda = t.K;
                }
                if (t.TransB) GemmRowKernel.RunDots4(ai, lda, rows, t.K, t.B + (long)c0 * t.Ldb, t.Ldb, c1 - c0, ci, t.Ldc, t.Alpha, t.Beta);
                else GemmRowKernel.Run4(ai, lda, rows, t.K, t.B + c0, t.Ldb, c1 - c0, ci, t.Ldc, t.Alpha, t.Beta);
            }
            // The epilogue once for all the rows rather than once for every four.
            GemmEpilogueKernel.Apply(t.Epilogue, t.C + (long)r0 * t.Ldc + c0, t.Ldc, r0, r1 - r0, c0, c1 - c0);
            return;
        }
        if (r1 - r0 == 1 && !t.TransA && Avx512F.IsSupported && (!t.TransB || t.PackedB != null))
        {
            // A single row reads only the rows of op(B) its nonzero entries pick: B itself, or the copy stored k×n (see
            // ReadsRowsCopy) where enough entries are zero; dot products with B's rows otherwise.
            float* ai = t.A + (long)r0 * t.Lda, ci = t.C + (long)r0 * t.Ldc + c0;
            if (!t.TransB) GemmRowKernel.RunRows(ai, t.K, t.B + c0, t.Ldb, c1 - c0, ci, t.Alpha, t.Beta);
            else if (GemmRowKernel.SkippingPays(ai, t.K)) GemmRowKernel.RunRows(ai, t.K, t.PackedB + c0, t.N, c1 - c0, ci, t.Alpha, t.Beta);
            else GemmRowKernel.RunDots(ai, t.K, t.B + (long)c0 * t.Ldb, t.Ldb, c1 - c0, ci, t.Alpha, t.Beta);
            GemmEpilogueKernel.Apply(t.Epilogue, ci, t.Ldc, r0, 1, c0, c1 - c0);
            return;
        }
        var aRow = t.TransA ? GemmPacking.ThreadBuffer(t.K) : null;
        for (var i = r0; i < r1; i++)
        {
            float* ai;
            if (t.TransA)
            {
                for (var p = 0; p < t.K; p++) aRow[p] = t.A[(long)p * t.Lda + i];
                ai = aRow;
            }
            else
            {
                ai = t.A + (long)i * t.Lda;
            }
            var ci = t.C + (long)i * t.Ldc + c0;
            if (t.TransB) GemmRowKernel.RunDots(ai, t.K, t.B + (long)c0 * t.Ldb, t.Ldb, c1 - c0, ci, t.Alpha, t.Beta);
            else GemmRowKernel.Run(ai, t.K, t.B + c0, t.Ldb, c1 - c0, ci, t.Alpha, t.Beta);
            GemmEpilogueKernel.Apply(t.Epilogue, ci, t.Ldc, i, 1, c0, c1 - c0);
        }
    }
}
