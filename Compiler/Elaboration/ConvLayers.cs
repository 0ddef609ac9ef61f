using System.Globalization;
using Dlc.Compiler.Ir;
using Dlc.Compiler.Ops;
using Dlc.Diagnostics;

namespace Dlc.Compiler.Elaboration;

/// <summary>The options of a convolution, as torch.nn's Conv2d names them; <see cref="Padding"/> null means `same`.</summary>
public sealed record ConvSettings(int[]? Kernel, int[] Stride, int[]? Padding, int[] Dilation, int[] OutputPadding, int Groups, bool Bias)
{
    public static ConvSettings Default(int rank) =>
        new(null, Ones(rank), new int[rank], Ones(rank), new int[rank], 1, true);

    private static int[] Ones(int rank) => Enumerable.Repeat(1, rank).ToArray();
}

/// <summary>
/// `conv1d` and `conv2d channels (kernel = k, stride = s, padding = p | same, dilation = d, groups = g,
/// bias = b)` and `convTranspose2d channels (kernel, stride, padding, outputPadding, dilation, groups, bias)`,
/// over NCL / NCHW tensors with PyTorch's weight layouts and initialisation (U(±1/√fan-in) for weight
/// and bias). Parameters are made at the first application, when the input channels are known.
/// </summary>
public sealed class ConvLayer(int rank, bool transposed, int channels, ConvSettings settings, LayerInstance instance) : Layer
{
    private int _weight = -1;
    private int _bias = -1;
    private Dim _inChannels;

    public LayerInstance Instance { get; } = instance;

    private string Kind => transposed ? "convTranspose2d" : $"conv{rank}d";

    public override string Describe() => $"{Kind} {channels.ToString(CultureInfo.InvariantCulture)}";

    public override Layer Configure(Elaborator e, NamedArgsValue arguments)
    {
        string[] known = transposed
            ? ["kernel", "stride", "padding", "outputPadding", "dilation", "groups", "bias"]
            : ["kernel", "stride", "padding", "dilation", "groups", "bias"];
        var o = new LayerOptions(e, arguments, Describe(), known);
        var padding = settings.Padding;
        if (o["padding"] is SymbolValue { Name: "same" or "valid" } mode)
        {
            if (transposed && mode.Name == "same")
                throw e.Error(DiagnosticCatalog.InvalidArgument, mode.Span, "`convTranspose2d` has no `same` padding", "give the padding as a number");
            padding = mode.Name == "same" ? null : new int[rank];
        }
        else if (o.Sizes("padding", rank, allowZero: true) is { } pads)
        {
            padding = pads;
        }
        var s = settings with
        {
            Kernel = o.Sizes("kernel", rank) ?? settings.Kernel,
            Stride = o.Sizes("stride", rank) ?? settings.Stride,
            Padding = padding,
            Dilation = o.Sizes("dilation", rank) ?? settings.Dilation,
            OutputPadding = o.Sizes("outputPadding", rank, allowZero: true) ?? settings.OutputPadding,
            Groups = o.PositiveInt("groups", settings.Groups),
            Bias = o.Bool("bias", settings.Bias),
        };
        TextSpan At(string name) => o.Has(name) ? o.SpanOf(name) : arguments.Span;
        if (channels % s.Groups != 0)
            throw e.Error(DiagnosticCatalog.InvalidArgument, At("groups"),
                $"{channels} output channels do not split into {s.Groups} groups", $"the groups must divide the channels; {Divisors(channels)}");
        if (s.Padding is null && s.Stride.Any(x => x != 1))
            throw e.Error(DiagnosticCatalog.InvalidArgument, o.Has("padding") ? At("padding") : At("stride"),
                "`same` padding keeps the size, so it needs stride 1", "give the padding as a number, for example `padding = 1` with `kernel = 3`");
        for (var i = 0; i < rank; i++)
        {
            if (s.OutputPadding[i] >= Math.Max(s.Stride[i], s.Dilation[i]))
                throw e.Error(DiagnosticCatalog.InvalidArgument, At("outputPadding"),
                    $"`outputPadding` must be smaller than the stride or the dilation, got {s.OutputPadding[i]}");
        }
        return new ConvLayer(rank, transposed, channels, s, Instance) { Site = Site };
    }

    protected override TensorValue Forward(Elaborator e, TensorValue x, TextSpan span)
    {
        var layout = rank == 1 ? "Tensor[N, channels, length]" : "Tensor[N, channels, height, width]";
        if (x.Shape.Rank != rank + 2)
            throw e.Error(DiagnosticCatalog.WrongRank, span, $"`{Describe()}` takes {layout}, but {x.Producer} gives {x.Shape}", RankHelp(x.Shape));
        var kernel = settings.Kernel ?? throw e.Error(DiagnosticCatalog.WrongArgumentCount, Site, $"`{Describe()}` has no kernel size",
            $"give one: `{Describe()} (kernel = 3)`");
        var inChannels = x.Shape[1];
        if (inChannels.IsSymbolic)
            throw e.Error(DiagnosticCatalog.WrongRank, span, $"`{Describe()}` needs a fixed number of input channels, got {x.Shape}");
        if (inChannels.Size % settings.Groups != 0)
            throw e.Error(DiagnosticCatalog.ShapeMismatch, span,
                $"`{Describe()}` splits its input into {settings.Groups} groups, but {x.Producer} gives {inChannels.Size} channels",
                $"the groups must divide the input channels too; {Divisors(inChannels.Size)}");
        var pads = settings.Padding is { } p ? [.. p, .. p] : SamePadding(kernel);
        var attributes = new OpAttributes
        {
            Stride = settings.Stride, Padding = pads, Dilation = settings.Dilation, Groups = settings.Groups,
            OutputPadding = transposed ? settings.OutputPadding : null,
        };
        CheckWindows(e, x, span, kernel, pads);

        var first = e.Builder.Nodes.Count;
        var created = _weight < 0;
        if (created)
        {
            _inChannels = inChannels;
            Dim[] weight = transposed
                ? [inChannels, Dim.Of(channels / settings.Groups), .. kernel.Select(Dim.Of)]
                : [Dim.Of(channels), Dim.Of(inChannels.Size / settings.Groups), .. kernel.Select(Dim.Of)];
            var init = new Init(InitKind.UniformFanIn, weight[1].Size * kernel.Aggregate(1, (a, k) => a * k));
            _weight = e.CreateParameter(Instance, "weight", new Shape(weight), init, Site);
            if (settings.Bias) _bias = e.CreateParameter(Instance, "bias", new Shape(channels), init, Site);
        }
        else if (_inChannels != inChannels)
        {
            throw e.Error(DiagnosticCatalog.ShapeMismatch, span,
                $"this `{Describe()}` is shared: it was first applied to {_inChannels} channels, here to {inChannels}",
                $"applying one layer value twice shares its weights; call `{Kind}` again for a layer of its own");
        }
        var op = transposed ? Op.ConvTranspose2d : rank == 1 ? Op.Conv1d : Op.Conv2d;
        int[] inputs = _bias >= 0 ? [x.Node, _weight, _bias] : [x.Node, _weight];
        var node = Emit(e, op, inputs, attributes);
        var parameters = created ? e.Builder.Parameters.Where(q => q.Node == _weight || q.Node == _bias).Sum(q => Elements(q.Shape)) : 0;
        Record(e, Instance, e.Builder[node].Shape, parameters, first);
        return Result(e, node, span);
    }

    // PyTorch's `same`: the total padding d·(k − 1), the odd one at the end.
    private int[] SamePadding(int[] kernel)
    {
        var totals = kernel.Select((k, i) => settings.Dilation[i] * (k - 1)).ToArray();
        return [.. totals.Select(t => t / 2), .. totals.Select(t => t - t / 2)];
    }

    private void CheckWindows(Elaborator e, TensorValue x, TextSpan span, int[] kernel, int[] pads)
    {
        if (transposed) return;
        for (var i = 0; i < rank; i++)
        {
            try
            {
                ConvolutionOps.WindowOutput(x.Shape[i + 2], kernel[i], settings.Stride[i], pads[i], pads[i + rank], settings.Dilation[i]);
            }
            catch (ShapeException ex)
            {
                throw e.Error(DiagnosticCatalog.ShapeMismatch, span, $"`{Describe()}` does not fit {x.Shape}: {ex.Message}",
                    $"the input comes from {x.Producer} ({e.Where(x.ProducerSite)})");
            }
        }
    }

    private string? RankHelp(Shape shape)
    {
        if (shape.Rank != 2 || shape[1].IsSymbolic) return null;
        var side = (int)Math.Round(Math.Sqrt(shape[1].Size));
        return rank == 2 && side * side == shape[1].Size
            ? $"give the features a channel and two spatial axes first: `|> reshape [1; {side}; {side}]`"
            : rank == 1 ? $"give the features a channel axis first: `|> reshape [1; {shape[1]}]`" : null;
    }

    private static string Divisors(int n)
    {
        var divisors = Enumerable.Range(1, n).Where(d => n % d == 0).ToList();
        if (divisors.Count == 1) return "1 channel makes 1 group";
        return $"{n} splits into {string.Join(", ", divisors.Take(divisors.Count - 1))} or {divisors[^1]} groups";
    }

    private static long Elements(Shape s) => s.Dims.Aggregate(1L, (a, d) => a * d.Size);
}
