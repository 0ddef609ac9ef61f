using System.Globalization;
using Dlc.Compiler.Ir;
using Dlc.Diagnostics;

namespace Dlc.Compiler.Elaboration;

/// <summary>The layers and functions every .dl file can use, and the names reserved for later versions.</summary>
public static class Builtins
{
    /// <summary>Names that stand for themselves: losses, optimisers, data sets, schedules, environments, option values.</summary>
    public static readonly IReadOnlySet<string> RecordSymbols = new HashSet<string>(StringComparer.Ordinal)
    {
        "crossEntropy", "mse", "sgd", "adam", "adamw", "fashionMnist", "idx", "csv", "textCorpus", "brownCorpus", "gaussianNoise", "accuracy", "topK",
        "cosine", "step", "constant", "char", "word", "bpe", "cartPole", "mountainCar", "acrobot", "dqn", "linear", "exponential",
        "same", "valid", "sum", "mean", "nearest", "bilinear", "tags", "universal", "genre",
    };

    /// <summary>Names of the language that this version parses but cannot build yet.</summary>
    public static readonly IReadOnlySet<string> NotYetSupported = new HashSet<string>(StringComparer.Ordinal)
    {
        "scaledDotProductAttention",
    };

    private static readonly Dictionary<string, Func<Elaborator, TextSpan, Value>> Table = new Dictionary<string, Func<Elaborator, TextSpan, Value>>(StringComparer.Ordinal)
    {
        ["dense"] = (e, span) => Layer("dense", span, ["units"], (e, a, at) =>
            new DenseLayer(e.ExpectPositiveInt(a[0], "the number of units of `dense`"), true, e.NewInstance("dense"))),
        ["relu"] = (e, span) => Activation(e, "relu", Op.Relu, span),
        ["sigmoid"] = (e, span) => Activation(e, "sigmoid", Op.Sigmoid, span),
        ["tanh"] = (e, span) => Activation(e, "tanh", Op.Tanh, span),
        ["gelu"] = (e, span) => Activation(e, "gelu", Op.Gelu, span),
        ["softmax"] = (e, span) => Activation(e, "softmax", Op.Softmax, span),
        ["logSoftmax"] = (e, span) => Activation(e, "logSoftmax", Op.LogSoftmax, span),
        ["flatten"] = (e, span) => new LayerValue(new FlattenLayer { Site = e.At(span) }, span),
        ["dropout"] = (e, span) => Layer("dropout", span, ["p"], (e, a, at) => new DropoutLayer(Probability(e, a[0], "dropout"))),
        ["dropout2d"] = (e, span) => Layer("dropout2d", span, ["p"], (e, a, at) => new ChannelDropoutLayer(Probability(e, a[0], "dropout2d"))),

        ["conv2d"] = (e, span) => Conv(2, false, span),
        ["conv1d"] = (e, span) => Conv(1, false, span),
        ["convTranspose2d"] = (e, span) => Conv(2, true, span),
        ["maxPool"] = (e, span) => Layer("maxPool", span, ["kernel"], (e, a, at) => new PoolLayer(true, Window(e, a[0], "maxPool"), null, null)),
        ["avgPool"] = (e, span) => Layer("avgPool", span, ["kernel"], (e, a, at) => new PoolLayer(false, Window(e, a[0], "avgPool"), null, null)),
        ["globalAvgPool"] = (e, span) => new LayerValue(new GlobalAvgPoolLayer { Site = e.At(span) }, span),
        ["upsample"] = (e, span) => Layer("upsample", span, ["factor"], (e, a, at) =>
            new UpsampleLayer(e.ExpectPositiveInt(a[0], "the factor of `upsample`"), "nearest")),

        ["batchNorm"] = (e, span) => new LayerValue(new BatchNormLayer(1e-5, 0.1, e.NewInstance("batchNorm")) { Site = e.At(span) }, span),
        ["layerNorm"] = (e, span) => new LayerValue(new LayerNormLayer(1e-5, e.NewInstance("layerNorm")) { Site = e.At(span) }, span),

        ["embedding"] = (e, span) => Layer("embedding", span, ["vocabulary", "dim"], (e, a, at) => new EmbeddingLayer(
            e.ExpectPositiveInt(a[0], "the vocabulary size of `embedding`"), e.ExpectPositiveInt(a[1], "the dimension of `embedding`"), e.NewInstance("embedding"))),
        ["rnn"] = (e, span) => Recurrent(Op.Rnn, "rnn", span),
        ["lstm"] = (e, span) => Recurrent(Op.Lstm, "lstm", span),
        ["gru"] = (e, span) => Recurrent(Op.Gru, "gru", span),
        ["sequenceMean"] = (e, span) => new LayerValue(new SequenceMeanLayer { Site = e.At(span) }, span),
        ["positionalEncoding"] = (e, span) => new LayerValue(new PositionalEncodingLayer { Site = e.At(span) }, span),
        ["multiHeadAttention"] = (e, span) => Layer("multiHeadAttention", span, ["heads"], (e, a, at) => new MultiHeadAttentionLayer(
            e.ExpectPositiveInt(a[0], "the number of heads of `multiHeadAttention`"), false, true, e.NewInstance("multiHeadAttention"))),
        ["transformerBlock"] = (e, span) => Layer("transformerBlock", span, ["heads"], (e, a, at) => new TransformerBlockLayer(
            e.ExpectPositiveInt(a[0], "the number of heads of `transformerBlock`"), null, 0, false, "gelu", e.NewInstance("transformerBlock"))),
        ["weightNorm"] = (e, span) => Function("weightNorm", span, ["layer"], (e, a, o, at) => a[0] switch
        {
            LayerValue { Layer: var layer } when WeightNormLayer.CanWrap(layer) => new LayerValue(new WeightNormLayer(layer) { Site = e.At(at) }, at),
            LayerValue { Layer: var layer } => throw e.Error(DiagnosticCatalog.WrongArgumentType, a[0].Span,
                $"`weightNorm` normalises the weights of one dense, convolution or recurrent layer, not `{layer.Describe()}`",
                "wrap the layer that owns the weights: `weightNorm (dense 128) >> relu`"),
            var other => throw e.Error(DiagnosticCatalog.WrongArgumentType, a[0].Span,
                $"`weightNorm` takes a layer, got {other.Kind}", "for example `weightNorm (dense 128)`"),
        }),
        ["reshape"] = (e, span) => Function("reshape", span, ["sizes"], (e, a, o, at) => new LayerValue(ReshapeLayer.Read(e, a[0], at), at)),
    }.Concat(TensorFunctions.Entries).ToDictionary(StringComparer.Ordinal);

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
                name == "scaledDotProductAttention" ? "`multiHeadAttention heads` builds self-attention" : null);
        value = null!;
        return false;
    }

    /// <summary>A built-in function of positional arguments, and options after the last one if <paramref name="options"/> names any.</summary>
    public static FunctionValue Function(string name, TextSpan span, string[] parameters, BuiltinBody body, string[]? options = null) =>
        new(new BuiltinFunction(name, parameters, [], body, span, options ?? []), span);

    private static FunctionValue Layer(string name, TextSpan span, string[] parameters, Func<Elaborator, Value[], TextSpan, Layer> make) =>
        Function(name, span, parameters, (e, args, options, at) =>
        {
            var layer = make(e, args, at);
            layer.Site = e.At(at);
            return new LayerValue(layer, at);
        });

    private static LayerValue Activation(Elaborator e, string name, Op op, TextSpan span) =>
        new(new ActivationLayer(name, op) { Site = e.At(span) }, span);

    private static FunctionValue Conv(int rank, bool transposed, TextSpan span)
    {
        var kind = transposed ? "convTranspose2d" : $"conv{rank}d";
        return Layer(kind, span, ["channels"], (e, a, at) =>
            new ConvLayer(rank, transposed, e.ExpectPositiveInt(a[0], $"the number of output channels of `{kind}`"), ConvSettings.Default(rank), e.NewInstance(kind)));
    }

    private static FunctionValue Recurrent(Op op, string kind, TextSpan span) =>
        Layer(kind, span, ["hidden"], (e, a, at) =>
            new RecurrentLayer(op, e.ExpectPositiveInt(a[0], $"the hidden size of `{kind}`"), RecurrentSettings.Default, e.NewInstance(kind)));

    private static double Probability(Elaborator e, Value value, string layer)
    {
        var p = e.ExpectNumber(value, $"the drop probability of `{layer}`");
        if (p is < 0 or >= 1)
            throw e.Error(DiagnosticCatalog.InvalidArgument, value.Span,
                $"the drop probability must be at least 0 and below 1, got {p.ToString(CultureInfo.InvariantCulture)}");
        return p;
    }

    /// <summary>A pooling window: a positive integer, or a tuple of them (one per spatial axis).</summary>
    private static Value Window(Elaborator e, Value value, string layer)
    {
        var items = value is TupleValue t ? t.Items : [value];
        foreach (var item in items) e.ExpectPositiveInt(item, $"the window of `{layer}`");
        return value;
    }
}

public delegate Value BuiltinBody(Elaborator e, Value[] args, NamedArgsValue? options, TextSpan span);

/// <summary>A built-in that collects its positional arguments one application at a time.</summary>
public sealed class BuiltinFunction(string name, string[] parameters, Value[] collected, BuiltinBody body, TextSpan start, string[] options)
    : Callable
{
    public override string Name => name;

    /// <summary>Whether <paramref name="argument"/> is the last positional argument and options may follow it.</summary>
    public bool TakesOptionsAfter(Value argument) =>
        options.Length > 0 && collected.Length == parameters.Length - 1 && argument is not NamedArgsValue;

    public override Value Apply(Elaborator e, Value argument, TextSpan span) => Apply(e, argument, span, null);

    public Value Apply(Elaborator e, Value argument, TextSpan span, NamedArgsValue? given)
    {
        if (argument is NamedArgsValue)
            throw e.Error(DiagnosticCatalog.WrongArgumentCount, argument.Span,
                $"`{name}` needs its {parameters[collected.Length]} before named arguments");
        Value[] args = [.. collected, argument];
        if (args.Length < parameters.Length)
            return new FunctionValue(new BuiltinFunction(name, parameters, args, body, start, options), start.Cover(span));
        return body(e, args, given, start.Cover(span));
    }
}
