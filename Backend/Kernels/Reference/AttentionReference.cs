using System.Numerics;

namespace Dlc.Backend.Kernels.Reference;

/// <summary>
/// Definitions of <see cref="AttentionKernel"/> in plain loops, generic over T. x [N, T, 3E] holds q, k, v side by
/// side, each split into heads of d = E/heads features; y [N, T, E]. Per sample n and head h:
/// S[i, j] = q_i·k_j/√d for the visible j (all, or j ≤ i when causal), P = softmax over each row's visible scores,
/// y_i = Σ_j P[i, j]·v_j. With lengths [N] (a padded batch) the keys j ≥ length are hidden as well, and every row of a
/// sample of length 0 is zero.
/// </summary>
public static class AttentionReference
{
    public static void Forward<T>(ReadOnlySpan<T> x, Span<T> y, AttentionGeometry g, int[]? lengths = null) where T : IFloatingPointIeee754<T>
    {
        Check(x.Length, y.Length, g);
        var (t, d) = (g.Steps, g.HeadSize);
        var p = new T[t];
        for (var n = 0; n < g.Batch; n++)
        {
            for (var h = 0; h < g.Heads; h++)
            {
                for (var i = 0; i < t; i++)
                {
                    var visible = Visible(g, i, n, lengths);
                    Probabilities(x, g, n, h, i, visible, p);
                    for (var c = 0; c < d; c++)
                    {
                        var sum = T.Zero;
                        for (var j = 0; j < visible; j++) sum += p[j] * x[V(g, n, j, h, c)];
                        y[(n * t + i) * g.Features + h * d + c] = sum;
                    }
                }
            }
        }
    }

    /// <summary>dx [N, T, 3E] (overwritten) from dy [N, T, E].</summary>
    public static void Backward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> dy, Span<T> dx, AttentionGeometry g, int[]? lengths = null) where T : IFloatingPointIeee754<T>
    {
        Check(x.Length, dy.Length, g);
        Shapes.Same(x.Length, dx.Length, nameof(dx));
        dx.Clear();
        var (t, d) = (g.Steps, g.HeadSize);
        var scale = T.One / T.Sqrt(T.CreateChecked(d));
        var p = new T[t];
        var dp = new T[t];
        for (var n = 0; n < g.Batch; n++)
        {
            for (var h = 0; h < g.Heads; h++)
            {
                for (var i = 0; i < t; i++)
                {
                    var visible = Visible(g, i, n, lengths);
                    Probabilities(x, g, n, h, i, visible, p);
                    // dP[j] = dy_i·v_j, and dv_j += P[i, j]·dy_i.
                    var dot = T.Zero;
                    for (var j = 0; j < visible; j++)
                    {
                        dp[j] = T.Zero;
                        for (var c = 0; c < d; c++)
                        {
                            var dyc = dy[(n * t + i) * g.Features + h * d + c];
                            dp[j] += dyc * x[V(g, n, j, h, c)];
                            dx[V(g, n, j, h, c)] += p[j] * dyc;
                        }
                        dot += dp[j] * p[j];
                    }
                    // dS[j] = P[j]·(dP[j] − Σ dP·P); S = q·k/√d.
                    for (var j = 0; j < visible; j++)
                    {
                        var ds = p[j] * (dp[j] - dot) * scale;
                        for (var c = 0; c < d; c++)
                        {
                            dx[Q(g, n, i, h, c)] += ds * x[K(g, n, j, h, c)];
                            dx[K(g, n, j, h, c)] += ds * x[Q(g, n, i, h, c)];
                        }
                    }
                }
            }
        }
    }

    /// <summary>Row i of P for sample n and head h: softmax of the visible scores, the maximum subtracted first.</summary>
    private static void Probabilities<T>(ReadOnlySpan<T> x, AttentionGeometry g, int n, int h, int i, int visible, T[] p) where T : IFloatingPointIeee754<T>
    {
        var scale = T.One / T.Sqrt(T.CreateChecked(g.HeadSize));
        for (var j = 0; j < visible; j++)
        {
            var s = T.Zero;
            for (var c = 0; c < g.HeadSize; c++) s += x[Q(g, n, i, h, c)] * x[K(g, n, j, h, c)];
            p[j] = s * scale;
        }
        SoftmaxReference.Softmax<T>(p.AsSpan(0, visible), p.AsSpan(0, visible), 1, visible);
    }

    /// <summary>The keys row i of sample n sees: the causal limit, and none at or past the sample's length.</summary>
    private static int Visible(AttentionGeometry g, int i, int n, int[]? lengths) =>
        lengths is null ? g.Visible(i) : Math.Min(g.Visible(i), Math.Max(0, lengths[n]));

    private static int Q(AttentionGeometry g, int n, int i, int h, int c) => (n * g.Steps + i) * g.Stride + h * g.HeadSize + c;

    private static int K(AttentionGeometry g, int n, int i, int h, int c) => Q(g, n, i, h, c) + g.Features;

    private static int V(AttentionGeometry g, int n, int i, int h, int c) => Q(g, n, i, h, c) + 2 * g.Features;

    private static void Check(int x, int y, AttentionGeometry g)
    {
        Shapes.Same(g.Batch * g.Steps * g.Stride, x, "x");
        Shapes.Same(g.Batch * g.Steps * g.Features, y, "y");
    }
}
