using System.Globalization;
using Dlc.Compiler.Ir;
using Dlc.Compiler.Ops;
using Dlc.Diagnostics;

namespace Dlc.Compiler.Elaboration;

/// <summary>
/// `maxPool k` and `avgPool k` (options `stride`, default k, and `padding`), over NCL or NCHW tensors as
/// torch.nn's MaxPool1d/2d and AvgPool1d/2d; the window size is one number or one per spatial axis.
/// </summary>
public sealed class PoolLayer(bool max, Value kernel, Value? stride, Value? padding) : Layer
{
    private string Kind => max ? "maxPool" : "avgPool";

    public override string Describe() => $"{Kind} {Text(kernel)}";

    public override Layer Configure(Elaborator e, NamedArgsValue arguments)
    {
        var o = new LayerOptions(e, arguments, Describe(), ["stride", "padding"]);
        return new PoolLayer(max, kernel, o["stride"] ?? stride, o["padding"] ?? padding) { Site = Site };
    }

    protected override TensorValue Forward(Elaborator e, TensorValue x, TextSpan span)
    {
        if (x.Shape.Rank is not (3 or 4))
            throw e.Error(DiagnosticCatalog.WrongRank, span,
                $"`{Describe()}` takes Tensor[N, channels, height, width] (or [N, channels, length]), but {x.Producer} gives {x.Shape}",
                x.Shape.Rank == 2 ? "pooling works on images and sequences; a flattened tensor has no window to pool" : null);
        var rank = x.Shape.Rank - 2;
        var o = new LayerOptions(e, new NamedArgsValue(Entries(), span), Describe(), ["kernel", "stride", "padding"]);
        var k = o.Sizes("kernel", rank)!;
        var s = o.Sizes("stride", rank) ?? k;
        var p = o.Sizes("padding", rank, allowZero: true) ?? new int[rank];
        for (var i = 0; i < rank; i++)
        {
            if (p[i] > k[i] / 2)
                throw e.Error(DiagnosticCatalog.InvalidArgument, padding!.Span,
                    $"the padding of a pooling window must be at most half its size, got {p[i]} for a window of {k[i]}");
            try
            {
                ConvolutionOps.WindowOutput(x.Shape[i + 2], k[i], s[i], p[i], p[i], 1);
            }
            catch (ShapeException ex)
            {
                throw e.Error(DiagnosticCatalog.ShapeMismatch, span, $"`{Describe()}` does not fit {x.Shape}: {ex.Message}",
                    $"the input comes from {x.Producer} ({e.Where(x.ProducerSite)})");
            }
        }
        var first = e.Builder.Nodes.Count;
        var node = Emit(e, max ? Op.MaxPool : Op.AvgPool, [x.Node], new OpAttributes { Kernel = k, Stride = s, Padding = [.. p, .. p] });
        Record(e, null, e.Builder[node].Shape, 0, first);
        return Result(e, node, span);
    }

    private RecordEntry[] Entries()
    {
        var entries = new List<RecordEntry> { new("kernel", kernel.Span, kernel) };
        if (stride is not null) entries.Add(new("stride", stride.Span, stride));
        if (padding is not null) entries.Add(new("padding", padding.Span, padding));
        return [.. entries];
    }

    private static string Text(Value v) => v switch
    {
        NumberValue n => n.Number.ToString(CultureInfo.InvariantCulture),
        TupleValue t => $"({string.Join(", ", t.Items.Select(Text))})",
        _ => "?",
    };
}

/// <summary>`globalAvgPool`: [N, C, ...] to [N, C], the mean over every position (AdaptiveAvgPool2d(1) then flatten).</summary>
public sealed class GlobalAvgPoolLayer : Layer
{
    public override string Describe() => "globalAvgPool";

    protected override TensorValue Forward(Elaborator e, TensorValue x, TextSpan span)
    {
        if (x.Shape.Rank < 3)
            throw e.Error(DiagnosticCatalog.WrongRank, span,
                $"`globalAvgPool` takes Tensor[N, channels, height, width], but {x.Producer} gives {x.Shape}",
                "it averages over the spatial axes; this tensor has none");
        var first = e.Builder.Nodes.Count;
        var node = Emit(e, Op.GlobalAvgPool, [x.Node]);
        Record(e, null, e.Builder[node].Shape, 0, first);
        return Result(e, node, span);
    }
}

/// <summary>`upsample factor` (option `mode = nearest | bilinear`): each spatial axis `factor` times larger, as nn.Upsample.</summary>
public sealed class UpsampleLayer(int factor, string mode) : Layer
{
    public override string Describe() => $"upsample {factor.ToString(CultureInfo.InvariantCulture)}";

    public override Layer Configure(Elaborator e, NamedArgsValue arguments)
    {
        var o = new LayerOptions(e, arguments, Describe(), ["mode"]);
        return new UpsampleLayer(factor, o.Symbol("mode", ["nearest", "bilinear"]) ?? mode) { Site = Site };
    }

    protected override TensorValue Forward(Elaborator e, TensorValue x, TextSpan span)
    {
        if (x.Shape.Rank is not (3 or 4) || (mode == "bilinear" && x.Shape.Rank != 4))
            throw e.Error(DiagnosticCatalog.WrongRank, span,
                $"`{Describe()}` ({mode}) takes Tensor[N, channels, height, width]{(mode == "nearest" ? " or [N, channels, length]" : "")}, but {x.Producer} gives {x.Shape}");
        if (x.Shape.Dims.Skip(2).Any(d => d.IsSymbolic))
            throw e.Error(DiagnosticCatalog.WrongRank, span, $"`{Describe()}` needs fixed spatial sizes, got {x.Shape}");
        var first = e.Builder.Nodes.Count;
        var node = Emit(e, Op.Upsample, [x.Node], new OpAttributes { Factor = Enumerable.Repeat(factor, x.Shape.Rank - 2).ToArray(), Mode = mode });
        Record(e, null, e.Builder[node].Shape, 0, first);
        return Result(e, node, span);
    }
}
