using System.Globalization;
using Dlc.Compiler.Ir;
using Dlc.Diagnostics;

namespace Dlc.Compiler.Elaboration;

/// <summary>The layers and functions every .dl file can use, and the names reserved for later engines.</summary>
public static class Builtins
{
    /// <summary>Names that stand for themselves in job records: losses, optimisers, data sets, metrics.</summary>
    public static readonly IReadOnlySet<string> RecordSymbols = new HashSet<string>(StringComparer.Ordinal)
    {
        "crossEntropy", "mse", "sgd", "adam", "adamw", "fashionMnist", "idx", "csv", "accuracy",
    };

    /// <summary>Layers of the language that this version parses and names but cannot build yet.</summary>
    public static readonly IReadOnlySet<string> NotYetSupported = new HashSet<string>(StringComparer.Ordinal)
    {
        "conv1d", "conv2d", "maxPool", "avgPool", "globalAvgPool", "batchNorm", "layerNorm", "dropout2d",
        "upsample", "convTranspose2d", "embedding", "rnn", "lstm", "gru", "multiHeadAttention",
        "scaledDotProductAttention", "transformerBlock", "sampleNormal", "binaryCrossEntropy", "klNormal",
        "concat", "reshape", "weightNorm", "positionalEncoding",
    };

    private static readonly Dictionary<string, Func<Elaborator, TextSpan, Value>> Table = new(StringComparer.Ordinal)
    {
        ["dense"] = (e, span) => Function("dense", span, ["units"], (e, args, applySpan) =>
        {
            var units = e.ExpectPositiveInt(args[0], "the number of units of `dense`");
            return new LayerValue(new DenseLayer(units, true, e.NewInstance("dense")) { Origin = applySpan }, applySpan);
        }),
        ["relu"] = (e, span) => Activation("relu", Op.Relu, span),
        ["sigmoid"] = (e, span) => Activation("sigmoid", Op.Sigmoid, span),
        ["tanh"] = (e, span) => Activation("tanh", Op.Tanh, span),
        ["gelu"] = (e, span) => Activation("gelu", Op.Gelu, span),
        ["softmax"] = (e, span) => Activation("softmax", Op.Softmax, span),
        ["logSoftmax"] = (e, span) => Activation("logSoftmax", Op.LogSoftmax, span),
        ["flatten"] = (e, span) => new LayerValue(new FlattenLayer { Origin = span }, span),
        ["dropout"] = (e, span) => Function("dropout", span, ["p"], (e, args, applySpan) =>
        {
            var p = e.ExpectNumber(args[0], "the drop probability of `dropout`");
            if (p < 0 || p >= 1)
                throw e.Error(DiagnosticCatalog.InvalidArgument, args[0].Span,
                    $"the drop probability must be at least 0 and below 1, got {p.ToString(CultureInfo.InvariantCulture)}");
            return new LayerValue(new DropoutLayer(p) { Origin = applySpan }, applySpan);
        }),
    };

    /// <summary>Every name a model body can use, for did-you-mean suggestions.</summary>
    public static IEnumerable<string> Names => Table.Keys.Concat(NotYetSupported).Concat(RecordSymbols);

    public static bool TryGet(Elaborator e, string name, TextSpan span, out Value value)
    {
        if (Table.TryGetValue(name, out var make))
        {
            value = make(e, span);
            return true;
        }
        if (RecordSymbols.Contains(name))
        {
            value = new SymbolValue(name, span);
            return true;
        }
        if (NotYetSupported.Contains(name))
            throw e.Error(DiagnosticCatalog.NotYetSupported, span, $"`{name}` is part of the language but this version of dlc cannot build it yet",
                "the layers available now are dense, relu, sigmoid, tanh, gelu, softmax, logSoftmax, dropout and flatten");
        value = null!;
        return false;
    }

    private static LayerValue Activation(string name, Op op, TextSpan span) =>
        new(new ActivationLayer(name, op) { Origin = span }, span);

    private static FunctionValue Function(string name, TextSpan span, string[] parameters, Func<Elaborator, Value[], TextSpan, Value> body) =>
        new(new BuiltinFunction(name, parameters, [], body, span), span);
}

/// <summary>A built-in that collects its positional arguments one application at a time.</summary>
public sealed class BuiltinFunction(string name, string[] parameters, Value[] collected, Func<Elaborator, Value[], TextSpan, Value> body, TextSpan start)
    : Callable
{
    public override string Name => name;

    public override Value Apply(Elaborator e, Value argument, TextSpan span)
    {
        if (argument is NamedArgsValue)
            throw e.Error(DiagnosticCatalog.WrongArgumentCount, argument.Span,
                $"`{name}` needs its {parameters[collected.Length]} before named arguments");
        Value[] args = [.. collected, argument];
        if (args.Length < parameters.Length)
            return new FunctionValue(new BuiltinFunction(name, parameters, args, body, start), start.Cover(span));
        return body(e, args, start.Cover(span));
    }
}
