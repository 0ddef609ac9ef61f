using Dlc.Compiler.Ir;
using Dlc.Diagnostics;

namespace Dlc.Compiler.Elaboration;

/// <summary>A layer: applied to a tensor it adds nodes to the graph being built and returns the result.</summary>
public abstract class Layer
{
    /// <summary>How the source wrote it, for messages and summaries: `dense 256`, `relu`.</summary>
    public abstract string Describe();

    /// <summary>Where the layer was written (its file and span); set once, when the layer is made.</summary>
    public Site Site { get; internal set; }

    public TextSpan Origin => Site.Span;

    /// <summary>Whether the layer takes integer indices (an embedding, or a layer that passes its input on).</summary>
    protected virtual bool TakesIndices => false;

    /// <summary>Apply to a tensor; <paramref name="span"/> is where the application was written.</summary>
    public TensorValue Apply(Elaborator e, TensorValue x, TextSpan span)
    {
        if (x.IsIndex && !TakesIndices)
            throw e.Error(DiagnosticCatalog.WrongArgumentType, span,
                $"`{Describe()}` takes numbers, but {x.Producer} gives integer indices {x.Shape}",
                "turn indices into vectors first with `embedding vocabulary dim`");
        try
        {
            var y = Forward(e, x, span);
            // The mask of padded sequences follows the time axis, as Keras passes a mask on through its layers.
            return x.Lengths is { } lengths && y.Lengths is null && y.Shape.Rank == 3 && y.Shape[0] == x.Shape[0] && y.Shape[1] == x.Shape[1]
                ? y with { Lengths = lengths }
                : y;
        }
        catch (ShapeException ex)
        {
            // Layers check their inputs and report them in their own words; this is the net under them.
            throw e.Error(DiagnosticCatalog.ShapeMismatch, span, $"`{Describe()}` cannot take {x.Shape}: {ex.Message}",
                $"the input comes from {x.Producer} ({e.Where(x.ProducerSite)})");
        }
    }

    protected abstract TensorValue Forward(Elaborator e, TensorValue x, TextSpan span);

    /// <summary>Take options such as `(bias = false)`; layers without options reject them.</summary>
    public virtual Layer Configure(Elaborator e, NamedArgsValue options) =>
        throw e.Error(DiagnosticCatalog.WrongArgumentType, options.Span, $"`{Describe()}` takes no named arguments");

    /// <summary>Add a node made by this layer.</summary>
    protected int Emit(Elaborator e, Op op, IReadOnlyList<int> inputs, OpAttributes? attributes = null, Shape? shape = null) =>
        e.AddNode(op, inputs, attributes, Site, shape);

    /// <summary>The layer's result: it names this layer as its producer, for hints in later errors.</summary>
    protected TensorValue Result(Elaborator e, int node, TextSpan span) => e.Tensor(node, $"`{Describe()}`", Site, span);

    /// <summary>A row of the layer table for this application (its nodes are those made since <paramref name="first"/>).</summary>
    protected void Record(Elaborator e, LayerInstance? instance, Shape output, long parameters, int first, string? name = null) =>
        e.RecordLayer(instance, name ?? Describe(), output, parameters, Site, first);
}

/// <summary>`f >> g`: g applied to the result of f.</summary>
public sealed class ComposedLayer(Layer first, Layer second) : Layer
{
    public Layer First { get; } = first;
    public Layer Second { get; } = second;

    public override string Describe() => $"{First.Describe()} >> {Second.Describe()}";

    protected override bool TakesIndices => true;

    protected override TensorValue Forward(Elaborator e, TensorValue x, TextSpan span) =>
        Second.Apply(e, First.Apply(e, x, span), span);
}

/// <summary>A user function from tensor to tensor used as a layer (`|> block` where `let block x = ...`).</summary>
public sealed class FunctionLayer(Callable function) : Layer
{
    public override string Describe() => function.Name;

    protected override bool TakesIndices => true;

    protected override TensorValue Forward(Elaborator e, TensorValue x, TextSpan span) =>
        function.Apply(e, x, span) switch
        {
            TensorValue t => t,
            LayerValue l => l.Layer.Apply(e, x, span),
            var other => throw e.Error(DiagnosticCatalog.NotALayer, Site,
                $"`{function.Name}` applied to a tensor gives {other.Kind}, not a tensor"),
        };
}

/// <summary>Pointwise activations and normalisations over the last axis, which own no parameters.</summary>
public sealed class ActivationLayer(string name, Op op) : Layer
{
    public string Name { get; } = name;

    public override string Describe() => Name;

    protected override TensorValue Forward(Elaborator e, TensorValue x, TextSpan span)
    {
        var first = e.Builder.Nodes.Count;
        var node = Emit(e, op, [x.Node]);
        Record(e, null, e.Builder[node].Shape, 0, first);
        // The shape still comes from whatever set it before, so shape errors keep pointing there.
        return x with { Node = node, Span = span };
    }
}

/// <summary>`dropout p`: zeroes each element with probability p while training, identity in evaluation.</summary>
public sealed class DropoutLayer(double probability) : Layer
{
    public override string Describe() => $"dropout {probability.ToString(System.Globalization.CultureInfo.InvariantCulture)}";

    protected override TensorValue Forward(Elaborator e, TensorValue x, TextSpan span)
    {
        var first = e.Builder.Nodes.Count;
        if (!e.Training || probability == 0)
        {
            Record(e, null, x.Shape, 0, first, "dropout");
            return x;
        }
        var mask = Emit(e, Op.DropoutMask, [x.Node], new OpAttributes { Value = probability });
        var node = Emit(e, Op.Multiply, [x.Node, mask]);
        Record(e, null, x.Shape, 0, first, "dropout");
        return x with { Node = node, Span = span };
    }
}

/// <summary>`flatten`: [N, d1, d2, ...] to [N, d1·d2·...].</summary>
public sealed class FlattenLayer : Layer
{
    public override string Describe() => "flatten";

    protected override TensorValue Forward(Elaborator e, TensorValue x, TextSpan span)
    {
        if (x.Shape.Rank < 2)
            throw e.Error(DiagnosticCatalog.WrongRank, span, $"`flatten` needs a batch axis and features, got {x.Shape}");
        var rest = x.Shape.Dims.Skip(1).ToArray();
        if (rest.Any(d => d.IsSymbolic))
            throw e.Error(DiagnosticCatalog.WrongRank, span, $"`flatten` needs fixed sizes after the batch axis, got {x.Shape}");
        var shape = new Shape(x.Shape[0], rest.Aggregate(1, (p, d) => p * d.Size));
        if (shape == x.Shape) return x;
        var first = e.Builder.Nodes.Count;
        var node = Emit(e, Op.Reshape, [x.Node], null, shape);
        Record(e, null, shape, 0, first);
        return Result(e, node, span) with { Producer = "flatten" };
    }
}
