// OrtBench: ONNX Runtime running the model of examples/fashion_mlp.dl (784-256-256-10, ReLU) for inference on this
// machine's CPU, for bench/compare. The model is built here as ONNX (three Gemm nodes with B transposed, as PyTorch
// exports nn.Linear, and two Relu), its weights drawn as PyTorch initialises nn.Linear from a fixed seed; the session
// runs with every graph optimisation on and N intra-op threads, so ONNX Runtime packs the weights once and fuses each
// Gemm with its Relu.
// Usage: OrtBench [--threads N] [--seconds S] [--images FILE]
// Prints `result latency MICROSECONDS` (the median batch-1 run) and `result inference SAMPLES_PER_SECOND` (batch 1000,
// the median run), each over S seconds (default 3) after 100 warm-up runs. The inputs are the first 1000 images of an IDX
// file (gzipped or not; Fashion-MNIST's test set, as dlc's bench times), pixels scaled to [0, 1], batch 1 the first of
// them; without --images, uniform noise. Exit code 2 for a bad command line, 1 for an unreadable image file.
using System.Diagnostics;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Onnx;

int threads = 2;
double seconds = 3;
string? images = null;
for (var i = 0; i < args.Length; i++)
{
    var value = i + 1 < args.Length ? args[i + 1] : null;
    switch (args[i])
    {
        case "--threads" when int.TryParse(value, out threads) && threads >= 1: i++; break;
        case "--seconds" when double.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, out seconds) && seconds > 0: i++; break;
        case "--images" when value is { Length: > 0 }: images = value; i++; break;
        default:
            Console.Error.WriteLine($"OrtBench: bad argument `{args[i]}{(value is null ? "" : " " + value)}`; usage: OrtBench [--threads N] [--seconds S] [--images FILE]");
            return 2;
    }
}

var options = new SessionOptions { IntraOpNumThreads = threads, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
using var session = new InferenceSession(Mlp.Build(seed: 42).ToByteArray(), options);
float[] pixels;
try
{
    var rng = new Random(7);
    pixels = images is null ? Enumerable.Range(0, 1000 * 784).Select(_ => (float)rng.NextDouble()).ToArray() : Idx.Images(images, 1000);
}
catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
{
    Console.Error.WriteLine($"OrtBench: {images}: {e.Message}");
    return 1;
}
foreach (var batch in new[] { 1, 1000 })
{
    var x = new DenseTensor<float>(pixels.AsMemory(0, batch * 784), [batch, 784]);
    var inputs = new[] { NamedOnnxValue.CreateFromTensor("image", x) };
    var median = Median(() => { using var outputs = session.Run(inputs); }, warmup: 100, seconds);
    Console.WriteLine(batch == 1
        ? $"result latency {median * 1e6:F2} us"
        : $"result inference {batch / median:F0} samples/s");
}
return 0;

static double Median(Action run, int warmup, double seconds)
{
    for (var i = 0; i < warmup; i++) run();
    var times = new List<double>();
    var total = Stopwatch.StartNew();
    while (total.Elapsed.TotalSeconds < seconds)
    {
        var start = Stopwatch.GetTimestamp();
        run();
        times.Add(Stopwatch.GetElapsedTime(start).TotalSeconds);
    }
    times.Sort();
    return times[times.Count / 2];
}

/// <summary>Images of 28×28 bytes from an IDX file (magic 0x803), gzipped when its name ends in .gz.</summary>
internal static class Idx
{
    public static float[] Images(string path, int count)
    {
        using var file = File.OpenRead(path);
        using Stream stream = path.EndsWith(".gz", StringComparison.Ordinal)
            ? new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionMode.Decompress)
            : file;
        var header = new byte[16];
        stream.ReadExactly(header);
        int Field(int at) => header[at] << 24 | header[at + 1] << 16 | header[at + 2] << 8 | header[at + 3];
        if (Field(0) != 0x803 || Field(8) != 28 || Field(12) != 28)
            throw new InvalidDataException("not an IDX file of 28×28 images");
        if (Field(4) < count) throw new InvalidDataException($"{Field(4)} images, fewer than {count}");
        var bytes = new byte[count * 784];
        stream.ReadExactly(bytes);
        return bytes.Select(b => b / 255f).ToArray();
    }
}

/// <summary>examples/fashion_mlp.dl as an ONNX graph (opset 13): image [N, 784] → logits [N, 10].</summary>
internal static class Mlp
{
    public static ModelProto Build(int seed)
    {
        var rng = new Random(seed);
        var graph = new GraphProto { Name = "FashionMlp" };
        graph.Input.Add(Value("image", 784));
        graph.Output.Add(Value("logits", 10));
        var (input, width) = ("image", 784);
        var layers = new[] { 256, 256, 10 };
        for (var l = 0; l < layers.Length; l++)
        {
            var outputs = layers[l];
            // nn.Linear's initialisation: weights and bias uniform in ±1/√fan_in.
            var bound = 1 / Math.Sqrt(width);
            graph.Initializer.Add(Tensor($"w{l}", [outputs, width], rng, bound));
            graph.Initializer.Add(Tensor($"b{l}", [outputs], rng, bound));
            var product = l == layers.Length - 1 ? "logits" : $"z{l}";
            var gemm = new NodeProto { Name = $"dense{l}", OpType = "Gemm", Input = { input, $"w{l}", $"b{l}" }, Output = { product } };
            gemm.Attribute.Add(new AttributeProto { Name = "transB", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
            graph.Node.Add(gemm);
            input = product;
            if (l < layers.Length - 1)
            {
                graph.Node.Add(new NodeProto { Name = $"relu{l}", OpType = "Relu", Input = { product }, Output = { $"h{l}" } });
                input = $"h{l}";
            }
            width = outputs;
        }
        var model = new ModelProto { IrVersion = 7, ProducerName = "OrtBench", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 13 });
        return model;
    }

    private static ValueInfoProto Value(string name, int width)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "N" });
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = width });
        var type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } };
        return new ValueInfoProto { Name = name, Type = type };
    }

    private static TensorProto Tensor(string name, long[] dims, Random rng, double bound)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        tensor.Dims.Add(dims);
        var count = dims.Aggregate(1L, (a, d) => a * d);
        for (var i = 0; i < count; i++) tensor.FloatData.Add((float)((rng.NextDouble() * 2 - 1) * bound));
        return tensor;
    }
}
