using System.Globalization;
using Dlc.Compiler.Ir;
using Dlc.Diagnostics;

namespace Dlc.Compiler.Elaboration;

/// <summary>
/// `dense units`: y = x·Wᵀ + b with W [units, in] and b [units], laid out as PyTorch's nn.Linear so
/// checkpoints read the same in both. On a sequence [N, T, in] it applies at every position, as
/// nn.Linear does. Parameters are made at the first application, when the input width is known;
/// applying the same layer value again shares them.
/// </summary>
public sealed class DenseLayer(int units, bool bias, LayerInstance instance) : Layer
{
    private int _weight = -1;
    private int _bias = -1;
    private Dim _inFeatures;

    public LayerInstance Instance { get; } = instance;

    public override string Describe() => $"dense {units.ToString(CultureInfo.InvariantCulture)}";

    public override Layer Configure(Elaborator e, NamedArgsValue options)
    {
        var withBias = bias;
        foreach (var option in options.Arguments)
        {
            if (option.Name != "bias")
                throw e.UnknownOption(option, ["bias"], Describe());
            withBias = e.ExpectBool(option.Value, "bias");
        }
        return new DenseLayer(units, withBias, Instance) { Site = Site };
    }

    protected override TensorValue Forward(Elaborator e, TensorValue x, TextSpan span)
    {
        if (x.Shape.Rank is not (2 or 3))
        {
            var help = x.Shape.Rank > 3
                ? $"flatten it first: `|> flatten |> {Describe()}`"
                : "a dense layer maps Tensor[N, features] to Tensor[N, units]";
            throw e.Error(DiagnosticCatalog.WrongRank, span,
                $"`{Describe()}` takes Tensor[N, features], but {x.Producer} gives {x.Shape}", help);
        }
        var inFeatures = x.Shape.Last;
        if (inFeatures.IsSymbolic)
            throw e.Error(DiagnosticCatalog.WrongRank, span, $"`{Describe()}` needs a fixed number of input features, got {x.Shape}");
        var first = e.Builder.Nodes.Count;
        var created = _weight < 0;
        if (created)
        {
            _inFeatures = inFeatures;
            var init = new Init(InitKind.UniformFanIn, inFeatures.Size);
            _weight = e.CreateParameter(Instance, "weight", new Shape(units, inFeatures), init, Site);
            if (bias) _bias = e.CreateParameter(Instance, "bias", new Shape(units), init, Site);
        }
        else if (_inFeatures != inFeatures)
        {
            throw e.Error(DiagnosticCatalog.ShapeMismatch, span,
                $"this `{Describe()}` is shared: it was first applied to {_inFeatures} features, here to {inFeatures}",
                "applying one layer value twice shares its weights; call `dense` again for a layer of its own");
        }
        var node = Emit(e, Op.MatMul, [x.Node, _weight], new OpAttributes { TransB = true });
        if (_bias >= 0) node = Emit(e, Op.BiasAdd, [node, _bias]);
        var parameters = created ? units * inFeatures.Size + (_bias >= 0 ? units : 0) : 0;
        Record(e, Instance, e.Builder[node].Shape, parameters, first);
        return Result(e, node, span);
    }
}
