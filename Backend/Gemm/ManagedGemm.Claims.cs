namespace Dlc.Backend.Gemm;

/// <summary>Rows claimed a chunk at a time by the threads of a product split by rows (see Block).</summary>
public sealed unsafe partial class ManagedGemm
{
    // The most of op(B) a thread packs at once when it claims rows (a block of columns, all of its depth): each chunk of
    // rows reads all of it, so it stays within half a core's L2 (1 MB on a Xeon with AVX-512, 256 KB where AVX2 cores may
    // have 512 KB).
    private const long ClaimedPackFloats512 = 256 * 1024;
    private const long ClaimedPackFloats256 = 64 * 1024;

    // The deepest product whose claimed chunks run through all of their depth in one block (see Block). The panel of B a
    // strip of tiles reads then outgrows L1 (784 deep: 100 KB) and streams from L2, which the kernel hides; each tile is
    // stored once instead of once a block (batch-1000 MLP inference plan, three in-process A/B runs of 61 rounds: medians
    // 2070 / 2090 / 2464 → 2012 / 2010 / 2415 µs, best 1922 / 1879 / 1917 → 1836 / 1843 / 1847 µs).
    private const int ClaimedBlockDepth = 1024;

    // Claims read A once a block of columns: past this many blocks (AVX2's 1024² would take 16) the fixed halves stay.
    private const int MaxClaimBlocks = 4;

    // The next claim when rows are claimed (see Block), the width of the blocks of columns they come in, and the rows a
    // claim takes.
    private int _nextRow;
    private int _claimColumns;
    private readonly int _rowsPerClaim;

    // Two threads claiming one block of columns: the caller from the first chunk up, the worker from the last one down,
    // both ends in one word (front in the low half, back past the last unclaimed in the high). Each keeps about the same
    // end of the rows from one product to the next, so the next layer finds its rows of A in its own core's cache, and the
    // narrow path's fixed halves match them (batch-1000 MLP inference plan, four in-process A/B runs, best of each: 1962 –
    // 2029 → 1923 – 2005 µs; medians better in three of the four).
    private bool _frontBack;
    private long _ends;

    /// <summary>The width of the blocks of columns rows are claimed in (see Block): as wide as a thread's pack holds all of their depth.</summary>
    private int ClaimColumns(int n, int k)
    {
        var budget = _isa == GemmIsa.Vector512 ? ClaimedPackFloats512 : ClaimedPackFloats256;
        return (int)Math.Min((n + _nr - 1) / _nr * _nr, budget / Math.Max(1, k) / _nr * _nr);
    }

    /// <summary>
    /// Whether a product whose rows are claimed packs all of op(B) as one block: one block of columns (at most a panel
    /// wide) through all of its depth in one pass. That block is what <see cref="Prepack"/> packs.
    /// </summary>
    private bool ReadsPackedWhole(int n, int k)
    {
        var nPadded = (n + _nr - 1) / _nr * _nr;
        return k <= ClaimedBlockDepth && nPadded <= _nc && ClaimColumns(n, k) >= nPadded;
    }

    /// <summary>
    /// op(B) packed once as the claiming threads would each pack it on every call, for products of this shape whose rows
    /// are claimed and whose B is one block (see <see cref="ReadsPackedWhole"/>); for a single row with B transposed, op(B)
    /// stored k×n, whose rows the product reads only where A's entries are not zero (see <see cref="ReadsRowsCopy"/>); null
    /// for any other (a product read in place, split another way, or too wide or deep to pack whole), which packs as it
    /// goes. Both threads then read the one copy: the batch-1000 MLP inference plan's two wide products each packed all
    /// of their weights on both threads every run (in-process A/B, alternating, medians of five runs: 2842 / 2849 / 2950 /
    /// 3004 / 2806 → 2719 / 2742 / 2806 / 2912 / 2722 µs, in a slow stretch of the machine's).
    /// </summary>
    public PackedB? Prepack(bool transA, bool transB, int m, int n, int k, float* b, int ldb)
    {
        GemmArgs.Validate(transA, transB, m, n, k, Math.Max(1, transA ? m : k), ldb, Math.Max(1, n));
        if (ReadsRowsCopy(transA, transB, m, n, k)) return RowsCopy(n, k, b, ldb);
        // Past the few-rows and narrow paths, to the blocked one with rows claimed (see SgemmFused).
        var claimed = n > NarrowColumns && m >= _mr && !InPlaceRows(transA, transB, m, k) && BlockSplit(transA, m, n, k).ClaimRows;
        if (!claimed || !ReadsPackedWhole(n, k)) return null;
        if (b == null) throw new ArgumentNullException(nameof(b));
        var packed = new PackedB(this, transB, n, k, b, ldb, (n + _nr - 1) / _nr * _nr * k);
        GemmPacking.PackB(transB, b, ldb, 0, 0, k, n, _nr, packed.Pointer);
        return packed;
    }

    /// <summary>The next chunk this part claims (see Block): from its end of the rows when two threads claim front and back.</summary>
    private int NextClaim(int part)
    {
        if (!_frontBack) return Interlocked.Increment(ref _nextRow) - 1;
        while (true)
        {
            var ends = Volatile.Read(ref _ends);
            int front = (int)ends, back = (int)(ends >> 32);
            if (front >= back) return int.MaxValue;
            var next = part == 0 ? ends + 1 : ends - (1L << 32);
            if (Interlocked.CompareExchange(ref _ends, next, ends) == ends) return part == 0 ? front : back - 1;
        }
    }

    /// <summary>
    /// The chunks the threads claim rows in (see Block): whole claims of <see cref="_rowsPerClaim"/> rows, and the rows of
    /// about a claim a thread in chunks of two tiles (the last ones, or where two threads claiming from both ends meet, see
    /// ChunkRows), so the threads finish within a small chunk of each other. With
    /// 1000 rows in chunks of 48 alone, one thread took 11 chunks and the other 10, and then waited for it (AVX-512, two
    /// threads, alternating, three runs: 1000×256×784 NT with bias and ReLU, best of each 1374 – 1624 → 1343 – 1610 µs;
    /// 1000×256×256 448 – 450 → 436 – 437 µs).
    /// </summary>
    private (int Chunks, int Whole) ClaimChunks(int rows)
    {
        var whole = Math.Max(0, rows - Threads * _rowsPerClaim) / _rowsPerClaim;
        var tail = rows - whole * _rowsPerClaim;
        var small = 2 * _mr;
        return (whole + (tail + small - 1) / small, whole);
    }

    /// <summary>
    /// The first row (from the claimed range's start) and row count of chunk <paramref name="chunk"/> (see ClaimChunks): the
    /// two-tile chunks after the whole ones, or between the two halves of them when two threads claim from both ends.
    /// </summary>
    private (int First, int Rows) ChunkRows(int chunk, int whole, int rows)
    {
        if (_frontBack)
        {
            // Whole chunks at both ends, the small ones where the two threads meet.
            var front = (whole + 1) / 2;
            var small = (rows - whole * _rowsPerClaim + 2 * _mr - 1) / (2 * _mr);
            if (chunk < front) return (chunk * _rowsPerClaim, _rowsPerClaim);
            var middle = front * _rowsPerClaim;
            var tailRows = rows - whole * _rowsPerClaim;
            if (chunk < front + small)
            {
                var at = middle + (chunk - front) * 2 * _mr;
                return (at, Math.Min(2 * _mr, middle + tailRows - at));
            }
            return (middle + tailRows + (chunk - front - small) * _rowsPerClaim, _rowsPerClaim);
        }
        if (chunk < whole) return (chunk * _rowsPerClaim, _rowsPerClaim);
        var first = whole * _rowsPerClaim + (chunk - whole) * 2 * _mr;
        return (first, Math.Min(2 * _mr, rows - first));
    }
}
