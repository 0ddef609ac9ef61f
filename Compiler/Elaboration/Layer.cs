using Dlc.Compiler.Ir;
using Dlc.Diagnostics;

namespace Dlc.Compiler.Elaboration;

/// <summary>A layer: applied to a tensor it adds nodes to the graph being built and returns the result.</summary>
public abstract class Layer
{
    /// <summary>How the source wrote it, for messages and summaries: `dense 256`, `relu`.</summary>
    public abstract string Describe();

    /// <summary>Where the layer was written.</summary>
    public TextSpan Origin { get; init; }

    public abstract TensorValue Apply(Elaborator e, TensorValue x, TextSpan span);

    /// <summary>Take options such as `(bias = false)`; layers without options reject them.</summary>
    public virtual Layer Configure(Elaborator e, NamedArgsValue options) =>
        throw e.Error(DiagnosticCatalog.WrongArgumentType, options.Span, $"`{Describe()}` takes no named arguments");
}

/// <summary>`f >> g`: g applied to the result of f.</summary>
public sealed class ComposedLayer(Layer first, Layer second) : Layer
{
    public Layer First { get; } = first;
    public Layer Second { get; } = second;

    public override string Describe() => $"{First.Describe()} >> {Second.Describe()}";

    public override TensorValue Apply(Elaborator e, TensorValue x, TextSpan span) =>
        Second.Apply(e, First.Apply(e, x, span), span);
}

/// <summary>A user function from tensor to tensor used as a layer (`|> block` where `let block x = ...`).</summary>
public sealed class FunctionLayer(Callable function, TextSpan origin) : Layer
{
    public override string Describe() => function.Name;

    public override TensorValue Apply(Elaborator e, TensorValue x, TextSpan span) =>
        function.Apply(e, x, span) switch
        {
            TensorValue t => t,
            LayerValue l => l.Layer.Apply(e, x, span),
            var other => throw e.Error(DiagnosticCatalog.NotALayer, origin,
                $"`{function.Name}` applied to a tensor gives {other.Kind}, not a tensor"),
        };
}

/// <summary>Pointwise activations and normalisations over the last axis, which own no parameters.</summary>
public sealed class ActivationLayer(string name, Op op) : Layer
{
    public string Name { get; } = name;

    public override string Describe() => Name;

    public override TensorValue Apply(Elaborator e, TensorValue x, TextSpan span)
    {
        var node = e.Builder.Add(op, [x.Node], null, Origin);
        e.RecordLayer(null, Name, e.Builder[node].Shape, 0, Origin);
        // The shape still comes from whatever set it before, so shape errors keep pointing there.
        return x with { Node = node, Span = span };
    }
}

/// <summary>`dropout p`: zeroes each element with probability p while training, identity in evaluation.</summary>
public sealed class DropoutLayer(double probability) : Layer
{
    public override string Describe() => $"dropout {probability.ToString(System.Globalization.CultureInfo.InvariantCulture)}";

    public override TensorValue Apply(Elaborator e, TensorValue x, TextSpan span)
    {
        e.RecordLayer(null, "dropout", x.Shape, 0, Origin);
        if (!e.Training || probability == 0) return x;
        var mask = e.Builder.Add(Op.DropoutMask, [x.Node], new OpAttributes { Value = probability }, Origin);
        var node = e.Builder.Add(Op.Multiply, [x.Node, mask], null, Origin);
        return x with { Node = node, Span = span };
    }
}

/// <summary>`flatten`: [N, d1, d2, ...] to [N, d1·d2·...].</summary>
public sealed class FlattenLayer : Layer
{
    public override string Describe() => "flatten";

    public override TensorValue Apply(Elaborator e, TensorValue x, TextSpan span)
    {
        if (x.Shape.Rank < 2)
            throw e.Error(DiagnosticCatalog.WrongRank, span, $"`flatten` needs a batch axis and features, got {x.Shape}");
        var rest = x.Shape.Dims.Skip(1).ToArray();
        if (rest.Any(d => d.IsSymbolic))
            throw e.Error(DiagnosticCatalog.WrongRank, span, $"`flatten` needs fixed sizes after the batch axis, got {x.Shape}");
        var shape = new Shape(x.Shape[0], rest.Aggregate(1, (p, d) => p * d.Size));
        if (shape == x.Shape) return x;
        var node = e.Builder.Add(Op.Reshape, [x.Node], null, Origin, shape);
        e.RecordLayer(null, "flatten", shape, 0, Origin);
        return e.Tensor(node, "flatten", Origin, span);
    }
}
