using Dlc.Diagnostics;

namespace Dlc.Compiler.Elaboration;

/// <summary>
/// `weightNorm layer`: the layer with each weight matrix reparameterised as w = g · v / ‖v‖ per output unit
/// (Salimans and Kingma 2016), as PyTorch's <c>torch.nn.utils.weight_norm(module)</c> with dim 0. A dense or
/// convolution layer's `weight` becomes `weight_v` (its shape) and `weight_g` ([out, 1, …]); a recurrent layer's
/// `weight_ih_l{k}` and `weight_hh_l{k}` each become a `_v` and `_g` pair. Biases are left alone. The layer
/// starts out computing what it would without: v is initialised as the weight and g as v's row norms.
/// </summary>
public sealed class WeightNormLayer(Layer inner) : Layer
{
    public Layer Inner { get; } = inner;

    public override string Describe() => $"weightNorm ({Inner.Describe()})";

    /// <summary>Options go to the wrapped layer: `weightNorm (dense 8) (bias = false)`.</summary>
    public override Layer Configure(Elaborator e, NamedArgsValue options) => new WeightNormLayer(Inner.Configure(e, options)) { Site = Site };

    /// <summary>Whether weight normalisation applies to <paramref name="layer"/>: one layer with weight matrices.</summary>
    public static bool CanWrap(Layer layer) => layer is DenseLayer or ConvLayer or RecurrentLayer;

    protected override TensorValue Forward(Elaborator e, TensorValue x, TextSpan span)
    {
        var rows = e.Rows.Count;
        var (y, weights, lengths) = e.WithWeightNorm(() => Inner.Apply(e, x, span));
        // The lengths are parameters of the wrapped layer's row in the layer table (none on a shared layer's reuse).
        if (weights > 0 && e.Rows.Count > rows) e.AddRowParameters(rows, lengths);
        return y;
    }
}
