using Onnx;

namespace Dlc.Backend.Tests.Conformance;

/// <summary>A float tensor read from an ONNX TensorProto: its dims and its values, row-major.</summary>
internal sealed record Tensor(int[] Dims, float[] Data)
{
    public int Size => Dims.Aggregate(1, (a, b) => a * b);

    public static Tensor From(TensorProto proto)
    {
        var dims = proto.Dims.Select(d => checked((int)d)).ToArray();
        float[] data;
        if (proto.DataType == (int)TensorProto.Types.DataType.Int64)
        {
            // Indices (an embedding's input): whole numbers, which dlc keeps as floats.
            var longs = proto.RawData.IsEmpty ? proto.Int64Data.ToArray()
                : System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(proto.RawData.Span).ToArray();
            data = longs.Select(v => (float)v).ToArray();
        }
        else if (proto.DataType != (int)TensorProto.Types.DataType.Float)
        {
            throw new NotSupportedException($"Tensor {proto.Name} has data type {proto.DataType}; only float and int64 are handled.");
        }
        else if (!proto.RawData.IsEmpty)
        {
            // RawData is little-endian IEEE floats, which is what this (x64) machine reads natively.
            data = new float[proto.RawData.Length / sizeof(float)];
            System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(proto.RawData.Span).CopyTo(data);
        }
        else
        {
            data = proto.FloatData.ToArray();
        }
        var tensor = new Tensor(dims, data);
        if (tensor.Size != data.Length) throw new InvalidDataException($"Tensor {proto.Name}: dims say {tensor.Size} values, data has {data.Length}.");
        return tensor;
    }
}

/// <summary>One case of ONNX's backend test data: the model, its input and PyTorch's output.</summary>
internal sealed class OnnxCase
{
    public required string Name { get; init; }
    public required ModelProto Model { get; init; }
    public required Tensor Input { get; init; }
    public required Tensor Output { get; init; }

    /// <summary>The folder tests/conformance/onnx/pytorch-converted, found by walking up to dlc.sln.</summary>
    public static string Root()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "dlc.sln")))
                return Path.Combine(dir.FullName, "tests", "conformance", "onnx", "pytorch-converted");
        }
        throw new DirectoryNotFoundException($"No dlc.sln above {AppContext.BaseDirectory}.");
    }

    public static OnnxCase Load(string name)
    {
        var folder = Path.Combine(Root(), name);
        var data = Path.Combine(folder, "test_data_set_0");
        return new OnnxCase
        {
            Name = name,
            Model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(folder, "model.onnx"))),
            Input = Tensor.From(TensorProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(data, "input_0.pb")))),
            Output = Tensor.From(TensorProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(data, "output_0.pb")))),
        };
    }
}

internal static class AttributeExtensions
{
    public static long Int(this NodeProto node, string name, long fallback) =>
        node.Attribute.FirstOrDefault(a => a.Name == name)?.I ?? fallback;

    public static float Float(this NodeProto node, string name, float fallback) =>
        node.Attribute.FirstOrDefault(a => a.Name == name)?.F ?? fallback;

    public static long[]? Ints(this NodeProto node, string name) =>
        node.Attribute.FirstOrDefault(a => a.Name == name)?.Ints.ToArray();
}
