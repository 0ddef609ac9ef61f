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
    public static readonly string[] Supported = ["Gemm", "MatMul", "Transpose", "Add", "Relu", "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "Conv", "MaxPool"];

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
        var g = Window(node, x, w.Dims[0], w.Dims[2], w.Dims[3], (int)node.Int("group", 1));
        var y = new float[g.OutputSize];
        var (samples, columns, rowLength) = Conv2dScratch.Lengths(g);
        var (col, rows) = (new float[columns], new float[rowLength]);
        var bias = inputs.Length > 2 ? inputs[2].Data : null;
        fixed (float* px = x.Data, pw = w.Data, pb = bias, py = y, pcol = col, prows = rows)
            Convolution.Conv2d(px, pw, pb, py, new Conv2dScratch(pcol, prows, samples), g, gemm);
        return new Tensor([g.Batch, g.OutChannels, g.OutHeight, g.OutWidth], y);
    }

    private static Tensor MaxPool(NodeProto node, Tensor x)
    {
        var kernel = node.Ints("kernel_shape")!;
        var g = Window(node, x, x.Dims[1], (int)kernel[0], (int)kernel[1], x.Dims[1]);
        var y = new float[g.OutputSize];
        Pooling.MaxPool2d(x.Data, y, g);
        return new Tensor([g.Batch, g.OutChannels, g.OutHeight, g.OutWidth], y);
    }

    private static Conv2dGeometry Window(NodeProto node, Tensor x, int outChannels, int kh, int kw, int groups)
    {
        if (x.Dims.Length != 4) throw new NotSupportedException("Only 2-D windows over NCHW are handled.");
        if (node.Attribute.Any(a => a.Name is "auto_pad" or "ceil_mode" && (a.I != 0 || a.S.Length > 0 && a.S.ToStringUtf8() != "NOTSET")))
            throw new NotSupportedException("auto_pad and ceil_mode are not handled.");
        int[] Ints(string name, int fill, int count) => node.Ints(name)?.Select(v => (int)v).ToArray() ?? Enumerable.Repeat(fill, count).ToArray();
        var (strides, pads, dilations) = (Ints("strides", 1, 2), Ints("pads", 0, 4), Ints("dilations", 1, 2));
        int Out(int size, int k, int i) => (size + pads[i] + pads[i + 2] - dilations[i] * (k - 1) - 1) / strides[i] + 1;
        return new Conv2dGeometry(x.Dims[0], x.Dims[1], x.Dims[2], x.Dims[3], outChannels, Out(x.Dims[2], kh, 0), Out(x.Dims[3], kw, 1),
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
