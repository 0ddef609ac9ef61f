using Dlc.Compiler.Ir;

namespace Dlc.Compiler.Ops;

/// <summary>
/// Normalisations with PyTorch's parameters: batch norm over the channel axis (weight, bias, running mean,
/// running variance, and PyTorch's count of batches seen), layer norm over the last axis (weight, bias);
/// and the channel dropout mask. The gradient ops find the statistics again from x rather than keeping
/// them from the forward pass: one more pass over x, and no state shared between steps.
/// </summary>
internal static class NormalizationOps
{
    public static IEnumerable<OpInfo> All =>
    [
        new(Op.BatchNorm, "batch_norm", 6, BatchNormShape,
            "y = (x − mean) / √(var + eps) · w + b per channel; while training the batch's statistics, which also move the running ones, else the running ones (x, w, b, running mean, running var, batches seen)")
        {
            // Subtract, divide, scale and shift per element.
            Cost = (node, s, batch) => Count.Elements(node.Shape, batch) * 4,
            Backward = BatchNormBackward,
            NonDifferentiableInputs = [3, 4, 5],
        },
        new(Op.BatchNormInputGrad, "batch_norm_input_grad", 4, (s, a, d) => s[0],
            "dx of batch_norm: through the batch's statistics while training, else dy · w / √(running var + eps) (x, w, running var, dy)")
        {
            Cost = (node, s, batch) => Count.Elements(node.Shape, batch) * 8,
        },
        new(Op.BatchNormWeightGrad, "batch_norm_weight_grad", 4, (s, a, d) => s[1],
            "dw[C] = Σ dy · (x − mean) / √(var + eps), with batch_norm's statistics (x, running mean, running var, dy)")
        {
            Cost = (node, s, batch) => Count.Elements(s[0], batch) * 4,
        },
        new(Op.LayerNorm, "layer_norm", 3, LayerNormShape, "y = (x − mean) / √(var + eps) · w + b over the last axis (x, w, b)")
        {
            // Mean, variance, normalise, scale and shift per element.
            Cost = (node, s, batch) => Count.Elements(node.Shape, batch) * 5,
            Backward = LayerNormBackward,
        },
        new(Op.LayerNormInputGrad, "layer_norm_input_grad", 3, (s, a, d) => s[0],
            "dx = (g − mean(g) − x̂ · mean(g · x̂)) / √(var + eps) with g = dy · w, per row (x, w, dy)")
        {
            Cost = (node, s, batch) => Count.Elements(node.Shape, batch) * 8,
        },
        new(Op.LayerNormWeightGrad, "layer_norm_weight_grad", 2, (s, a, d) => new Shape(s[0].Last),
            "dw = Σ over the rows of dy · x̂ (x, dy)")
        {
            Cost = (node, s, batch) => Count.Elements(s[0], batch) * 4,
        },
        new(Op.BatchNormFoldWeight, "batch_norm_fold_weight", 3, FoldWeightShape,
            "w'[k, …] = w[k, …] · γ[k] / √(running var[k] + eps): a convolution's weight with the evaluation-mode batch norm after it folded in (w, γ, running var)")
        {
            Cost = (node, s, batch) => Count.Elements(node.Shape, batch),
        },
        new(Op.BatchNormFoldBias, "batch_norm_fold_bias", 5, FoldBiasShape,
            "b'[k] = (b[k] − running mean[k]) · γ[k] / √(running var[k] + eps) + β[k]: the bias that goes with batch_norm_fold_weight (b, γ, β, running mean, running var)"),
        new(Op.ChannelDropoutMask, "channel_dropout_mask", 1, OpTable.SameAsFirst,
            "m = 0 for a whole channel with probability value, else 1/(1 − value); the shape of x")
        {
            IsRandom = true,
        },
    ];

    private static Shape BatchNormShape(Shape[] s, OpAttributes a, Shape? declared)
    {
        if (s[0].Rank < 2) throw new ShapeException($"batch norm needs a channel axis, got {s[0]}");
        var channels = new Shape(s[0][1]);
        for (var i = 1; i < 5; i++)
        {
            if (s[i] != channels) throw new ShapeException($"batch norm statistics {s[i]} do not fit {s[0][1]} channels");
        }
        if (s[5] != Shape.Scalar) throw new ShapeException($"batch norm's count of batches must be a scalar, got {s[5]}");
        return s[0];
    }

    private static Shape FoldWeightShape(Shape[] s, OpAttributes a, Shape? declared)
    {
        if (s[0].Rank < 2) throw new ShapeException($"a folded weight needs an output-channel axis, got {s[0]}");
        var channels = new Shape(s[0][0]);
        if (s[1] != channels || s[2] != channels) throw new ShapeException($"batch norm parameters {s[1]}, {s[2]} do not fit the weight's {s[0][0]} output channels");
        return s[0];
    }

    private static Shape FoldBiasShape(Shape[] s, OpAttributes a, Shape? declared)
    {
        if (s[0].Rank != 1) throw new ShapeException($"a bias is one number per channel, got {s[0]}");
        for (var i = 1; i < 5; i++)
        {
            if (s[i] != s[0]) throw new ShapeException($"batch norm parameter {s[i]} does not fit the bias {s[0]}");
        }
        return s[0];
    }

    private static void BatchNormBackward(BackwardContext c, Node node, int dy)
    {
        var (x, w, b, mean, variance) = (node.Inputs[0], node.Inputs[1], node.Inputs[2], node.Inputs[3], node.Inputs[4]);
        if (c.NeedsGradient(x)) c.Accumulate(x, c.Emit(Op.BatchNormInputGrad, node.Attributes, x, w, variance, dy));
        if (c.NeedsGradient(w)) c.Accumulate(w, c.Emit(Op.BatchNormWeightGrad, node.Attributes, x, mean, variance, dy));
        // db[C] = Σ over the batch and positions of dy: the same sum as a convolution's bias gradient.
        if (c.NeedsGradient(b)) c.Accumulate(b, c.Emit(Op.Conv2dBiasGrad, dy));
    }

    private static void LayerNormBackward(BackwardContext c, Node node, int dy)
    {
        var (x, w, b) = (node.Inputs[0], node.Inputs[1], node.Inputs[2]);
        if (c.NeedsGradient(x)) c.Accumulate(x, c.Emit(Op.LayerNormInputGrad, node.Attributes, x, w, dy));
        if (c.NeedsGradient(w)) c.Accumulate(w, c.Emit(Op.LayerNormWeightGrad, node.Attributes, x, dy));
        if (c.NeedsGradient(b)) c.Accumulate(b, c.Emit(Op.BiasGrad, dy));
    }

    private static Shape LayerNormShape(Shape[] s, OpAttributes a, Shape? declared)
    {
        var features = new Shape(s[0].Last);
        if (s[1] != features || s[2] != features) throw new ShapeException($"layer norm parameters {s[1]} do not fit {s[0]}");
        return s[0];
    }
}
