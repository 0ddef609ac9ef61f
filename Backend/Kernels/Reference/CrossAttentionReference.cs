using System.Numerics;

namespace Dlc.Backend.Kernels.Reference;

/// <summary>
/// Definitions of <see cref="CrossAttentionKernel"/> in plain loops, generic over T. q [N, Tq, E], k and v [N, Tk, E],
/// each split into heads of d = E/heads features; y [N, Tq, E]. Per sample n and head h: S[i, j] = q_i·k_j/√d for the
/// keys j below the sample's length (all without lengths), P = softmax over each row's visible scores,
/// y_i = Σ_j P[i, j]·v_j; a memory of padding only gives zero rows.
/// </summary>
public static class CrossAttentionReference
{
    public static void Forward<T>(ReadOnlySpan<T> q, ReadOnlySpan<T> k, ReadOnlySpan<T> v, Span<T> y, CrossAttentionGeometry g, int[]? lengths = null)
        where T : IFloatingPointIeee754<T>
    {
        var p = new T[g.KeySteps];
        for (var n = 0; n < g.Batch; n++)
        {
            for (var h = 0; h < g.Heads; h++)
            {
                for (var i = 0; i < g.QuerySteps; i++)
                {
                    var visible = Visible(g, n, lengths);
                    Probabilities(q, k, g, n, h, i, visible, p);
                    for (var c = 0; c < g.HeadSize; c++)
                    {
                        var sum = T.Zero;
                        for (var j = 0; j < visible; j++) sum += p[j] * v[Kv(g, n, j, h, c)];
                        y[Q(g, n, i, h, c)] = sum;
                    }
                }
            }
        }
    }

    /// <summary>dq, dk and dv (overwritten) from dy [N, Tq, E].</summary>
    public static void Backward<T>(ReadOnlySpan<T> q, ReadOnlySpan<T> k, ReadOnlySpan<T> v, ReadOnlySpan<T> dy,
        Span<T> dq, Span<T> dk, Span<T> dv, CrossAttentionGeometry g, int[]? lengths = null) where T : IFloatingPointIeee754<T>
    {
        dq.Clear();
        dk.Clear();
        dv.Clear();
        var scale = T.One / T.Sqrt(T.CreateChecked(g.HeadSize));
        var p = new T[g.KeySteps];
        var dp = new T[g.KeySteps];
        for (var n = 0; n < g.Batch; n++)
        {
            for (var h = 0; h < g.Heads; h++)
            {
                for (var i = 0; i < g.QuerySteps; i++)
                {
                    var visible = Visible(g, n, lengths);
                    Probabilities(q, k, g, n, h, i, visible, p);
                    var dot = T.Zero;
                    for (var j = 0; j < visible; j++)
                    {
                        dp[j] = T.Zero;
                        for (var c = 0; c < g.HeadSize; c++)
                        {
                            var dyc = dy[Q(g, n, i, h, c)];
                            dp[j] += dyc * v[Kv(g, n, j, h, c)];
                            dv[Kv(g, n, j, h, c)] += p[j] * dyc;
                        }
                        dot += dp[j] * p[j];
                    }
                    for (var j = 0; j < visible; j++)
                    {
                        var ds = p[j] * (dp[j] - dot) * scale;
                        for (var c = 0; c < g.HeadSize; c++)
                        {
                            dq[Q(g, n, i, h, c)] += ds * k[Kv(g, n, j, h, c)];
                            dk[Kv(g, n, j, h, c)] += ds * q[Q(g, n, i, h, c)];
                        }
                    }
                }
            }
        }
    }

    private static void Probabilities<T>(ReadOnlySpan<T> q, ReadOnlySpan<T> k, CrossAttentionGeometry g, int n, int h, int i, int visible, T[] p)
        where T : IFloatingPointIeee754<T>
    {
        var scale = T.One / T.Sqrt(T.CreateChecked(g.HeadSize));
        for (var j = 0; j < visible; j++)
        {
            var s = T.Zero;
            for (var c = 0; c < g.HeadSize; c++) s += q[Q(g, n, i, h, c)] * k[Kv(g, n, j, h, c)];
            p[j] = s * scale;
        }
        SoftmaxReference.Softmax<T>(p.AsSpan(0, visible), p.AsSpan(0, visible), 1, visible);
    }

    private static int Visible(CrossAttentionGeometry g, int n, int[]? lengths) => lengths is null ? g.KeySteps : g.Visible(lengths[n]);

    private static int Q(CrossAttentionGeometry g, int n, int i, int h, int c) => (n * g.QuerySteps + i) * g.Features + h * g.HeadSize + c;

    private static int Kv(CrossAttentionGeometry g, int n, int j, int h, int c) => (n * g.KeySteps + j) * g.Features + h * g.HeadSize + c;
}
