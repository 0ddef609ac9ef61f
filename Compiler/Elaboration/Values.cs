using Dlc.Compiler.Ir;
using Dlc.Diagnostics;

namespace Dlc.Compiler.Elaboration;

/// <summary>What an expression of the language evaluates to while a model is elaborated.</summary>
public abstract record Value(TextSpan Span)
{
    /// <summary>"a number", "a tensor", "a layer": used in messages such as "expected a layer, found a number".</summary>
    public abstract string Kind { get; }
}

/// <summary>Where something was written: a span of one source file (imports make several files).</summary>
public readonly record struct Site(SourceText Source, TextSpan Span);

/// <summary>
/// A tensor of the graph being built. <see cref="Producer"/> says in words where it came from
/// (`dense 128`), and <see cref="ProducerSite"/> where, for hints in shape errors.
/// </summary>
public sealed record TensorValue(int Node, Shape Shape, string Producer, Site ProducerSite, TextSpan Span) : Value(Span)
{
    public override string Kind => IsIndex ? "a tensor of integer indices" : "a tensor";

    public TextSpan ProducerSpan => ProducerSite.Span;

    /// <summary>Integer indices (`Tensor[N, T] of int`): only an embedding can take them.</summary>
    public bool IsIndex { get; init; }

    /// <summary>
    /// A sequence [N, T, ...] read from tokens padded with index 0 (`embedding ... (maskZero = true)`): the node of
    /// each sample's length [N]. Layers that keep the [N, T] axes pass it on; recurrent layers run packed over it.
    /// </summary>
    public int? Lengths { get; init; }
}

public sealed record NumberValue(double Number, bool IsInteger, TextSpan Span) : Value(Span)
{
    public override string Kind => IsInteger ? "an integer" : "a number";
}

public sealed record StringValue(string Text, TextSpan Span) : Value(Span)
{
    public override string Kind => "a string";
}

public sealed record BoolValue(bool Flag, TextSpan Span) : Value(Span)
{
    public override string Kind => "a boolean";
}

/// <summary>A name that stands for itself in a record (`loss = crossEntropy`, `level = char`).</summary>
public sealed record SymbolValue(string Name, TextSpan Span) : Value(Span)
{
    public override string Kind => $"`{Name}`";
}

/// <summary>A symbol applied to an argument in a record: `topK 3`.</summary>
public sealed record AppliedSymbolValue(string Name, TextSpan NameSpan, Value Argument, TextSpan Span) : Value(Span)
{
    public override string Kind => $"`{Name} ...`";
}

/// <summary>A model named in a job record: `generator = Generator`, `network = QNet`.</summary>
public sealed record ModelRefValue(string Name, TextSpan Span) : Value(Span)
{
    public override string Kind => $"the model `{Name}`";
}

/// <summary>A `loss` declaration named in a train record: `loss = elbo`.</summary>
public sealed record LossRefValue(string Name, TextSpan Span) : Value(Span)
{
    public override string Kind => $"the loss `{Name}`";
}

public sealed record RecordValue(IReadOnlyList<RecordEntry> Fields, TextSpan Span) : Value(Span)
{
    public override string Kind => "a record";

    public RecordEntry? Find(string name) => Fields.FirstOrDefault(f => f.Name == name);
}

public sealed record RecordEntry(string Name, TextSpan NameSpan, Value Value);

public sealed record ListValue(IReadOnlyList<Value> Items, TextSpan Span) : Value(Span)
{
    public override string Kind => "a list";
}

public sealed record TupleValue(IReadOnlyList<Value> Items, TextSpan Span) : Value(Span)
{
    public override string Kind => "a tuple";
}

/// <summary>`(kernel = 3, padding = 1)`: options passed to a layer.</summary>
public sealed record NamedArgsValue(IReadOnlyList<RecordEntry> Arguments, TextSpan Span) : Value(Span)
{
    public override string Kind => "named arguments";
}

/// <summary>A layer: a function from tensor to tensor that may own parameters.</summary>
public sealed record LayerValue(Layer Layer, TextSpan Span) : Value(Span)
{
    public override string Kind => "a layer";
}

/// <summary>Something that takes arguments one at a time: a built-in such as `dense`, or a user's `let` function.</summary>
public sealed record FunctionValue(Callable Callable, TextSpan Span) : Value(Span)
{
    public override string Kind => "a function";
}

/// <summary>A named setting with options, as job records write them: `adam { lr = 1e-3 }`, `fashionMnist { validation = 0.1 }`.</summary>
public sealed record ConfiguredValue(string Name, TextSpan NameSpan, RecordValue Settings, TextSpan Span) : Value(Span)
{
    public override string Kind => $"`{Name} {{ ... }}`";
}

/// <summary>A curried function: each application consumes one argument.</summary>
public abstract class Callable
{
    public abstract string Name { get; }

    /// <summary>Apply to one argument; <paramref name="span"/> covers the whole application.</summary>
    public abstract Value Apply(Elaborator elaborator, Value argument, TextSpan span);
}
