using System.Globalization;
using Dlc.Compiler.Ir;
using Dlc.Diagnostics;

namespace Dlc.Compiler.Elaboration;

/// <summary>
/// Built-ins that take tensors as arguments rather than being piped one: `concat [a; b]`,
/// `sampleNormal mu logVar`, `binaryCrossEntropy p t`, `klNormal mu logVar`.
/// </summary>
internal static class TensorFunctions
{
    public static IEnumerable<KeyValuePair<string, Func<Elaborator, TextSpan, Value>>> Entries =>
    [
        new("concat", (e, span) => Builtins.Function("concat", span, ["tensors"], Concat, ["axis"])),
        new("sampleNormal", (e, span) => Builtins.Function("sampleNormal", span, ["mu", "logVar"], SampleNormal)),
        new("binaryCrossEntropy", (e, span) => Builtins.Function("binaryCrossEntropy", span, ["prediction", "target"],
            (e, args, options, at) => Loss(e, "binaryCrossEntropy", Op.BinaryCrossEntropy, Reduction.Mean, args, options, at), ["reduce"])),
        new("klNormal", (e, span) => Builtins.Function("klNormal", span, ["mu", "logVar"],
            (e, args, options, at) => Loss(e, "klNormal", Op.KlNormal, Reduction.Sum, args, options, at), ["reduce"])),
    ];

    /// <summary>`concat [a; b] (axis = 1)`: joined along axis 1 (channels of NCHW, features of [N, D]) unless told otherwise.</summary>
    private static Value Concat(Elaborator e, Value[] args, NamedArgsValue? options, TextSpan span)
    {
        if (args[0] is not ListValue { Items.Count: >= 2 } list)
            throw e.Error(DiagnosticCatalog.WrongArgumentType, args[0].Span, $"`concat` takes a list of two or more tensors, found {args[0].Kind}",
                "write `concat [a; b]`");
        var tensors = list.Items.Select(item => item as TensorValue ?? throw e.Error(DiagnosticCatalog.WrongArgumentType, item.Span,
            $"`concat` joins tensors, this is {item.Kind}")).ToArray();
        var rank = tensors[0].Shape.Rank;
        var axis = 1;
        if (options is not null && new LayerOptions(e, options, "concat", ["axis"])["axis"] is { } a)
        {
            axis = a is NumberValue { IsInteger: true } n ? (int)n.Number : throw e.Error(DiagnosticCatalog.WrongArgumentType, a.Span,
                $"`axis` must be an integer, found {a.Kind}");
            if (axis < 0) axis += rank;
            if (axis < 1 || axis >= rank)
                throw e.Error(DiagnosticCatalog.InvalidArgument, a.Span, $"`concat` of {tensors[0].Shape} joins along an axis from 1 to {rank - 1} (or -1 for the last)",
                    "axis 0 is the batch");
        }
        foreach (var t in tensors.Skip(1))
        {
            var agree = t.Shape.Rank == rank && Enumerable.Range(0, rank).All(i => i == axis || t.Shape[i] == tensors[0].Shape[i]);
            if (!agree)
                throw e.Error(DiagnosticCatalog.ShapeMismatch, t.Span,
                    $"`concat` joins along axis {axis}, so the other axes must agree: the first is {tensors[0].Shape}, this is {t.Shape}",
                    $"this one comes from {t.Producer} ({e.Where(t.ProducerSite)})");
        }
        if (tensors.Any(t => t.Shape[axis].IsSymbolic))
            throw e.Error(DiagnosticCatalog.WrongRank, span, $"`concat` needs a fixed size along axis {axis}");
        var first = e.Builder.Nodes.Count;
        var node = e.AddNode(Op.Concat, tensors.Select(t => t.Node).ToArray(), new OpAttributes { Axis = axis }, e.At(span));
        e.RecordLayer(null, "concat", e.Builder[node].Shape, 0, e.At(span), first);
        return e.Tensor(node, "`concat`", e.At(span), span);
    }

    /// <summary>`sampleNormal mu logVar`: mu + exp(logVar / 2) · ε, the reparameterised sample of a VAE.</summary>
    private static Value SampleNormal(Elaborator e, Value[] args, NamedArgsValue? options, TextSpan span)
    {
        var (mu, logVar) = Pair(e, "sampleNormal", args);
        var first = e.Builder.Nodes.Count;
        var node = e.AddNode(Op.SampleNormal, [mu.Node, logVar.Node], null, e.At(span));
        e.RecordLayer(null, "sampleNormal", mu.Shape, 0, e.At(span), first);
        return e.Tensor(node, "`sampleNormal`", e.At(span), span);
    }

    private static Value Loss(Elaborator e, string name, Op op, Reduction fallback, Value[] args, NamedArgsValue? options, TextSpan span)
    {
        var (a, b) = Pair(e, name, args);
        var reduce = new LayerOptions(e, options, name, ["reduce"]).Symbol("reduce", ["mean", "sum"]) switch
        {
            "sum" => Reduction.Sum,
            "mean" => Reduction.Mean,
            _ => fallback,
        };
        var node = e.AddNode(op, [a.Node, b.Node], new OpAttributes { Reduce = reduce }, e.At(span));
        return e.Tensor(node, $"`{name}`", e.At(span), span);
    }

    private static (TensorValue, TensorValue) Pair(Elaborator e, string name, Value[] args)
    {
        var tensors = args.Select(a => a as TensorValue ?? throw e.Error(DiagnosticCatalog.WrongArgumentType, a.Span,
            $"`{name}` takes two tensors, this is {a.Kind}")).ToArray();
        if (tensors[0].Shape != tensors[1].Shape)
            throw e.Error(DiagnosticCatalog.ShapeMismatch, tensors[1].Span,
                $"`{name}` takes two tensors of one shape: the first is {tensors[0].Shape}, the second {tensors[1].Shape}",
                $"the second comes from {tensors[1].Producer} ({e.Where(tensors[1].ProducerSite)})");
        return (tensors[0], tensors[1]);
    }
}

/// <summary>`reshape [64; 7; 7]`: new sizes for the axes after the batch, one of which may be -1 (inferred).</summary>
public sealed class ReshapeLayer(IReadOnlyList<int> sizes) : Layer
{
    public override string Describe() => $"reshape [{string.Join("; ", sizes)}]";

    protected override TensorValue Forward(Elaborator e, TensorValue x, TextSpan span)
    {
        var rest = x.Shape.Dims.Skip(1).ToArray();
        if (x.Shape.Rank < 1 || rest.Any(d => d.IsSymbolic))
            throw e.Error(DiagnosticCatalog.WrongRank, span, $"`{Describe()}` needs fixed sizes after the batch axis, got {x.Shape}");
        var elements = rest.Aggregate(1L, (p, d) => p * d.Size);
        var known = sizes.Where(s => s != -1).Aggregate(1L, (p, s) => p * s);
        var inferred = sizes.Contains(-1) && known > 0 && elements % known == 0 ? (int)(elements / known) : -1;
        var dims = sizes.Select(s => s == -1 ? inferred : s).ToArray();
        if (dims.Any(d => d < 1) || dims.Aggregate(1L, (p, d) => p * d) != elements)
            throw e.Error(DiagnosticCatalog.ShapeMismatch, span,
                $"`{Describe()}` cannot rearrange {x.Shape}: it has {elements.ToString("N0", CultureInfo.InvariantCulture)} elements per sample, the new sizes hold {known.ToString("N0", CultureInfo.InvariantCulture)}",
                $"the input comes from {x.Producer} ({e.Where(x.ProducerSite)})");
        var shape = new Shape([x.Shape[0], .. dims.Select(Dim.Of)]);
        var first = e.Builder.Nodes.Count;
        var node = Emit(e, Op.Reshape, [x.Node], null, shape);
        Record(e, null, shape, 0, first);
        return Result(e, node, span);
    }

    /// <summary>Read the list of sizes: positive integers, at most one -1.</summary>
    public static ReshapeLayer Read(Elaborator e, Value value, TextSpan span)
    {
        if (value is not ListValue { Items.Count: > 0 } list)
            throw e.Error(DiagnosticCatalog.WrongArgumentType, value.Span, $"`reshape` takes a list of sizes after the batch axis, found {value.Kind}",
                "for example `reshape [1; 28; 28]`");
        var sizes = list.Items.Select(item => item is NumberValue { IsInteger: true } n && (n.Number >= 1 || n.Number == -1) && n.Number <= int.MaxValue
            ? (int)n.Number
            : throw e.Error(DiagnosticCatalog.WrongArgumentType, item.Span, "a size must be a positive integer, or -1 for the one to infer")).ToArray();
        if (sizes.Count(s => s == -1) > 1)
            throw e.Error(DiagnosticCatalog.InvalidArgument, value.Span, "only one size can be -1 (inferred)");
        return new ReshapeLayer(sizes) { Site = e.At(span) };
    }
}
