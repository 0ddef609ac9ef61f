using System.Numerics.Tensors;
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
/// the two passes of a training step: the (sample, head) pairs' products are <see cref="AttentionPairs"/>'s, reading
/// q, k and v out of the packed rows. Generation with a key/value cache runs here, one position at a time.
/// </summary>
public sealed unsafe class AttentionKernel
{
    private readonly AttentionGeometry _g;
    private readonly AttentionPairs _pairs;
    private readonly Func<int, NativeBuffer> _allocate;

    // Generation: every earlier position's k and v per pair [N, H, capacity, d], and one row of scores.
    private NativeBuffer? _keys, _values, _scores;
    private SequenceCursor? _position;

    /// <param name="gemm">The products inside one thread's pairs (single-threaded when the pairs are split).</param>
    /// <param name="allocate">Buffers, owned by the caller.</param>
    /// <param name="backward">Whether <see cref="Backward"/> will run (a training plan).</param>
    public AttentionKernel(AttentionGeometry g, SampleParallel parallel, IGemm gemm, Func<int, NativeBuffer> allocate, bool backward)
    {
        _g = g;
        _pairs = new AttentionPairs(g.Batch, g.Heads, g.Steps, g.Steps, g.HeadSize, g.Causal, g.Stride, parallel, gemm, allocate, backward);
        _allocate = allocate;
    }

    public AttentionGeometry Geometry => _g;

    /// <summary>
    /// y [N, T, E] = the heads of softmax(mask(q·kᵀ/√d))·v, joined (x [N, T, 3E]). With <paramref name="lengths"/> [N]
    /// (a padded batch) each sample's keys past its length are masked too; null reads every position.
    /// </summary>
    public void Forward(float* x, float* y, float* lengths = null)
    {
        if (_position is { } position) ForwardCached(x, y, position);
        else _pairs.Forward(x, x + _g.Features, x + 2 * _g.Features, y, lengths);
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
                AttentionPairs.MaskedSoftmax(scores[..(at + 1)], at + 1);
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
        var e = _g.Features;
        _pairs.Backward(x, x + e, x + 2 * e, dy, dx, dx + e, dx + 2 * e, lengths);
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
