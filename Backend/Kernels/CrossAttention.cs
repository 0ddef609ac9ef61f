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
/// Cross-attention (forward and backward) for one geometry: per (sample, head) pair, S = q·kᵀ/√d [Tq, Tk] read
/// straight out of the head's columns, the softmax over each row's visible keys in place (the memory's padding masked
/// when lengths are given), and y = P·v into the head's columns of y; the products are <see cref="AttentionPairs"/>'s,
/// as self-attention's. A training kernel keeps P [N, H, Tq, Tk] for the three gradients, which are separate ops (the
/// gradient of q, of k and of v), each computing only what it needs.
/// </summary>
public sealed unsafe class CrossAttentionKernel
{
    private readonly CrossAttentionGeometry _g;
    private readonly AttentionPairs _pairs;

    /// <param name="gemm">The products inside one thread's pairs (single-threaded when the pairs are split).</param>
    /// <param name="allocate">Buffers, owned by the caller.</param>
    /// <param name="backward">Whether gradients will run (a training plan): the probabilities are then kept.</param>
    public CrossAttentionKernel(CrossAttentionGeometry g, SampleParallel parallel, IGemm gemm, Func<int, NativeBuffer> allocate, bool backward)
    {
        _g = g;
        _pairs = new AttentionPairs(g.Batch, g.Heads, g.QuerySteps, g.KeySteps, g.HeadSize, false, g.Features, parallel, gemm, allocate, backward);
    }

    public CrossAttentionGeometry Geometry => _g;

    /// <summary>Whether the products run on the small-product path (the head size and Tk multiples of 8), else on the GEMM.</summary>
    public bool SmallProducts => _pairs.Small;

    /// <summary>y [N, Tq, E] = the heads of softmax(q·kᵀ/√d, padded keys masked)·v, joined; lengths [N] or null.</summary>
    public void Forward(float* q, float* k, float* v, float* y, float* lengths = null) => _pairs.Forward(q, k, v, y, lengths);

    /// <summary>
    /// The gradient with respect to input <paramref name="wrt"/> (0 q [N, Tq, E], 1 k or 2 v [N, Tk, E]), overwritten
    /// in <paramref name="dx"/>, from dy [N, Tq, E] and the probabilities of the forward run of the same inputs.
    /// </summary>
    public void Backward(int wrt, float* q, float* k, float* v, float* dy, float* dx, float* lengths = null)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)wrt, 2u, nameof(wrt));
        _pairs.Backward(q, k, v, dy, wrt == 0 ? dx : null, wrt == 1 ? dx : null, wrt == 2 ? dx : null, lengths);
    }
}
