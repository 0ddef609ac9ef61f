using Dlc.Compiler.Ir;

namespace Dlc.Compiler.Ops;

/// <summary>
/// Multi-head self-attention over [N, T, E], with nn.MultiheadAttention's parameters: in_proj_weight
/// [3E, E], in_proj_bias [3E], out_proj.weight [E, E], out_proj.bias [E] (the biases are optional).
/// </summary>
internal static class AttentionOps
{
    public static IEnumerable<OpInfo> All =>
    [
        new(Op.MultiHeadAttention, "multi_head_attention", -1, Shape,
            "q, k, v = x·W_inᵀ + b_in split in heads; y = softmax(q·kᵀ/√(E/heads)) · v, joined, then ·W_outᵀ + b_out")
        {
            Cost = Cost,
        },
    ];

    private static Shape Shape(Shape[] s, OpAttributes a, Shape? declared)
    {
        var x = s[0];
        if (x.Rank != 3 || x[2].IsSymbolic) throw new ShapeException($"attention takes Tensor[N, T, features], got {x}");
        var e = x[2].Size;
        if (a.Heads < 1 || e % a.Heads != 0) throw new ShapeException($"{e} features do not split into {a.Heads} heads");
        var weights = s.Length == 5 ? new[] { s[1], s[3] } : s.Length == 3 ? new[] { s[1], s[2] } : throw new ShapeException($"attention takes 3 or 5 inputs, got {s.Length}");
        if (weights[0] != new Shape(3 * e, e) || weights[1] != new Shape(e, e))
            throw new ShapeException($"attention weights {weights[0]} and {weights[1]} do not fit {e} features");
        return x;
    }

    // Projections in and out (4·E² multiply-adds per position), scores and weighted values (2·T·E per
    // position), and about three operations per score for scaling and softmax.
    private static Count Cost(Node node, Shape[] s, string? batch)
    {
        var e = s[0][2].Size;
        var t = Count.Elements(new Shape(s[0][1]), batch);
        var projections = t * (2L * 4 * e * e);
        var attention = t * t * (2L * 2 * e);
        var softmax = t * t * (3L * node.Attributes.Heads);
        return projections + attention + softmax;
    }
}
