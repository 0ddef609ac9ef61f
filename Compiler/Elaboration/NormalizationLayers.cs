using System.Globalization;
using Dlc.Compiler.Ir;
using Dlc.Diagnostics;

namespace Dlc.Compiler.Elaboration;

/// <summary>
/// `batchNorm` (options `eps`, `momentum`): per channel (axis 1) of [N, C], [N, C, L] or [N, C, H, W], as
/// torch.nn's BatchNorm1d/2d: weight (ones) and bias (zeros) are trained; running_mean (zeros) and
/// running_var (ones) are state, saved but not optimised nor counted as parameters.
/// </summary>
public sealed class BatchNormLayer(double eps, double momentum, LayerInstance instance) : Layer
{
    private int[]? _parameters;

    public LayerInstance Instance { get; } = instance;

    public override string Describe() => "batchNorm";

    public override Layer Configure(Elaborator e, NamedArgsValue arguments)
    {
        var o = new LayerOptions(e, arguments, Describe(), ["eps", "momentum"]);
        var m = o.Has("momentum") ? o.Probability("momentum", momentum) : momentum;
        return new BatchNormLayer(o.PositiveNumber("eps", eps), m, Instance) { Site = Site };
    }

    protected override TensorValue Forward(Elaborator e, TensorValue x, TextSpan span)
    {
        if (x.Shape.Rank is < 2 or > 4 || x.Shape[1].IsSymbolic)
            throw e.Error(DiagnosticCatalog.WrongRank, span,
                $"`batchNorm` takes Tensor[N, channels, ...] with a fixed number of channels, but {x.Producer} gives {x.Shape}",
                x.Shape.Rank == 3 && x.Shape[1].IsSymbolic ? "for a sequence [N, T, features], normalise each position with `layerNorm`" : null);
        var channels = new Shape(x.Shape[1]);
        var first = e.Builder.Nodes.Count;
        var created = _parameters is null;
        if (_parameters is null)
        {
            _parameters =
            [
                e.CreateParameter(Instance, "weight", channels, Init.Ones, Site),
                e.CreateParameter(Instance, "bias", channels, Init.Zeros, Site),
                e.CreateParameter(Instance, "running_mean", channels, Init.Zeros, Site, trainable: false),
                e.CreateParameter(Instance, "running_var", channels, Init.Ones, Site, trainable: false),
                // PyTorch keeps this count in every BatchNorm's state_dict; kept so checkpoints load there strictly.
                e.CreateParameter(Instance, "num_batches_tracked", Shape.Scalar, Init.Zeros, Site, trainable: false),
            ];
        }
        else if (e.Builder[_parameters[0]].Shape != channels)
        {
            throw e.Error(DiagnosticCatalog.ShapeMismatch, span,
                $"this `batchNorm` is shared: it was first applied to {e.Builder[_parameters[0]].Shape[0]} channels, here to {x.Shape[1]}",
                "applying one layer value twice shares its statistics; write `batchNorm` again for a layer of its own");
        }
        var node = Emit(e, Op.BatchNorm, [x.Node, .. _parameters], new OpAttributes { Value = eps, Momentum = momentum, Training = e.Training });
        Record(e, Instance, x.Shape, created ? 2L * channels[0].Size : 0, first);
        return Result(e, node, span);
    }
}

/// <summary>`layerNorm` (option `eps`): over the last axis, as nn.LayerNorm(features): weight (ones), bias (zeros).</summary>
public sealed class LayerNormLayer(double eps, LayerInstance instance) : Layer
{
    private int _weight = -1;
    private int _bias = -1;

    public LayerInstance Instance { get; } = instance;

    public override string Describe() => "layerNorm";

    public override Layer Configure(Elaborator e, NamedArgsValue arguments)
    {
        var o = new LayerOptions(e, arguments, Describe(), ["eps"]);
        return new LayerNormLayer(o.PositiveNumber("eps", eps), Instance) { Site = Site };
    }

    protected override TensorValue Forward(Elaborator e, TensorValue x, TextSpan span)
    {
        if (x.Shape.Rank < 2 || x.Shape.Last.IsSymbolic)
            throw e.Error(DiagnosticCatalog.WrongRank, span, $"`layerNorm` takes Tensor[N, ..., features] with a fixed number of features, but {x.Producer} gives {x.Shape}");
        var features = new Shape(x.Shape.Last);
        var first = e.Builder.Nodes.Count;
        var created = _weight < 0;
        if (created)
        {
            _weight = e.CreateParameter(Instance, "weight", features, Init.Ones, Site);
            _bias = e.CreateParameter(Instance, "bias", features, Init.Zeros, Site);
        }
        else if (e.Builder[_weight].Shape != features)
        {
            throw e.Error(DiagnosticCatalog.ShapeMismatch, span,
                $"this `layerNorm` is shared: it was first applied to {e.Builder[_weight].Shape[0]} features, here to {x.Shape.Last}",
                "applying one layer value twice shares its weights; write `layerNorm` again for a layer of its own");
        }
        var node = Emit(e, Op.LayerNorm, [x.Node, _weight, _bias], new OpAttributes { Value = eps });
        Record(e, Instance, x.Shape, created ? 2L * features[0].Size : 0, first);
        return Result(e, node, span);
    }
}

/// <summary>`dropout2d p`: while training, zeroes whole channels of [N, C, H, W] (or [N, C, L]) with probability p.</summary>
public sealed class ChannelDropoutLayer(double probability) : Layer
{
    public override string Describe() => $"dropout2d {probability.ToString(CultureInfo.InvariantCulture)}";

    protected override TensorValue Forward(Elaborator e, TensorValue x, TextSpan span)
    {
        if (x.Shape.Rank is not (3 or 4))
            throw e.Error(DiagnosticCatalog.WrongRank, span,
                $"`{Describe()}` drops channels of Tensor[N, channels, height, width], but {x.Producer} gives {x.Shape}",
                x.Shape.Rank == 2 ? $"to drop single features, use `dropout {probability.ToString(CultureInfo.InvariantCulture)}`" : null);
        var first = e.Builder.Nodes.Count;
        if (!e.Training || probability == 0)
        {
            Record(e, null, x.Shape, 0, first, "dropout2d");
            return x;
        }
        var mask = Emit(e, Op.ChannelDropoutMask, [x.Node], new OpAttributes { Value = probability });
        var node = Emit(e, Op.Multiply, [x.Node, mask]);
        Record(e, null, x.Shape, 0, first, "dropout2d");
        return x with { Node = node, Span = span };
    }
}
