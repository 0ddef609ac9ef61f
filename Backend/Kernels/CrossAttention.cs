using Dlc.Backend.Gemm;

namespace Dlc.Backend.Kernels;

/// <summary>
/// The sizes of scaled dot-product attention from one sequence to another: queries q [N, Tq, E] (projected from the
/// decoder's sequence), keys k and values v [N, Tk, E] (projected from the memory, the encoder's result), each split
/// into <see cref="Heads"/> heads; the result y [N, Tq, E] joins the heads again.
/// </summary>
public readonly record struct CrossAttentionGeometry(int Batch, int QuerySteps, int KeySteps, int Features, int Heads)
{
    public int HeadSize => Features / Heads;

    /// <summary>1/√(head size), applied to the scores before the softmax.</summary>
    public float Scale => 1f / MathF.Sqrt(HeadSize);

    /// <summary>Independent (sample, head) pairs: the unit the work is split by.</summary>
    public int Pairs => Batch * Heads;

    /// <summary>The keys a query of a sample with <paramref name="length"/> real memory positions sees.</summary>
    public int Visible(int length) => Math.Clamp(length, 0, KeySteps);

    public static CrossAttentionGeometry Of(int[] q, int[] k, int heads)
    {
        if (q.Length != 3 || k.Length != 3 || q[0] != k[0] || q[2] != k[2] || q[2] % heads != 0)
            throw new ArgumentException($"cross-attention takes q [N, Tq, E] and k, v [N, Tk, E] with E divisible by {heads} heads, got [{string.Join(", ", q)}] and [{string.Join(", ", k)}]");
        return new CrossAttentionGeometry(q[0], q[1], k[1], q[2], heads);
    }
}

/// <summary>
/// Cross-attention (forward and backward) for one geometry: per (sample, head) pair, S = q·kᵀ/√d [Tq, Tk] by one
/// product read straight out of the head's columns, the softmax over each row's visible keys in place (the memory's
/// padding masked when lengths are given), and y = P·v into the head's columns of y. The pairs are split over the
/// plan's threads. A training kernel keeps P [N, H, Tq, Tk] for the three gradients, which are separate ops (the
/// gradient of q, of k and of v), each computing only what it needs.
/// </summary>
public sealed unsafe class CrossAttentionKernel
{
    private readonly CrossAttentionGeometry _g;
    private readonly SampleParallel _parallel;
    private readonly IGemm _gemm;
    private readonly NativeBuffer? _probabilities;
    private readonly NativeBuffer[] _scratch;
    private readonly SampleParallel.RangeBody _forwardBody, _backwardBody;
    private float* _q, _k, _v, _y, _dy, _dx, _lengths;
    private int _wrt;

    /// <param name="backward">Whether gradients will run (a training plan): the probabilities are then kept.</param>
    public CrossAttentionKernel(CrossAttentionGeometry g, SampleParallel parallel, IGemm gemm, Func<int, NativeBuffer> allocate, bool backward)
    {
        _g = g;
        _parallel = parallel;
        _gemm = gemm;
        if (backward) _probabilities = allocate(g.Pairs * g.QuerySteps * g.KeySteps);
        var parts = Math.Min(parallel.Threads, Math.Max(1, g.Pairs));
        _scratch = Enumerable.Range(0, parts).Select(_ => allocate(g.QuerySteps * g.KeySteps)).ToArray();
        _forwardBody = ForwardPart;
        _backwardBody = BackwardPart;
    }

    public CrossAttentionGeometry Geometry => _g;

    /// <summary>y [N, Tq, E] = the heads of softmax(q·kᵀ/√d, padded keys masked)·v, joined; lengths [N] or null.</summary>
    public void Forward(float* q, float* k, float* v, float* y, float* lengths = null)
    {
        _q = q;
        _k = k;
        _v = v;
        _y = y;
        _lengths = lengths;
        _parallel.For(_g.Pairs, _forwardBody);
    }

    /// <summary>
    /// The gradient with respect to input <paramref name="wrt"/> (0 q [N, Tq, E], 1 k or 2 v [N, Tk, E]), overwritten
    /// in <paramref name="dx"/>, from dy [N, Tq, E] and the probabilities of the forward run of the same inputs.
    /// </summary>
    public void Backward(int wrt, float* q, float* k, float* v, float* dy, float* dx, float* lengths = null)
    {
        if (_probabilities is null) throw new InvalidOperationException("this cross-attention kernel was made without a backward pass");
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)wrt, 2u, nameof(wrt));
        _q = q;
        _k = k;
        _v = v;
        _dy = dy;
        _dx = dx;
        _lengths = lengths;
        _wrt = wrt;
        _parallel.For(_g.Pairs, _backwardBody);
    }

    private int Length(int n) => _lengths is null ? _g.KeySteps : (int)_lengths[n];

    private void ForwardPart(int part, int start, int end)
    {
        var g = _g;
        var (tq, tk, d, e) = (g.QuerySteps, g.KeySteps, g.HeadSize, g.Features);
        for (var pair = start; pair < end; pair++)
        {
            var (n, h) = (pair / g.Heads, pair % g.Heads);
            var q = _q + (long)n * tq * e + h * d;
            var k = _k + (long)n * tk * e + h * d;
            var v = _v + (long)n * tk * e + h * d;
            var y = _y + (long)n * tq * e + h * d;
            var p = _probabilities is null ? _scratch[part].Pointer : _probabilities.Pointer + (long)pair * tq * tk;
            var visible = g.Visible(Length(n));
            // At least one column, so the products stay well-formed; a memory of padding only is cleared after.
            var cols = Math.Max(1, visible);
            _gemm.Sgemm(false, true, tq, cols, d, g.Scale, q, e, k, e, 0f, p, tk);
            for (var i = 0; i < tq; i++) AttentionKernel.MaskedSoftmax(new Span<float>(p + (long)i * tk, tk), visible);
            _gemm.Sgemm(false, false, tq, d, cols, 1f, p, tk, v, e, 0f, y, e);
        }
    }

    private void BackwardPart(int part, int start, int end)
    {
        var g = _g;
        var (tq, tk, d, e) = (g.QuerySteps, g.KeySteps, g.HeadSize, g.Features);
        var ds = _scratch[part].Pointer;
        for (var pair = start; pair < end; pair++)
        {
            var (n, h) = (pair / g.Heads, pair % g.Heads);
            var offsetQ = (long)n * tq * e + h * d;
            var offsetK = (long)n * tk * e + h * d;
            var p = _probabilities!.Pointer + (long)pair * tq * tk;
            var dy = _dy + offsetQ;
            if (_wrt == 2)
            {
                // dv = Pᵀ·dy; P is zero where a key was masked, so the padded values get zeros.
                _gemm.Sgemm(true, false, tk, d, tq, 1f, p, tk, dy, e, 0f, _dx + offsetK, e);
                continue;
            }
            var visible = g.Visible(Length(n));
            var cols = Math.Max(1, visible);
            // dP = dy·vᵀ, then dS = P ∘ (dP − rowsum(dP ∘ P)) / √d in place.
            _gemm.Sgemm(false, true, tq, cols, d, 1f, dy, e, _v + offsetK, e, 0f, ds, tk);
            for (var i = 0; i < tq; i++)
                AttentionKernel.SoftmaxGradient(new ReadOnlySpan<float>(p + (long)i * tk, tk), new Span<float>(ds + (long)i * tk, tk), visible, g.Scale);
            if (_wrt == 0) _gemm.Sgemm(false, false, tq, d, tk, 1f, ds, tk, _k + offsetK, e, 0f, _dx + offsetQ, e);
            else _gemm.Sgemm(true, false, tk, d, tq, 1f, ds, tk, _q + offsetQ, e, 0f, _dx + offsetK, e);
        }
    }
}
