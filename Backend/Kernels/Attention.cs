using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Dlc.Backend.Gemm;

namespace Dlc.Backend.Kernels;

/// <summary>
/// The sizes of scaled dot-product attention over a packed projection: x [N, T, 3E] holds q, k and v side by
/// side (the thirds of nn.MultiheadAttention's in_proj), each split into <see cref="Heads"/> heads of
/// <see cref="HeadSize"/> features; the result y [N, T, E] joins the heads again.
/// </summary>
public readonly record struct AttentionGeometry(int Batch, int Steps, int Features, int Heads, bool Causal)
{
    public int HeadSize => Features / Heads;

    /// <summary>Floats between one position's q (or k, v) and the next position's: the packed row, 3E.</summary>
    public int Stride => 3 * Features;

    /// <summary>1/√(head size), applied to the scores before the softmax.</summary>
    public float Scale => 1f / MathF.Sqrt(HeadSize);

    /// <summary>Independent (sample, head) pairs: the unit the work is split by.</summary>
    public int Pairs => Batch * Heads;

    /// <summary>Positions row <paramref name="i"/> of the scores attends to: all of them, or itself and the earlier ones.</summary>
    public int Visible(int i) => Causal ? i + 1 : Steps;

    /// <summary>
    /// Positions row <paramref name="i"/> attends to in a sequence of <paramref name="length"/> real positions (the
    /// rest padding): the keys past the end are masked as −∞ before the softmax, as PyTorch's key_padding_mask.
    /// A sequence of padding only attends to nothing, and its rows are zero.
    /// </summary>
    public int Visible(int i, int length) => Math.Clamp(Math.Min(Visible(i), length), 0, Steps);

    public static AttentionGeometry Of(int[] x, int heads, bool causal)
    {
        if (x.Length != 3 || x[2] % 3 != 0 || x[2] / 3 % heads != 0)
            throw new ArgumentException($"attention takes [N, T, 3E] with E divisible by {heads} heads, got [{string.Join(", ", x)}]");
        return new AttentionGeometry(x[0], x[1], x[2] / 3, heads, causal);
    }
}

/// <summary>
/// Scaled dot-product attention (forward and backward) for one geometry, with the probabilities it keeps between
/// the two passes of a training step. Each (sample, head) pair is independent, so pairs are split over the plan's
/// threads, each running single-threaded products on its own pairs: S = q·kᵀ/√d straight out of the packed rows
/// (the GEMM's leading dimension steps over the other heads, so nothing is copied), the masked softmax in place, and
/// y = P·v written into the head's columns of y. With a causal mask the rows are taken in blocks, and each block's
/// products stop at the block's last visible column, so the masked half of the scores is not computed. When the head
/// size and the sequence are multiples of 8 (as in every model of the examples), the products run on
/// <see cref="SmallProducts"/> straight from the pair's rows, with its keys (or values) transposed once per pair.
/// </summary>
public sealed unsafe class AttentionKernel
{
    /// <summary>
    /// Rows of the scores per causal block: each block's products skip the columns no row of it sees. Smaller blocks waste
    /// less of the diagonal's masked half; 16 rather than 32 made a GPT block's attention (T = 128, head size 32) 9% faster.
    /// </summary>
    public const int CausalBlock = 16;

    private readonly AttentionGeometry _g;
    private readonly SampleParallel _parallel;
    private readonly IGemm _gemm;

    // With a backward pass: the probabilities P [N, H, T, T] of the last forward run, which it reads. Per part of the
    // pairs: the gradient of the scores [T, T], or without a backward pass the probabilities of the pair at hand.
    private readonly NativeBuffer? _probabilities;
    private readonly NativeBuffer[] _scratch;
    private readonly bool _small;

    private readonly SampleParallel.RangeBody _forwardBody, _backwardBody;
    private readonly Func<int, NativeBuffer> _allocate;
    private float* _x, _y, _dy, _dx, _lengths;

    // Generation: every earlier position's k and v per pair [N, H, capacity, d], and one row of scores.
    private NativeBuffer? _keys, _values, _scores;
    private SequenceCursor? _position;

    /// <param name="gemm">The products inside one thread's pairs (single-threaded when the pairs are split).</param>
    /// <param name="allocate">Buffers, owned by the caller.</param>
    /// <param name="backward">Whether <see cref="Backward"/> will run (a training plan).</param>
    public AttentionKernel(AttentionGeometry g, SampleParallel parallel, IGemm gemm, Func<int, NativeBuffer> allocate, bool backward)
    {
        _g = g;
        _parallel = parallel;
        _gemm = gemm;
        if (backward) _probabilities = allocate(g.Pairs * g.Steps * g.Steps);
        var parts = Math.Min(parallel.Threads, Math.Max(1, g.Pairs));
        _small = SmallProducts.IsSupported && g.HeadSize % 8 == 0 && g.Steps % 8 == 0;
        // Per part: the scores of one pair [T, T], then with small products its keys or values transposed [d, T].
        var scratch = g.Steps * g.Steps + (_small ? g.HeadSize * g.Steps : 0);
        _scratch = Enumerable.Range(0, parts).Select(_ => allocate(scratch)).ToArray();
        _forwardBody = ForwardPart;
        _backwardBody = BackwardPart;
        _allocate = allocate;
    }

    public AttentionGeometry Geometry => _g;


    /// <summary>
    /// y [N, T, E] = the heads of softmax(mask(q·kᵀ/√d))·v, joined (x [N, T, 3E]). With <paramref name="lengths"/> [N]
    /// (a padded batch) each sample's keys past its length are masked too; null reads every position.
    /// </summary>
    public void Forward(float* x, float* y, float* lengths = null)
    {
        if (_position is { } position)
        {
            ForwardCached(x, y, position);
            return;
        }
        _x = x;
        _y = y;
        _lengths = lengths;
        _parallel.For(_g.Pairs, _forwardBody);
    }

    /// <summary>
    /// Generation with a key/value cache: each run's T positions continue the sequence at <paramref name="position"/>'s
    /// <see cref="SequenceCursor.Next"/>, attending to every position before them, whose keys and values earlier runs
    /// kept; so a new token costs one position's work however long the text is. Null returns to whole sequences.
    /// Only causal attention can generate: without the mask each position reads the ones after it.
    /// </summary>
    public void UseCache(SequenceCursor? position)
    {
        if (position is not null && !_g.Causal)
            throw new InvalidOperationException("attention without `causal = true` reads the whole sequence, so it cannot generate one step at a time");
        if (position is not null && (_keys is null || _keys.Length < _g.Pairs * position.Capacity * _g.HeadSize))
        {
            _keys = _allocate(_g.Pairs * position.Capacity * _g.HeadSize);
            _values = _allocate(_g.Pairs * position.Capacity * _g.HeadSize);
            _scores = _allocate(position.Capacity);
        }
        _position = position;
    }

    private void ForwardCached(float* x, float* y, SequenceCursor position)
    {
        var g = _g;
        var (t, d, stride, capacity) = (g.Steps, g.HeadSize, g.Stride, position.Capacity);
        if (position.Next + t > capacity)
            throw new InvalidOperationException($"the key/value cache holds {capacity} positions, and {position.Next + t} were asked for");
        var scores = _scores!.Span;
        for (var pair = 0; pair < g.Pairs; pair++)
        {
            var (n, h) = (pair / g.Heads, pair % g.Heads);
            var keys = new Span<float>(_keys!.Pointer + (long)pair * capacity * d, capacity * d);
            var values = new Span<float>(_values!.Pointer + (long)pair * capacity * d, capacity * d);
            for (var i = 0; i < t; i++)
            {
                var at = position.Next + i;
                var row = x + ((long)n * t + i) * stride + h * d;
                var q = new ReadOnlySpan<float>(row, d);
                new ReadOnlySpan<float>(row + g.Features, d).CopyTo(keys.Slice(at * d, d));
                new ReadOnlySpan<float>(row + 2 * g.Features, d).CopyTo(values.Slice(at * d, d));
                for (var j = 0; j <= at; j++) scores[j] = TensorPrimitives.Dot(q, keys.Slice(j * d, d)) * g.Scale;
                MaskedSoftmax(scores[..(at + 1)], at + 1);
                var output = new Span<float>(y + ((long)n * t + i) * g.Features + h * d, d);
                output.Clear();
                for (var j = 0; j <= at; j++) TensorPrimitives.MultiplyAdd(values.Slice(j * d, d), scores[j], output, output);
            }
        }
    }

    /// <summary>
    /// dx [N, T, 3E] (overwritten) from dy [N, T, E], with the probabilities of the forward run of the same x and
    /// <paramref name="lengths"/>.
    /// </summary>
    public void Backward(float* x, float* dy, float* dx, float* lengths = null)
    {
        _x = x;
        _dy = dy;
        _dx = dx;
        _lengths = lengths;
        _parallel.For(_g.Pairs, _backwardBody);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ForwardPart(int part, int start, int end)
    {
        var g = _g;
        var (t, d, stride) = (g.Steps, g.HeadSize, g.Stride);
        var keysT = _scratch[part].Pointer + (long)t * t;
        for (var pair = start; pair < end; pair++)
        {
            var (n, h) = (pair / g.Heads, pair % g.Heads);
            var q = _x + (long)n * t * stride + h * d;
            var k = q + g.Features;
            var v = q + 2 * g.Features;
            var p = _probabilities is null ? _scratch[part].Pointer : _probabilities.Pointer + (long)pair * t * t;
            var y = _y + (long)n * t * g.Features + h * d;
            var length = Length(n);
            if (_small) SmallProducts.Transpose(k, stride, t, d, keysT, t);
            for (var r0 = 0; r0 < t; r0 += BlockRows(g))
            {
                // Rows r0..r1 see at most the columns before r1, and none past the sequence's end.
                var r1 = Math.Min(t, r0 + BlockRows(g));
                var cols = Columns(g, r1, length);
                var pBlock = p + (long)r0 * t;
                var yBlock = y + (long)r0 * g.Features;
                if (_small)
                {
                    cols = WholeVectors(cols, t);
                    SmallProducts.Multiply(r1 - r0, cols, d, g.Scale, q + (long)r0 * stride, stride, 1, keysT, t, pBlock, t);
                }
                else _gemm.Sgemm(false, true, r1 - r0, cols, d, g.Scale, q + (long)r0 * stride, stride, k, stride, 0f, pBlock, t);
                for (var i = r0; i < r1; i++) MaskedSoftmax(new Span<float>(p + (long)i * t, t), g.Visible(i, length));
                if (_small) SmallProducts.Multiply(r1 - r0, d, cols, 1f, pBlock, t, 1, v, stride, yBlock, g.Features);
                else _gemm.Sgemm(false, false, r1 - r0, d, cols, 1f, pBlock, t, v, stride, 0f, yBlock, g.Features);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void BackwardPart(int part, int start, int end)
    {
        var g = _g;
        var (t, d, stride, e) = (g.Steps, g.HeadSize, g.Stride, g.Features);
        var ds = _scratch[part].Pointer;
        var valuesT = ds + (long)t * t;
        if (_probabilities is null) throw new InvalidOperationException("this attention kernel was made without a backward pass");
        for (var pair = start; pair < end; pair++)
        {
            var (n, h) = (pair / g.Heads, pair % g.Heads);
            var offset = (long)n * t * stride + h * d;
            float* q = _x + offset, k = q + e, v = q + 2 * e;
            float* dq = _dx + offset, dk = dq + e, dv = dq + 2 * e;
            var p = _probabilities.Pointer + (long)pair * t * t;
            var dy = _dy + (long)n * t * e + h * d;
            var length = Length(n);
            // dv = Pᵀ·dy; P is zero above the diagonal when causal and past the end, so the full product is still exact.
            if (_small)
            {
                SmallProducts.Transpose(v, stride, t, d, valuesT, t);
                TransposedProduct(p, dy, e, dv);
            }
            else _gemm.Sgemm(true, false, t, d, t, 1f, p, t, dy, e, 0f, dv, stride);
            for (var r0 = 0; r0 < t; r0 += BlockRows(g))
            {
                var r1 = Math.Min(t, r0 + BlockRows(g));
                var cols = Columns(g, r1, length);
                var dsBlock = ds + (long)r0 * t;
                // dP = dy·vᵀ over the visible columns, then dS = P ∘ (dP − rowsum(dP ∘ P)) / √d in place.
                if (_small)
                {
                    cols = WholeVectors(cols, t);
                    SmallProducts.Multiply(r1 - r0, cols, d, 1f, dy + (long)r0 * e, e, 1, valuesT, t, dsBlock, t);
                }
                else _gemm.Sgemm(false, true, r1 - r0, cols, d, 1f, dy + (long)r0 * e, e, v, stride, 0f, dsBlock, t);
                for (var i = r0; i < r1; i++)
                    SoftmaxGradient(new ReadOnlySpan<float>(p + (long)i * t, t), new Span<float>(ds + (long)i * t, t), g.Visible(i, length), g.Scale);
                // dq = dS·k over the visible columns.
                if (_small) SmallProducts.Multiply(r1 - r0, d, cols, 1f, dsBlock, t, 1, k, stride, dq + (long)r0 * stride, stride);
                else _gemm.Sgemm(false, false, r1 - r0, d, cols, 1f, dsBlock, t, k, stride, 0f, dq + (long)r0 * stride, stride);
            }
            // dk = dSᵀ·q (dS is zero where the mask hid a key).
            if (_small) TransposedProduct(ds, q, stride, dk);
            else _gemm.Sgemm(true, false, t, d, t, 1f, ds, t, q, stride, 0f, dk, stride);
        }
    }

    /// <summary>
    /// c [T, d] (row stride 3E) = aᵀ·b for a [T, T] (row stride T) and b [T, d] (row stride <paramref name="ldb"/>), in
    /// blocks of c's rows. With a causal mask, a is zero above its diagonal, so a block of rows from j sums a's rows
    /// from j on.
    /// </summary>
    private void TransposedProduct(float* a, float* b, int ldb, float* c)
    {
        var g = _g;
        var t = g.Steps;
        for (var j = 0; j < t; j += CausalBlock)
        {
            var from = g.Causal ? j : 0;
            SmallProducts.Multiply(Math.Min(CausalBlock, t - j), g.HeadSize, t - from, 1f, a + (long)from * t + j, 1, t,
                b + (long)from * ldb, ldb, c + (long)j * g.Stride, g.Stride);
        }
    }

    /// <summary>Sample <paramref name="n"/>'s length: its value in the lengths input, or every step without one.</summary>
    private int Length(int n) => _lengths is null ? _g.Steps : (int)_lengths[n];

    /// <summary>
    /// The score columns a block of rows ending at <paramref name="r1"/> computes: those before r1 when causal, none
    /// past the length; at least one, so the products stay well-formed (a row of padding only is cleared after).
    /// </summary>
    private static int Columns(AttentionGeometry g, int r1, int length) => Math.Max(1, Math.Min(g.Causal ? r1 : g.Steps, length));

    /// <summary>Score columns rounded up to whole vectors for the small products (T is a multiple of 8 on that path).</summary>
    private static int WholeVectors(int cols, int t) => Math.Min(t, (cols + 7) & ~7);

    /// <summary>The row blocks: one block of every row without a mask, blocks of <see cref="CausalBlock"/> with one.</summary>
    private static int BlockRows(AttentionGeometry g) => g.Causal ? CausalBlock : Math.Max(1, g.Steps);

    /// <summary>
    /// Softmax over the first <paramref name="visible"/> scores of a row, in place, with the maximum subtracted first
    /// (numerically stable); the hidden rest is set to zero, so products over the whole row stay exact. A last,
    /// partial vector goes through the same vector code as the rest, its hidden lanes read as −∞ (out of the
    /// maximum, zero in the sum).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MaskedSoftmax(Span<float> row, int visible)
    {
        if (visible == 0)
        {
            row.Clear();
            return;
        }
        fixed (float* r = row)
        {
            var whole = visible & ~7;
            var rest = visible - whole;
            var inTail = FirstLanes(rest);
            var tail = Vector256.ConditionalSelect(inTail, LoadPartial(r + whole, rest, row.Length - whole), Vector256.Create(float.NegativeInfinity));
            var most = tail;
            for (var i = 0; i < whole; i += 8) most = Vector256.Max(most, Vector256.Load(r + i));
            var shift = Vector256.Create(HorizontalMax(most));
            var sums = Vector256.ConditionalSelect(inTail, FloatExp.Exp8(tail - shift), Vector256<float>.Zero);
            tail = sums;
            for (var i = 0; i < whole; i += 8)
            {
                var e = FloatExp.Exp8(Vector256.Load(r + i) - shift);
                e.Store(r + i);
                sums += e;
            }
            var scale = Vector256.Create(1f / Vector256.Sum(sums));
            for (var i = 0; i < whole; i += 8) (Vector256.Load(r + i) * scale).Store(r + i);
            StorePartial(tail * scale, r + whole, rest, row.Length - whole);
        }
        row[visible..].Clear();
    }

    /// <summary>dS = P ∘ (dP − Σ dP ∘ P) · scale over the visible part of a row, in place in dP; zero beyond it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SoftmaxGradient(ReadOnlySpan<float> p, Span<float> dp, int visible, float scale)
    {
        fixed (float* ps = p, d = dp)
        {
            var whole = visible & ~7;
            var rest = visible - whole;
            // The partial vector's hidden lanes are zero in both, so they add nothing to the dot product.
            var inTail = FirstLanes(rest);
            var tailP = Vector256.ConditionalSelect(inTail, LoadPartial(ps + whole, rest, p.Length - whole), Vector256<float>.Zero);
            var tailD = Vector256.ConditionalSelect(inTail, LoadPartial(d + whole, rest, dp.Length - whole), Vector256<float>.Zero);
            var dots = tailD * tailP;
            for (var i = 0; i < whole; i += 8) dots = Vector256.FusedMultiplyAdd(Vector256.Load(d + i), Vector256.Load(ps + i), dots);
            var (dv, sv) = (Vector256.Create(Vector256.Sum(dots)), Vector256.Create(scale));
            for (var i = 0; i < whole; i += 8) ((Vector256.Load(d + i) - dv) * Vector256.Load(ps + i) * sv).Store(d + i);
            StorePartial((tailD - dv) * tailP * sv, d + whole, rest, dp.Length - whole);
        }
        dp[visible..].Clear();
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

/// <summary>
/// Where a sequence generated a few positions at a time has got to: the first position of the next run, and how many
/// positions the caches hold. A plan's attention layers and positional encodings share one.
/// </summary>
public sealed class SequenceCursor(int capacity)
{
    public int Capacity { get; } = capacity;

    /// <summary>The position of the first step of the next run.</summary>
    public int Next { get; set; }
}
