using Dlc.Compiler.Ir;

namespace Dlc.Compiler.Ops;

/// <summary>
/// Convolutions over NCL and NCHW tensors with PyTorch's layouts: the weight is [out, in/groups, k...]
/// (transposed: [in, out/groups, k...]), the bias [out]. Conv2d differentiates into three gradient ops;
/// each takes the forward operand whose shape it returns, because a strided window loses the input's size.
/// </summary>
internal static class ConvolutionOps
{
    public static IEnumerable<OpInfo> All =>
    [
        new(Op.Conv1d, "conv1d", -1, (s, a, d) => ConvShape(s, a, 1), "y[N,out,L'] = Σ over in/groups·k of w · x + b (x, w [, b])")
        {
            Cost = ConvCost,
            // A 1-D convolution is a 2-D one of height 1: the gradient ops take either rank.
            Backward = Conv2dBackward,
        },
        new(Op.Conv2d, "conv2d", -1, (s, a, d) => ConvShape(s, a, 2), "y[N,out,H',W'] = Σ over in/groups·kh·kw of w · x + b (x, w [, b])")
        {
            Cost = ConvCost,
            Backward = Conv2dBackward,
        },
        new(Op.Conv2dInputGrad, "conv2d_input_grad", 3, (s, a, d) => s[2], "dx = the transposed convolution of dy with w (dy, w, x)")
        {
            Cost = (node, s, batch) => ConvCost(node, [s[0], s[1]], batch),
        },
        new(Op.Conv2dWeightGrad, "conv2d_weight_grad", 3, (s, a, d) => s[2], "dw = Σ over N and positions of dy ⊗ x's window (x, dy, w)")
        {
            Cost = (node, s, batch) => ConvCost(node, [s[1], s[2]], batch),
        },
        new(Op.Conv2dBiasGrad, "conv2d_bias_grad", 1, (s, a, d) => new Shape(s[0][1]), "db[C] = Σ over N, H, W of dy[N,C,H,W]"),
        new(Op.ConvTranspose2d, "conv_transpose2d", -1, TransposedShape, "the gradient of conv2d with respect to its input, as a layer (x, w [, b])")
        {
            Cost = TransposedCost,
            Backward = TransposedBackward,
        },
    ];

    /// <summary>The size of one spatial axis after a window: ⌊(L + pads − dilation·(k − 1) − 1) / stride⌋ + 1.</summary>
    public static Dim WindowOutput(Dim length, int kernel, int stride, int padBegin, int padEnd, int dilation)
    {
        var span = dilation * (kernel - 1);
        if (length.IsSymbolic)
        {
            // A symbolic length keeps its symbol only when the window preserves it.
            if (stride == 1 && padBegin + padEnd == span) return length;
            throw new ShapeException($"a window of {kernel} with stride {stride} changes the length `{length}`, which is not fixed");
        }
        var padded = length.Size + padBegin + padEnd - span - 1;
        if (padded < 0) throw new ShapeException($"a window of {kernel} (dilation {dilation}) is larger than the padded length {length.Size + padBegin + padEnd}");
        return Dim.Of(padded / stride + 1);
    }

    private static Shape ConvShape(Shape[] s, OpAttributes a, int rank)
    {
        var (x, w) = (s[0], s[1]);
        if (x.Rank != rank + 2) throw new ShapeException($"conv{rank}d takes Tensor[N, channels{Axes(rank)}], got {x}");
        if (w.Rank != rank + 2) throw new ShapeException($"conv{rank}d weight must have rank {rank + 2}, got {w}");
        if (x[1] != Dim.Of(w[1].Size * a.Groups)) throw new ShapeException($"conv{rank}d weight {w} in {a.Groups} groups does not fit {x[1]} input channels");
        if (w[0].Size % a.Groups != 0) throw new ShapeException($"{w[0]} output channels do not split into {a.Groups} groups");
        CheckBias(s, w[0]);
        var dims = new List<Dim> { x[0], w[0] };
        for (var i = 0; i < rank; i++)
            dims.Add(WindowOutput(x[i + 2], w[i + 2].Size, a.Stride![i], a.Padding![i], a.Padding![i + rank], a.Dilation![i]));
        return new Shape(dims);
    }

    private static void Conv2dBackward(BackwardContext c, Node node, int dy)
    {
        var (x, w) = (node.Inputs[0], node.Inputs[1]);
        if (c.NeedsGradient(x)) c.Accumulate(x, c.Emit(Op.Conv2dInputGrad, node.Attributes, dy, w, x));
        if (c.NeedsGradient(w)) c.Accumulate(w, c.Emit(Op.Conv2dWeightGrad, node.Attributes, x, dy, w));
        if (node.Inputs.Count > 2 && c.NeedsGradient(node.Inputs[2])) c.Accumulate(node.Inputs[2], c.Emit(Op.Conv2dBiasGrad, dy));
    }

    /// <summary>
    /// The transposed convolution is conv2d's input gradient, so its own gradients are conv2d ops with the roles
    /// turned round: dx = conv2d(dy, w), dw = conv2d_weight_grad with dy as the image and x as the output gradient.
    /// </summary>
    private static void TransposedBackward(BackwardContext c, Node node, int dy)
    {
        var (x, w) = (node.Inputs[0], node.Inputs[1]);
        if (c.NeedsGradient(x)) c.Accumulate(x, c.Emit(Op.Conv2d, node.Attributes with { OutputPadding = null }, dy, w));
        if (c.NeedsGradient(w)) c.Accumulate(w, c.Emit(Op.Conv2dWeightGrad, node.Attributes, dy, x, w));
        if (node.Inputs.Count > 2 && c.NeedsGradient(node.Inputs[2])) c.Accumulate(node.Inputs[2], c.Emit(Op.Conv2dBiasGrad, dy));
    }

    private static Shape TransposedShape(Shape[] s, OpAttributes a, Shape? declared)
    {
        var (x, w) = (s[0], s[1]);
        if (x.Rank != 4) throw new ShapeException($"conv_transpose2d takes Tensor[N, channels, H, W], got {x}");
        if (w.Rank != 4 || w[0] != x[1]) throw new ShapeException($"conv_transpose2d weight {w} does not fit {x[1]} input channels");
        var outChannels = Dim.Of(w[1].Size * a.Groups);
        CheckBias(s, outChannels);
        var dims = new List<Dim> { x[0], outChannels };
        for (var i = 0; i < 2; i++)
        {
            var (k, stride, dilation, extra) = (w[i + 2].Size, a.Stride![i], a.Dilation![i], a.OutputPadding![i]);
            var pads = a.Padding![i] + a.Padding![i + 2];
            if (x[i + 2].IsSymbolic)
            {
                if (stride != 1 || pads != dilation * (k - 1) + extra)
                    throw new ShapeException($"conv_transpose2d changes the length `{x[i + 2]}`, which is not fixed");
                dims.Add(x[i + 2]);
                continue;
            }
            var size = (x[i + 2].Size - 1) * stride - pads + dilation * (k - 1) + extra + 1;
            if (size < 1) throw new ShapeException($"conv_transpose2d of {x} gives an empty axis");
            dims.Add(Dim.Of(size));
        }
        return new Shape(dims);
    }

    private static void CheckBias(Shape[] s, Dim outChannels)
    {
        if (s.Length > 2 && (s[2].Rank != 1 || s[2][0] != outChannels))
            throw new ShapeException($"bias {s[2]} does not fit {outChannels} output channels");
    }

    private static string Axes(int rank) => rank == 1 ? ", length" : ", height, width";

    // Every output element is a dot product over in/groups·k... taps, plus the bias.
    private static Count ConvCost(Node node, Shape[] s, string? batch)
    {
        var taps = s[1].Dims.Skip(1).Aggregate(1L, (p, d) => p * d.Size);
        var outputs = Count.Elements(node.Shape, batch);
        return outputs * (2 * taps) + (s.Length > 2 ? outputs : Count.Zero);
    }

    // Every input element is scattered into out/groups·kh·kw outputs.
    private static Count TransposedCost(Node node, Shape[] s, string? batch)
    {
        var taps = s[1].Dims.Skip(1).Aggregate(1L, (p, d) => p * d.Size);
        return Count.Elements(s[0], batch) * (2 * taps) + (s.Length > 2 ? Count.Elements(node.Shape, batch) : Count.Zero);
    }
}
