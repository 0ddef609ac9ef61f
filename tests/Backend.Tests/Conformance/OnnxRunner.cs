using Dlc.Backend.Gemm;
using Dlc.Backend.Kernels;
using Onnx;

namespace Dlc.Backend.Tests.Conformance;

/// <summary>
/// Runs the few ONNX (opset 6) operators the conformance cases contain with dlc's kernels: Gemm and MatMul
/// through an IGemm (plus BiasAdd for the broadcast bias), Transpose, Add, Relu, Sigmoid, Tanh, Softmax and
/// LogSoftmax, and 2-D Conv and MaxPool over NCHW through Convolution and Pooling. Anything else is refused, so a case never passes by skipping a node.
/// </summary>
internal sealed class OnnxRunner(IGemm gemm)
{
    public static readonly string[] Supported = ["Gemm", "MatMul", "Transpose", "Add", "Relu", "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "Conv", "MaxPool",
        "AveragePool", "ConvTranspose", "BatchNormalization", "Unsqueeze", "Squeeze", "Gather"];

    public Tensor Run(OnnxCase test)
    {
        var graph = test.Model.Graph;
        var values = graph.Initializer.ToDictionary(t => t.Name, Tensor.From);
        var input = graph.Input.Select(i => i.Name).Single(name => !values.ContainsKey(name));
        values[input] = test.Input;
        foreach (var node in graph.Node)
            values[node.Output[0]] = Execute(node, node.Input.Where(n => n.Length > 0).Select(n => values[n]).ToArray());
        return values[graph.Output[0].Name];
    }

    /// <summary>Gather along axis 0 of a matrix: nn.Embedding's lookup, run by dlc's embedding kernel.</summary>
    private static Tensor Gather(NodeProto node, Tensor table, Tensor indices)
    {
        if (node.Int("axis", 0) != 0 || table.Dims.Length != 2) throw new NotSupportedException("Only a gather of rows of a matrix is handled.");
        var y = new float[indices.Size * table.Dims[1]];
        Embedding.Forward(indices.Data, table.Data, y, table.Dims[0], table.Dims[1]);
        return new Tensor([.. indices.Dims, table.Dims[1]], y);
    }

    private Tensor Execute(NodeProto node, Tensor[] inputs) => node.OpType switch
    {
        "Gemm" => Gemm(node, inputs),
        "MatMul" => Product(inputs[0], false, inputs[1], false, 1f),
        "Transpose" => Transpose(node, inputs[0]),
        "Add" => Add(inputs[0], inputs[1]),
        "Relu" => Map(inputs[0], (x, y) => Activations.Relu(x, y)),
        "Sigmoid" => Map(inputs[0], (x, y) => Activations.Sigmoid(x, y)),
        "Tanh" => Map(inputs[0], (x, y) => Activations.Tanh(x, y)),
        "Softmax" => Rows(node, inputs[0], (x, y, r, c) => SoftmaxKernels.Softmax(x, y, r, c)),
        "LogSoftmax" => Rows(node, inputs[0], (x, y, r, c) => SoftmaxKernels.LogSoftmax(x, y, r, c)),
        "Conv" => Conv(node, inputs),
        "MaxPool" => MaxPool(node, inputs[0]),
        "AveragePool" => AveragePool(node, inputs[0]),
        "ConvTranspose" => ConvTranspose(node, inputs),
        "BatchNormalization" => BatchNorm(node, inputs),
        "Unsqueeze" => Reshape(inputs[0], Unsqueezed(inputs[0].Dims, node.Ints("axes")!)),
        "Squeeze" => Reshape(inputs[0], inputs[0].Dims.Where((d, i) => !(node.Ints("axes")?.Contains(i) ?? d == 1)).ToArray()),
        "Gather" => Gather(node, inputs[0], inputs[1]),
        _ => throw new NotSupportedException($"ONNX operator {node.OpType} is not handled."),
    };

    /// <summary>Y = alpha·A'·B' + beta·C with C broadcast: a bias of N values goes through BiasAdd.</summary>
    private Tensor Gemm(NodeProto node, Tensor[] inputs)
    {
        var transA = node.Int("transA", 0) != 0;
        var transB = node.Int("transB", 0) != 0;
        var alpha = node.Float("alpha", 1f);
        var beta = node.Float("beta", 1f);
        var y = Product(inputs[0], transA, inputs[1], transB, alpha);
        if (inputs.Length < 3) return y;
        var (m, n) = (y.Dims[0], y.Dims[1]);
        var c = inputs[2];
        if (c.Size == n)
        {
            var bias = c.Data.Select(v => beta * v).ToArray();
            Linear.BiasAdd(y.Data, bias, y.Data, m, n);
            return y;
        }
        if (c.Size != m * n) throw new NotSupportedException($"Gemm bias of shape [{string.Join(",", c.Dims)}] is not handled.");
        var scaled = new float[c.Size];
        Elementwise.Scale(c.Data, beta, scaled);
        Elementwise.AddInPlace(y.Data, scaled);
        return y;
    }

    private unsafe Tensor Product(Tensor a, bool transA, Tensor b, bool transB, float alpha)
    {
        if (a.Dims.Length != 2 || b.Dims.Length != 2) throw new NotSupportedException("Only 2-D products are handled.");
        var (m, k) = transA ? (a.Dims[1], a.Dims[0]) : (a.Dims[0], a.Dims[1]);
        var (kb, n) = transB ? (b.Dims[1], b.Dims[0]) : (b.Dims[0], b.Dims[1]);
        if (k != kb) throw new InvalidDataException($"Inner dimensions differ: {k} and {kb}.");
        var y = new float[m * n];
        fixed (float* pa = a.Data, pb = b.Data, py = y)
            gemm.Sgemm(transA, transB, m, n, k, alpha, pa, a.Dims[1], pb, b.Dims[1], 0f, py, n);
        return new Tensor([m, n], y);
    }

    /// <summary>Conv with kernel_shape, strides, pads [top, left, bottom, right], dilations and group; the bias is optional.</summary>
    private unsafe Tensor Conv(NodeProto node, Tensor[] inputs)
    {
        var (x, w) = (inputs[0], inputs[1]);
        var g = Window(node, x, w.Dims[0], w.Dims.Length == 3 ? 1 : w.Dims[2], w.Dims[^1], (int)node.Int("group", 1));
        var y = new float[g.OutputSize];
        var (columns, _) = Conv2dKernel.ScratchLengths(g, 1);
        var col = new float[columns];
        var bias = inputs.Length > 2 ? inputs[2].Data : null;
        fixed (float* px = x.Data, pw = w.Data, pb = bias, py = y, pcol = col)
            new Conv2dKernel(g, gemm, null, pcol, null).Forward(px, pw, pb, py);
        return new Tensor(Shaped(x, g), y);
    }

    /// <summary>ConvTranspose as conv2d's input gradient: the convolution it transposes maps its output back to x.</summary>
    private unsafe Tensor ConvTranspose(NodeProto node, Tensor[] inputs)
    {
        var (x, w) = (inputs[0], inputs[1]);
        if (x.Dims.Length != 4) throw new NotSupportedException("Only 2-D transposed convolutions are handled.");
        var groups = (int)node.Int("group", 1);
        int[] Ints(string name, int fill) => node.Ints(name)?.Select(v => (int)v).ToArray() ?? [fill, fill];
        var (strides, dilations, extra) = (Ints("strides", 1), Ints("dilations", 1), Ints("output_padding", 0));
        var pads = node.Ints("pads")?.Select(v => (int)v).ToArray() ?? [0, 0, 0, 0];
        int Out(int i) => (x.Dims[i + 2] - 1) * strides[i] - pads[i] - pads[i + 2] + dilations[i] * (w.Dims[i + 2] - 1) + extra[i] + 1;
        var (outChannels, oh, ow) = (w.Dims[1] * groups, Out(0), Out(1));
        // The transposed convolution's geometry: its output is the image, x the convolution's output.
        var g = new Conv2dGeometry(x.Dims[0], outChannels, oh, ow, x.Dims[1], x.Dims[2], x.Dims[3], w.Dims[2], w.Dims[3],
            strides[0], strides[1], pads[0], pads[1], dilations[0], dilations[1], groups);
        var y = new float[g.InputSize];
        var col = new float[Conv2dKernel.ScratchLengths(g, 1).Scratch];
        fixed (float* px = x.Data, pw = w.Data, py = y, pcol = col)
            new Conv2dKernel(g, gemm, null, pcol, null).InputGrad(px, pw, py);
        if (inputs.Length > 2) Convolution.AddChannelBias(y, inputs[2].Data, g.Batch, outChannels, oh * ow);
        return new Tensor([g.Batch, outChannels, oh, ow], y);
    }

    private static Tensor MaxPool(NodeProto node, Tensor x)
    {
        var kernel = node.Ints("kernel_shape")!;
        var g = Window(node, x, x.Dims[1], kernel.Length == 1 ? 1 : (int)kernel[0], (int)kernel[^1], x.Dims[1]);
        var y = new float[g.OutputSize];
        Pooling.MaxPool2d(x.Data, y, g);
        return new Tensor(Shaped(x, g), y);
    }

    /// <summary>AveragePool as PyTorch exports it: padding counted (count_include_pad = 1) or no padding at all.</summary>
    private static Tensor AveragePool(NodeProto node, Tensor x)
    {
        var kernel = node.Ints("kernel_shape")!;
        var g = Window(node, x, x.Dims[1], kernel.Length == 1 ? 1 : (int)kernel[0], (int)kernel[^1], x.Dims[1]);
        if (node.Int("count_include_pad", 0) == 0 && (g.PadTop > 0 || g.PadLeft > 0))
            throw new NotSupportedException("Average pooling that leaves the padding out of the count is not handled.");
        var y = new float[g.OutputSize];
        Dlc.Backend.Kernels.Reference.PoolingReference.AvgPool2d<float>(x.Data, y, g);
        return new Tensor(Shaped(x, g), y);
    }

    /// <summary>BatchNormalization in inference mode: the running statistics are inputs 3 and 4.</summary>
    private static Tensor BatchNorm(NodeProto node, Tensor[] inputs)
    {
        var x = inputs[0];
        var layout = ChannelLayout.Of(x.Dims);
        var y = new float[x.Size];
        var (mean, variance) = (inputs[3].Data.ToArray(), inputs[4].Data.ToArray());
        Normalization.BatchNorm(x.Data, inputs[1].Data, inputs[2].Data, mean, variance, y, layout,
            node.Float("epsilon", 1e-5f), node.Float("momentum", 0.9f), training: false, 0, layout.Channels);
        return new Tensor(x.Dims, y);
    }

    private static Tensor Reshape(Tensor x, int[] dims) => new(dims, x.Data);

    private static int[] Unsqueezed(int[] dims, long[] axes)
    {
        var result = dims.ToList();
        foreach (var axis in axes.Order()) result.Insert((int)axis, 1);
        return [.. result];
    }

    /// <summary>The output dims of a window op, NCL when x is.</summary>
    private static int[] Shaped(Tensor x, Conv2dGeometry g) =>
        x.Dims.Length == 3 ? [g.Batch, g.OutChannels, g.OutWidth] : [g.Batch, g.OutChannels, g.OutHeight, g.OutWidth];

    private static Conv2dGeometry Window(NodeProto node, Tensor x, int outChannels, int kh, int kw, int groups)
    {
        if (x.Dims.Length is not (3 or 4)) throw new NotSupportedException("Only 1-D and 2-D windows over NCL and NCHW are handled.");
        if (node.Attribute.Any(a => a.Name is "auto_pad" or "ceil_mode" && (a.I != 0 || a.S.Length > 0 && a.S.ToStringUtf8() != "NOTSET")))
            throw new NotSupportedException("auto_pad and ceil_mode are not handled.");
        // A 1-D window is the 2-D one of height 1.
        var flat = x.Dims.Length == 3;
        var dims = flat ? [x.Dims[0], x.Dims[1], 1, x.Dims[2]] : x.Dims;
        int[] Ints(string name, int fill, int count) => node.Ints(name)?.Select(v => (int)v).ToArray() ?? Enumerable.Repeat(fill, count).ToArray();
        var (strides, pads, dilations) = (Ints("strides", 1, flat ? 1 : 2), Ints("pads", 0, flat ? 2 : 4), Ints("dilations", 1, flat ? 1 : 2));
        if (flat) (strides, pads, dilations) = ([1, strides[0]], [0, pads[0], 0, pads[1]], [1, dilations[0]]);
        int Out(int size, int k, int i) => (size + pads[i] + pads[i + 2] - dilations[i] * (k - 1) - 1) / strides[i] + 1;
        return new Conv2dGeometry(dims[0], dims[1], dims[2], dims[3], outChannels, Out(dims[2], kh, 0), Out(dims[3], kw, 1),
            kh, kw, strides[0], strides[1], pads[0], pads[1], dilations[0], dilations[1], groups);
    }

    private static Tensor Transpose(NodeProto node, Tensor x)
    {
        var perm = node.Ints("perm");
        if (x.Dims.Length != 2 || (perm is { Length: > 0 } && !(perm[0] == 1 && perm[1] == 0)))
            throw new NotSupportedException("Only the 2-D transpose is handled.");
        var (rows, cols) = (x.Dims[0], x.Dims[1]);
        var y = new float[x.Size];
        for (var r = 0; r < rows; r++)
            for (var c = 0; c < cols; c++) y[c * rows + r] = x.Data[r * cols + c];
        return new Tensor([cols, rows], y);
    }

    private static Tensor Add(Tensor a, Tensor b)
    {
        var y = new float[a.Size];
        if (b.Size == a.Size) Elementwise.Add(a.Data, b.Data, y);
        else if (b.Size == a.Dims[^1]) Linear.BiasAdd(a.Data, b.Data, y, a.Size / b.Size, b.Size);
        else throw new NotSupportedException("Only same-shape and last-axis broadcast Add are handled.");
        return new Tensor(a.Dims, y);
    }

    private static Tensor Map(Tensor x, Action<float[], float[]> kernel)
    {
        var y = new float[x.Size];
        kernel(x.Data, y);
        return new Tensor(x.Dims, y);
    }

    /// <summary>Opset-6 softmax semantics: the input is flattened to 2-D at axis (default 1) and each row
    /// is normalised over everything from axis on.</summary>
    private static Tensor Rows(NodeProto node, Tensor x, Action<float[], float[], int, int> kernel)
    {
        var axis = (int)node.Int("axis", 1);
        if (axis < 0) axis += x.Dims.Length;
        var rows = x.Dims.Take(axis).Aggregate(1, (p, d) => p * d);
        var cols = x.Size / rows;
        var y = new float[x.Size];
        kernel(x.Data, y, rows, cols);
        return new Tensor(x.Dims, y);
    }
}
