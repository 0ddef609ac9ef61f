using Dlc.Compiler.Ir;

namespace Dlc.Compiler.Ops;

/// <summary>
/// Weight normalisation (Salimans and Kingma 2016), as PyTorch's <c>weight_norm(module, dim=0)</c>: a layer's
/// weight w [K, …] is computed from a direction v of the same shape and a length g [K, 1, …, 1], one per
/// output unit: w[k] = g[k] · v[k] / ‖v[k]‖, the norm over everything but axis 0. With û = v[k] / ‖v[k]‖,
/// dg[k] = Σ dw[k] · û and dv[k] = g[k] / ‖v[k]‖ · (dw[k] − dg[k] · û): the gradient of v is the part of dw
/// orthogonal to v, scaled.
/// </summary>
internal static class WeightNormOps
{
    public static IEnumerable<OpInfo> All =>
    [
        new(Op.WeightNorm, "weight_norm", 2, WeightNormShape, "w[k, …] = g[k] · v[k, …] / ‖v[k, …]‖ per row of axis 0 (v, g)")
        {
            // A square and a sum per element for the norms, then a scale.
            Cost = (node, s, batch) => Count.Elements(node.Shape, batch) * 3,
            Backward = WeightNormBackward,
        },
        new(Op.WeightNormDirectionGrad, "weight_norm_direction_grad", 3, (s, a, d) => s[0],
            "dv[k] = g[k] / ‖v[k]‖ · (dw[k] − (dw[k] · û) û) with û = v[k] / ‖v[k]‖ (v, g, dw)")
        {
            Cost = (node, s, batch) => Count.Elements(node.Shape, batch) * 6,
        },
        new(Op.WeightNormScaleGrad, "weight_norm_scale_grad", 3, (s, a, d) => s[1],
            "dg[k] = Σ dw[k, …] · v[k, …] / ‖v[k]‖ (v, g for its shape, dw)")
        {
            Cost = (node, s, batch) => Count.Elements(s[0], batch) * 3,
        },
    ];

    /// <summary>The shape of g for a weight of shape <paramref name="v"/>: [K, 1, …, 1], as PyTorch keeps it.</summary>
    public static Shape ScaleShape(Shape v) => new(v.Dims.Select((d, i) => i == 0 ? d : Dim.Of(1)));

    private static Shape WeightNormShape(Shape[] s, OpAttributes a, Shape? declared)
    {
        if (s[0].Rank < 2) throw new ShapeException($"weight normalisation needs a weight with an output axis and more, got {s[0]}");
        if (s[0].Dims.Any(d => d.IsSymbolic)) throw new ShapeException($"weight normalisation needs a weight of fixed size, got {s[0]}");
        if (s[1] != ScaleShape(s[0])) throw new ShapeException($"the length g {s[1]} does not fit the direction {s[0]}: it should be {ScaleShape(s[0])}");
        return s[0];
    }

    private static void WeightNormBackward(BackwardContext c, Node node, int dw)
    {
        var (v, g) = (node.Inputs[0], node.Inputs[1]);
        if (c.NeedsGradient(v)) c.Accumulate(v, c.Emit(Op.WeightNormDirectionGrad, v, g, dw));
        if (c.NeedsGradient(g)) c.Accumulate(g, c.Emit(Op.WeightNormScaleGrad, v, g, dw));
    }
}
