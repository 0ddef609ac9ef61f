using System.Numerics.Tensors;

namespace Dlc.Backend.Kernels;

/// <summary>
/// The bias half of a linear layer (the product itself is an IGemm call). Shapes: x, y, dy [R, C];
/// bias, dbias [C], one value per column.
/// </summary>
public static class Linear
{
    /// <summary>y[r, c] = x[r, c] + bias[c]; y may be x itself.</summary>
    public static void BiasAdd(ReadOnlySpan<float> x, ReadOnlySpan<float> bias, Span<float> y, int rows, int cols)
    {
        var size = Shapes.Matrix(rows, cols);
        Shapes.Same(size, x.Length, nameof(x));
        Shapes.Same(cols, bias.Length, nameof(bias));
        Shapes.Same(size, y.Length, nameof(y));
        for (var r = 0; r < rows; r++) TensorPrimitives.Add(x.Slice(r * cols, cols), bias, y.Slice(r * cols, cols));
    }

    /// <summary>dbias[c] = Σ_r dy[r, c] (overwritten, not accumulated).</summary>
    public static void BiasBackward(ReadOnlySpan<float> dy, Span<float> dbias, int rows, int cols)
    {
        Shapes.Same(Shapes.Matrix(rows, cols), dy.Length, nameof(dy));
        Shapes.Same(cols, dbias.Length, nameof(dbias));
        dbias.Clear();
        for (var r = 0; r < rows; r++) TensorPrimitives.Add(dbias, dy.Slice(r * cols, cols), dbias);
    }
}
