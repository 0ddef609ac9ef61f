using Dlc.Compiler.Ir;

namespace Dlc.Compiler.Ops;

/// <summary>
/// Normalisations with PyTorch's parameters: batch norm over the channel axis (weight, bias, running mean,
/// running variance), layer norm over the last axis (weight, bias); and the channel dropout mask.
/// </summary>
internal static class NormalizationOps
{
    public static IEnumerable<OpInfo> All =>
    [
        new(Op.BatchNorm, "batch_norm", 5, BatchNormShape,
            "y = (x − mean) / √(var + eps) · w + b per channel; batch statistics while training, running ones otherwise (x, w, b, mean, var)")
        {
            // Subtract, divide, scale and shift per element.
            Cost = (node, s, batch) => Count.Elements(node.Shape, batch) * 4,
        },
        new(Op.LayerNorm, "layer_norm", 3, LayerNormShape, "y = (x − mean) / √(var + eps) · w + b over the last axis (x, w, b)")
        {
            // Mean, variance, normalise, scale and shift per element.
            Cost = (node, s, batch) => Count.Elements(node.Shape, batch) * 5,
        },
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
        return s[0];
    }

    private static Shape LayerNormShape(Shape[] s, OpAttributes a, Shape? declared)
    {
        var features = new Shape(s[0].Last);
        if (s[1] != features || s[2] != features) throw new ShapeException($"layer norm parameters {s[1]} do not fit {s[0]}");
        return s[0];
    }
}
