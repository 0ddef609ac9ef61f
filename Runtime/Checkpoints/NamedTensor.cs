namespace Dlc.Runtime.Checkpoints;

/// <summary>A float tensor with a name, as stored in a checkpoint: row-major data of product(Shape) values.</summary>
public sealed record NamedTensor(string Name, int[] Shape, ReadOnlyMemory<float> Data)
{
    /// <summary>The number of elements the shape implies (1 for a scalar, shape []).</summary>
    public long ElementCount => Shape.Aggregate(1L, (n, d) => n * d);

    public string ShapeText => FormatShape(Shape);

    public static string FormatShape(IReadOnlyList<int> shape) => $"[{string.Join(", ", shape)}]";
}
