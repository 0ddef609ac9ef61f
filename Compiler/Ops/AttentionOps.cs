using Dlc.Compiler.Ir;

namespace Dlc.Compiler.Ops;

/// <summary>
/// Scaled dot-product attention over a packed projection x [N, T, 3E] (q, k and v side by side, as
/// nn.MultiheadAttention's in_proj computes them), split into heads; the result [N, T, E] joins the heads again.
/// A multi-head attention layer is this op between two dense products (in_proj and out_proj), so the
/// projections are ordinary matmuls and bias adds with their own gradients and fusions. A packed attention (a padded
/// batch) takes each sample's length [N] second and masks the keys past it.
/// </summary>
internal static class AttentionOps
{
    public static IEnumerable<OpInfo> All =>
    [
        new(Op.Attention, "attention", -1, Shape,
            "q, k, v = the thirds of x [N, T, 3E], split in heads; y = softmax(q·kᵀ/√(E/heads), causal mask optional, keys past each length [N] masked when packed) · v, heads joined [N, T, E]")
        {
            Cost = Cost,
            // The lengths come from the indices and take no gradient.
            NonDifferentiableInputs = [1],
            Backward = (c, node, dy) =>
            {
                if (c.NeedsGradient(node.Inputs[0])) c.Accumulate(node.Inputs[0], c.Emit(Op.AttentionGrad, node.Attributes, [node.Id, dy, .. node.Inputs]));
            },
        },
        new(Op.CrossAttention, "cross_attention", -1, CrossShape,
            "y [N, Tq, E] = the heads of softmax(q·kᵀ/√(E/heads), keys past each length [N] masked when packed) · v, joined (q [N, Tq, E], k, v [N, Tk, E])")
        {
            Cost = CrossCost,
            NonDifferentiableInputs = [3],
            Backward = (c, node, dy) =>
            {
                for (var input = 0; input < 3; input++)
                {
                    if (c.NeedsGradient(node.Inputs[input]))
                        c.Accumulate(node.Inputs[input], c.Emit(Op.CrossAttentionGrad, node.Attributes with { Axis = input }, [node.Id, dy, .. node.Inputs]));
                }
            },
        },
        new(Op.CrossAttentionGrad, "cross_attention_grad", -1, (s, a, d) => s[2 + a.Axis],
            "the gradient of cross_attention with respect to q (axis 0: dS·k/√d), k (1: dSᵀ·q/√d) or v (2: Pᵀ·dy) (the forward node, dy, q, k, v, and the lengths when packed)")
        {
            Cost = (node, s, batch) => CrossCost(node, s[2..], batch),
        },
        new(Op.AttentionGrad, "attention_grad", -1, (s, a, d) => s[2],
            "dx [N, T, 3E] of attention: dv = Pᵀ·dy, dS = P ∘ (dy·vᵀ − rowsum), dq = dS·k/√d, dk = dSᵀ·q/√d (the forward node, dy, x, and the lengths when packed)")
        {
            Cost = (node, s, batch) => Cost(node, [s[2]], batch) * 2,
        },
    ];

    private static Shape Shape(Shape[] s, OpAttributes a, Shape? declared)
    {
        var x = s[0];
        if (x.Rank != 3 || x[2].IsSymbolic || x[2].Size % 3 != 0) throw new ShapeException($"attention takes Tensor[N, T, 3·features], got {x}");
        var e = x[2].Size / 3;
        if (a.Heads < 1 || e % a.Heads != 0) throw new ShapeException($"{e} features do not split into {a.Heads} heads");
        if (s.Length != (a.Packed ? 2 : 1)) throw new ShapeException($"attention takes x{(a.Packed ? " and the lengths" : "")}, got {s.Length} inputs");
        if (a.Packed && s[1] != new Shape(x[0])) throw new ShapeException($"packed attention takes the lengths [{x[0]}] second, got {s[1]}");
        return new Shape(x[0], x[1], e);
    }

    private static Shape CrossShape(Shape[] s, OpAttributes a, Shape? declared)
    {
        if (s.Length != (a.Packed ? 4 : 3)) throw new ShapeException($"cross-attention takes q, k, v{(a.Packed ? " and the lengths" : "")}, got {s.Length} inputs");
        var (q, k, v) = (s[0], s[1], s[2]);
        if (q.Rank != 3 || q[2].IsSymbolic) throw new ShapeException($"cross-attention takes queries Tensor[N, Tq, E], got {q}");
        if (k.Rank != 3 || k[0] != q[0] || k[2] != q[2] || v != k)
            throw new ShapeException($"cross-attention takes keys and values Tensor[{q[0]}, Tk, {q[2]}] of one shape, got {k} and {v}");
        if (a.Heads < 1 || q[2].Size % a.Heads != 0) throw new ShapeException($"{q[2].Size} features do not split into {a.Heads} heads");
        if (a.Packed && s[3] != new Shape(q[0])) throw new ShapeException($"packed cross-attention takes the memory's lengths [{q[0]}] last, got {s[3]}");
        return q;
    }

    // Scores and weighted values: 2·Tq·Tk·E multiply-adds, and about three operations per score for the softmax.
    private static Count CrossCost(Node node, Shape[] s, string? batch)
    {
        var e = s[0][2].Size;
        var scores = Count.Elements(new Shape(s[0][1], s[1][1]), batch);
        return scores * (2L * 2 * e) + scores * (3L * node.Attributes.Heads);
    }

    // Scores and weighted values (2·T·E multiply-adds per position; half with a causal mask), and about three
    // operations per score for scaling and softmax.
    private static Count Cost(Node node, Shape[] s, string? batch)
    {
        var e = s[0][2].Size / 3;
        var t = Count.Elements(new Shape(s[0][1]), batch);
        var attention = t * t * (2L * 2 * e);
        var softmax = t * t * (3L * node.Attributes.Heads);
        return attention + softmax;
    }
}
