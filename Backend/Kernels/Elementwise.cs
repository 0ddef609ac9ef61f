using System.Numerics.Tensors;

namespace Dlc.Backend.Kernels;

/// <summary>
/// Element-wise arithmetic on equal-length spans ([N]; no broadcasting). The output may be one of the
/// inputs itself, but must not partly overlap one.
/// </summary>
public static class Elementwise
{
    public static void Add(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y)
    {
        Check(a, b, y);
        TensorPrimitives.Add(a, b, y);
    }

    public static void Subtract(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y)
    {
        Check(a, b, y);
        TensorPrimitives.Subtract(a, b, y);
    }

    public static void Multiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y)
    {
        Check(a, b, y);
        TensorPrimitives.Multiply(a, b, y);
    }

    public static void Divide(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y)
    {
        Check(a, b, y);
        TensorPrimitives.Divide(a, b, y);
    }

    /// <summary>y = alpha·x.</summary>
    public static void Scale(ReadOnlySpan<float> x, float alpha, Span<float> y)
    {
        Shapes.Same(x.Length, y.Length, nameof(y));
        TensorPrimitives.Multiply(x, alpha, y);
    }

    /// <summary>y += x.</summary>
    public static void AddInPlace(Span<float> y, ReadOnlySpan<float> x)
    {
        Shapes.Same(y.Length, x.Length, nameof(x));
        TensorPrimitives.Add(y, x, y);
    }

    private static void Check(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y)
    {
        Shapes.Same(a.Length, b.Length, nameof(b));
        Shapes.Same(a.Length, y.Length, nameof(y));
    }
}
