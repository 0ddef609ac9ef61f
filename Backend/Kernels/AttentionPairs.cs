using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Dlc.Backend.Gemm;

namespace Dlc.Backend.Kernels;

/// <summary>
/// The (sample, head) pairs of scaled dot-product attention, shared by self-attention (q, k and v side by side in one
/// packed row [N, T, 3E]) and cross-attention (q [N, Tq, E] from one sequence, k and v [N, Tk, E] from another). Per
/// pair: S = q·kᵀ/√d [Tq, Tk] straight out of the head's columns (the row stride steps over the other heads, so
/// nothing is copied), the masked softmax in place, and y = P·v into the head's columns of y [N, Tq, E]; backward, the
/// gradients of whichever of q, k and v are asked for. Pairs are independent, so they are split over the plan's
/// threads, each running single-threaded products on its own pairs. With a causal mask the rows are taken in blocks,
/// and each block's products stop at the block's last visible column, so the masked half of the scores is not
/// computed. When the head size and the key length are multiples of 8 (the query length may be anything), the
/// products run on <see cref="SmallProducts"/> straight from the pair's rows, with its keys (or values) transposed
/// once per pair; otherwise on the GEMM.
/// </summary>
internal sealed unsafe class AttentionPairs
{
    /// <summary>
    /// Rows of the scores per causal block: each block's products skip the columns no row of it sees. Smaller blocks waste
    /// less of the diagonal's masked half; 16 rather than 32 made a GPT block's attention (T = 128, head size 32) 9% faster.
    /// </summary>
    public const int CausalBlock = 16;

    /// <summary>Rows the softmax and its gradient take per pass (<see cref="SoftmaxRows"/>), so their reduction chains overlap.</summary>
    private const int RowGroup = 8;

    private readonly int _heads, _queries, _keys, _d, _stride, _features;
    private readonly bool _causal;
    private readonly float _scale;
    private readonly SampleParallel _parallel;
    private readonly IGemm _gemm;
    private readonly bool _small;

    // With a backward pass: the probabilities P [N, H, Tq, Tk] of the last forward run, which it reads. Per part of the
    // pairs: the gradient of the scores [Tq, Tk], or without a backward pass the probabilities of the pair at hand;
    // then with small products the pair's keys or values transposed [d, Tk].
    private readonly NativeBuffer? _probabilities;
    private readonly NativeBuffer[] _scratch;

    private readonly SampleParallel.RangeBody _forwardBody, _backwardBody;

    // The operands of the pass at hand: the first head's columns of sample 0 (_y is dy in the backward pass).
    private float* _q, _k, _v, _y, _dq, _dk, _dv, _lengths;

    /// <param name="stride">Floats from one position's q (k, v, and their gradients) to the next one's: 3E or E.</param>
    /// <param name="gemm">The products inside one thread's pairs (single-threaded when the pairs are split).</param>
    /// <param name="allocate">Buffers, owned by the caller.</param>
    /// <param name="backward">Whether <see cref="Backward"/> will run (a training plan): the probabilities are then kept.</param>
    public AttentionPairs(int batch, int heads, int queries, int keys, int headSize, bool causal, int stride,
        SampleParallel parallel, IGemm gemm, Func<int, NativeBuffer> allocate, bool backward)
    {
        if (causal && queries != keys)
            throw new ArgumentException($"a causal mask needs as many queries as keys, got {queries} and {keys}");
        (_heads, _queries, _keys, _d, _stride, _features, _causal) = (heads, queries, keys, headSize, stride, heads * headSize, causal);
        _scale = 1f / MathF.Sqrt(headSize);
        _parallel = parallel;
        _gemm = gemm;
        var pairs = batch * heads;
        if (backward) _probabilities = allocate(pairs * queries * keys);
        _small = SmallProducts.IsSupported && headSize % 8 == 0 && keys % 8 == 0;
        var parts = Math.Min(parallel.Threads, Math.Max(1, pairs));
        var scratch = queries * keys + (_small ? headSize * keys : 0);
        _scratch = Enumerable.Range(0, parts).Select(_ => allocate(scratch)).ToArray();
        _forwardBody = ForwardPart;
        _backwardBody = BackwardPart;
        Pairs = pairs;
    }

    /// <summary>Independent (sample, head) pairs: the unit the work is split by.</summary>
    public int Pairs { get; }

    /// <summary>Whether the products run on <see cref="SmallProducts"/> (else on the GEMM).</summary>
    public bool Small => _small;

    /// <summary>
    /// y [N, Tq, E] = the heads of softmax(mask(q·kᵀ/√d))·v, joined. The pointers are the first head's columns of
    /// sample 0; <paramref name="lengths"/> [N] (a padded batch) masks each sample's keys past its length, null reads
    /// every key.
    /// </summary>
    public void Forward(float* q, float* k, float* v, float* y, float* lengths) => Run(_forwardBody, q, k, v, y, null, null, null, lengths);

    /// <summary>
    /// The gradients dq, dk and dv (overwritten; a null one is not computed) from dy [N, Tq, E], with the probabilities
    /// of the forward run of the same inputs and lengths.
    /// </summary>
    public void Backward(float* q, float* k, float* v, float* dy, float* dq, float* dk, float* dv, float* lengths)
    {
        if (_probabilities is null) throw new InvalidOperationException("this attention kernel was made without a backward pass");
        Run(_backwardBody, q, k, v, dy, dq, dk, dv, lengths);
    }

    /// <summary>Runs one pass over every pair with these operands (<paramref name="y"/> is dy in the backward pass).</summary>
    private void Run(SampleParallel.RangeBody body, float* q, float* k, float* v, float* y, float* dq, float* dk, float* dv, float* lengths)
    {
        _q = q;
        _k = k;
        _v = v;
        _y = y;
        _dq = dq;
        _dk = dk;
        _dv = dv;
        _lengths = lengths;
        _parallel.For(Pairs, body);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ForwardPart(int part, int start, int end)
    {
        var (tq, tk, d, ld, e) = (_queries, _keys, _d, _stride, _features);
        var keysT = _scratch[part].Pointer + (long)tq * tk;
        for (var pair = start; pair < end; pair++)
        {
            var (n, h) = (pair / _heads, pair % _heads);
            float* q = Query(_q, n, h), k = Key(_k, n, h), v = Key(_v, n, h);
            var p = _probabilities is null ? _scratch[part].Pointer : _probabilities.Pointer + (long)pair * tq * tk;
            var y = _y + (long)n * tq * e + h * d;
            var length = Length(n);
            if (_small) SmallProducts.Transpose(k, ld, tk, d, keysT, tk);
            for (var r0 = 0; r0 < tq; r0 += BlockRows)
            {
                // Rows r0..r1 see at most the columns before r1, and none past the sequence's end.
                var r1 = Math.Min(tq, r0 + BlockRows);
                var cols = Columns(r1, length);
                var pBlock = p + (long)r0 * tk;
                var yBlock = y + (long)r0 * e;
                if (_small)
                {
                    cols = WholeVectors(cols);
                    SmallProducts.Multiply(r1 - r0, cols, d, _scale, q + (long)r0 * ld, ld, 1, keysT, tk, pBlock, tk);
                }
                else _gemm.Sgemm(false, true, r1 - r0, cols, d, _scale, q + (long)r0 * ld, ld, k, ld, 0f, pBlock, tk);
                SoftmaxRows(p, r0, r1, Cleared(cols), length);
                if (_small) SmallProducts.Multiply(r1 - r0, d, cols, 1f, pBlock, tk, 1, v, ld, yBlock, e);
                else _gemm.Sgemm(false, false, r1 - r0, d, cols, 1f, pBlock, tk, v, ld, 0f, yBlock, e);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void BackwardPart(int part, int start, int end)
    {
        var (tq, tk, d, ld, e) = (_queries, _keys, _d, _stride, _features);
        var ds = _scratch[part].Pointer;
        var valuesT = ds + (long)tq * tk;
        for (var pair = start; pair < end; pair++)
        {
            var (n, h) = (pair / _heads, pair % _heads);
            float* q = Query(_q, n, h), k = Key(_k, n, h), v = Key(_v, n, h);
            var p = _probabilities!.Pointer + (long)pair * tq * tk;
            var dy = _y + (long)n * tq * e + h * d;
            var length = Length(n);
            // dv = Pᵀ·dy; P is zero above the diagonal when causal and past the end, so the full product is still exact.
            if (_dv != null)
            {
                if (_small) TransposedProduct(p, dy, e, Key(_dv, n, h));
                else _gemm.Sgemm(true, false, tk, d, tq, 1f, p, tk, dy, e, 0f, Key(_dv, n, h), ld);
            }
            if (_dq == null && _dk == null) continue;
            if (_small) SmallProducts.Transpose(v, ld, tk, d, valuesT, tk);
            var dq = _dq == null ? null : Query(_dq, n, h);
            for (var r0 = 0; r0 < tq; r0 += BlockRows)
            {
                var r1 = Math.Min(tq, r0 + BlockRows);
                var cols = Columns(r1, length);
                var dsBlock = ds + (long)r0 * tk;
                // dP = dy·vᵀ over the visible columns, then dS = P ∘ (dP − rowsum(dP ∘ P)) / √d in place.
                if (_small)
                {
                    cols = WholeVectors(cols);
                    SmallProducts.Multiply(r1 - r0, cols, d, 1f, dy + (long)r0 * e, e, 1, valuesT, tk, dsBlock, tk);
                }
                else _gemm.Sgemm(false, true, r1 - r0, cols, d, 1f, dy + (long)r0 * e, e, v, ld, 0f, dsBlock, tk);
                SoftmaxGradientRows(p, ds, r0, r1, Cleared(cols), length);
                // dq = dS·k over the visible columns.
                if (dq == null) continue;
                if (_small) SmallProducts.Multiply(r1 - r0, d, cols, 1f, dsBlock, tk, 1, k, ld, dq + (long)r0 * ld, ld);
                else _gemm.Sgemm(false, false, r1 - r0, d, cols, 1f, dsBlock, tk, k, ld, 0f, dq + (long)r0 * ld, ld);
            }
            // dk = dSᵀ·q (dS is zero where the mask hid a key).
            if (_dk == null) continue;
            if (_small) TransposedProduct(ds, q, ld, Key(_dk, n, h));
            else _gemm.Sgemm(true, false, tk, d, tq, 1f, ds, tk, q, ld, 0f, Key(_dk, n, h), ld);
        }
    }

    /// <summary>Head <paramref name="h"/>'s columns of sample <paramref name="n"/> in q (or dq).</summary>
    private float* Query(float* q, int n, int h) => q + (long)n * _queries * _stride + h * _d;

    /// <summary>Head <paramref name="h"/>'s columns of sample <paramref name="n"/> in k or v (or their gradients).</summary>
    private float* Key(float* k, int n, int h) => k + (long)n * _keys * _stride + h * _d;

    /// <summary>
    /// c [Tk, d] (row stride of q) = aᵀ·b for a [Tq, Tk] (row stride Tk) and b [Tq, d] (row stride <paramref name="ldb"/>),
    /// in blocks of c's rows. With a causal mask, a is zero above its diagonal, so a block of rows from j sums a's rows
    /// from j on.
    /// </summary>
    private void TransposedProduct(float* a, float* b, int ldb, float* c)
    {
        var (tq, tk) = (_queries, _keys);
        for (var j = 0; j < tk; j += CausalBlock)
        {
            var from = _causal ? j : 0;
            SmallProducts.Multiply(Math.Min(CausalBlock, tk - j), _d, tq - from, 1f, a + (long)from * tk + j, 1, tk,
                b + (long)from * ldb, ldb, c + (long)j * _stride, _stride);
        }
    }

    /// <summary>Sample <paramref name="n"/>'s length: its value in the lengths input, or every key without one.</summary>
    private int Length(int n) => _lengths is null ? _keys : (int)_lengths[n];

    /// <summary>
    /// Keys row <paramref name="i"/> attends to when <paramref name="length"/> are real (the rest padding, masked as −∞
    /// before the softmax, as PyTorch's key_padding_mask): all of them, or with a causal mask itself and the earlier
    /// ones. A sequence of padding only attends to nothing, and its rows are zero.
    /// </summary>
    private int Visible(int i, int length) => Math.Clamp(Math.Min(_causal ? i + 1 : _keys, length), 0, _keys);

    /// <summary>
    /// The score columns a block of rows ending at <paramref name="r1"/> computes: those before r1 when causal, none
    /// past the length; at least one, so the products stay well-formed (a row of padding only is cleared after).
    /// </summary>
    private int Columns(int r1, int length) => Math.Max(1, Math.Min(_causal ? r1 : _keys, length));

    /// <summary>Score columns rounded up to whole vectors for the small products (Tk is a multiple of 8 on that path).</summary>
    private int WholeVectors(int cols) => Math.Min(_keys, (cols + 7) & ~7);

    /// <summary>
    /// How much of a score row (and of dS's) a block whose products reach <paramref name="cols"/> must hold, zeros past the
    /// visible part included. The causal small-product path without padding reads no further: its block's products stop
    /// there, and the transposed products take a row only from the column block it is in. Otherwise the whole row.
    /// </summary>
    private int Cleared(int cols) => _small && _causal && _lengths is null ? cols : _keys;

    /// <summary>The row blocks: one block of every row without a mask, blocks of <see cref="CausalBlock"/> with one.</summary>
    private int BlockRows => _causal ? CausalBlock : Math.Max(1, _queries);

    /// <summary>
    /// Softmax over the first <paramref name="visible"/> scores of a row, in place, with the maximum subtracted first
    /// (numerically stable); the hidden rest is set to zero, so products over the whole row stay exact. A last,
    /// partial vector goes through the same vector code as the rest, its hidden lanes read as −∞ (out of the
    /// maximum, zero in the sum).
    /// </summary>
    public static void MaskedSoftmax(Span<float> row, int visible)
    {
        fixed (float* r = row)
        {
            if (visible == 0)
            {
                row.Clear();
                return;
            }
            var max = RowMax(r, visible, row.Length);
            ScaleRow(r, visible, row.Length, 1f / ExpRow(r, visible, row.Length, max));
        }
    }

    /// <summary>
    /// <see cref="MaskedSoftmax"/> on rows r0 … r1 − 1 of a block of scores (row stride Tk), each row <paramref name="width"/>
    /// floats wide. The rows are taken a group at a time, one pass over the group per step (maxima, exponentials and
    /// sums, scaling): within a row each step waits on the last one's reduction, while rows of a group are independent,
    /// so the group's rows overlap where one row at a time ran a chain of reductions (the encoder layer's attention, 128 pairs of
    /// 64 × 64 scores on one thread: forward 4.27 → 4.01 ms).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void SoftmaxRows(float* p, int r0, int r1, int width, int length)
    {
        var shift = stackalloc float[RowGroup];
        for (var g0 = r0; g0 < r1; g0 += RowGroup)
        {
            var g1 = Math.Min(r1, g0 + RowGroup);
            for (var i = g0; i < g1; i++)
            {
                var visible = Visible(i, length);
                shift[i - g0] = visible == 0 ? 0f : RowMax(p + (long)i * _keys, visible, width);
            }
            for (var i = g0; i < g1; i++)
            {
                var visible = Visible(i, length);
                if (visible > 0) shift[i - g0] = 1f / ExpRow(p + (long)i * _keys, visible, width, shift[i - g0]);
            }
            for (var i = g0; i < g1; i++)
            {
                var visible = Visible(i, length);
                if (visible > 0) ScaleRow(p + (long)i * _keys, visible, width, shift[i - g0]);
                else new Span<float>(p + (long)i * _keys, width).Clear();
            }
        }
    }

    /// <summary>The largest of a row's first <paramref name="visible"/> (&gt; 0) floats, of <paramref name="room"/> readable.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float RowMax(float* r, int visible, int room)
    {
        var whole = visible & ~7;
        var rest = visible - whole;
        var most = rest == 0 ? Vector256.Load(r)
            : Vector256.ConditionalSelect(FirstLanes(rest), LoadPartial(r + whole, rest, room - whole), Vector256.Create(float.NegativeInfinity));
        for (var i = rest == 0 ? 8 : 0; i < whole; i += 8) most = Vector256.Max(most, Vector256.Load(r + i));
        return HorizontalMax(most);
    }

    /// <summary>exp(x − <paramref name="max"/>) over a row's first <paramref name="visible"/> floats, in place; returns their sum.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float ExpRow(float* r, int visible, int room, float max)
    {
        var whole = visible & ~7;
        var rest = visible - whole;
        var shift = Vector256.Create(max);
        var sums = Vector256<float>.Zero;
        if (rest > 0)
        {
            var tail = Vector256.ConditionalSelect(FirstLanes(rest), FloatExp.Exp8(LoadPartial(r + whole, rest, room - whole) - shift), Vector256<float>.Zero);
            StorePartial(tail, r + whole, rest, room - whole);
            sums = tail;
        }
        for (var i = 0; i < whole; i += 8)
        {
            var e = FloatExp.Exp8(Vector256.Load(r + i) - shift);
            e.Store(r + i);
            sums += e;
        }
        return Vector256.Sum(sums);
    }

    /// <summary>A row's first <paramref name="visible"/> floats times <paramref name="scale"/>, the rest of its <paramref name="room"/> zero.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ScaleRow(float* r, int visible, int room, float scale)
    {
        var whole = visible & ~7;
        var rest = visible - whole;
        var s = Vector256.Create(scale);
        for (var i = 0; i < whole; i += 8) (Vector256.Load(r + i) * s).Store(r + i);
        if (rest > 0) StorePartial(Vector256.ConditionalSelect(FirstLanes(rest), LoadPartial(r + whole, rest, room - whole) * s, Vector256<float>.Zero), r + whole, rest, room - whole);
        ClearPast(r, visible, room);
    }

    /// <summary>dS = P ∘ (dP − Σ dP ∘ P) · scale over the visible part of a row, in place in dP; zero beyond it.</summary>
    public static void SoftmaxGradient(ReadOnlySpan<float> p, Span<float> dp, int visible, float scale)
    {
        if (p.Length != dp.Length) throw new ArgumentException($"a row of P has {p.Length} floats and one of dP {dp.Length}");
        fixed (float* ps = p, d = dp) GradientRow(ps, d, visible, dp.Length, RowDot(ps, d, visible, dp.Length), scale);
    }

    /// <summary>
    /// <see cref="SoftmaxGradient"/> on rows r0 … r1 − 1 of a block (row stride Tk, <paramref name="width"/> floats each), a
    /// group of rows per pass as <see cref="SoftmaxRows"/> does: each row's dot product is a chain of multiply-adds, and
    /// the group's chains overlap.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void SoftmaxGradientRows(float* p, float* ds, int r0, int r1, int width, int length)
    {
        var dots = stackalloc float[RowGroup];
        for (var g0 = r0; g0 < r1; g0 += RowGroup)
        {
            var g1 = Math.Min(r1, g0 + RowGroup);
            for (var i = g0; i < g1; i++) dots[i - g0] = RowDot(p + (long)i * _keys, ds + (long)i * _keys, Visible(i, length), width);
            for (var i = g0; i < g1; i++) GradientRow(p + (long)i * _keys, ds + (long)i * _keys, Visible(i, length), width, dots[i - g0], _scale);
        }
    }

    /// <summary>Σ dP ∘ P over a row's first <paramref name="visible"/> floats (of <paramref name="room"/> readable).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float RowDot(float* p, float* d, int visible, int room)
    {
        var whole = visible & ~7;
        var rest = visible - whole;
        var dots = Vector256<float>.Zero;
        if (rest > 0)
        {
            // The partial vector's hidden lanes are zero in both, so they add nothing to the dot product.
            var inTail = FirstLanes(rest);
            dots = Vector256.ConditionalSelect(inTail, LoadPartial(d + whole, rest, room - whole), Vector256<float>.Zero)
                * Vector256.ConditionalSelect(inTail, LoadPartial(p + whole, rest, room - whole), Vector256<float>.Zero);
        }
        for (var i = 0; i < whole; i += 8) dots = Vector256.FusedMultiplyAdd(Vector256.Load(d + i), Vector256.Load(p + i), dots);
        return Vector256.Sum(dots);
    }

    /// <summary>dP ← P ∘ (dP − <paramref name="dot"/>) · scale over a row's visible floats, the rest of its <paramref name="room"/> zero.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void GradientRow(float* p, float* d, int visible, int room, float dot, float scale)
    {
        var whole = visible & ~7;
        var rest = visible - whole;
        var (dv, sv) = (Vector256.Create(dot), Vector256.Create(scale));
        for (var i = 0; i < whole; i += 8) ((Vector256.Load(d + i) - dv) * Vector256.Load(p + i) * sv).Store(d + i);
        if (rest > 0)
        {
            var inTail = FirstLanes(rest);
            var tailP = Vector256.ConditionalSelect(inTail, LoadPartial(p + whole, rest, room - whole), Vector256<float>.Zero);
            var tailD = Vector256.ConditionalSelect(inTail, LoadPartial(d + whole, rest, room - whole), Vector256<float>.Zero);
            StorePartial((tailD - dv) * tailP * sv, d + whole, rest, room - whole);
        }
        ClearPast(d, visible, room);
    }

    /// <summary>
    /// Zeros a row's floats after its first <paramref name="visible"/>, up to <paramref name="room"/>: all but those a
    /// whole last vector already stored as zeros (<see cref="StorePartial"/> with room for it).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ClearPast(float* r, int visible, int room)
    {
        var whole = visible & ~7;
        var end = visible > whole && room - whole >= 8 ? whole + 8 : visible;
        if (end < room) new Span<float>(r + end, room - end).Clear();
    }

    /// <summary>Lanes 0 … count − 1 of a vector set.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> FirstLanes(int count) =>
        Vector256.LessThan(Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7), Vector256.Create(count)).AsSingle();

    private static float HorizontalMax(Vector256<float> v)
    {
        var half = Vector128.Max(v.GetLower(), v.GetUpper());
        half = Vector128.Max(half, Vector128.Shuffle(half, Vector128.Create(2, 3, 0, 1)));
        return MathF.Max(half[0], half[1]);
    }

    /// <summary>The first <paramref name="count"/> (&lt; 8) floats at p; the rest of the vector is unspecified.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> LoadPartial(float* p, int count, int room) =>
        room >= 8 ? Vector256.Load(p) : count == 0 ? default : LoadFew(p, count);

    /// <summary>Stores the first <paramref name="count"/> lanes at p; with room for a whole vector, the others too (the caller clears them).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StorePartial(Vector256<float> v, float* p, int count, int room)
    {
        if (room >= 8) v.Store(p);
        else if (count > 0) StoreFew(v, p, count);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Vector256<float> LoadFew(float* p, int count)
    {
        var buffer = stackalloc float[8];
        for (var i = 0; i < count; i++) buffer[i] = p[i];
        return Vector256.Load(buffer);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void StoreFew(Vector256<float> v, float* p, int count)
    {
        var buffer = stackalloc float[8];
        v.Store(buffer);
        for (var i = 0; i < count; i++) p[i] = buffer[i];
    }
}
