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
