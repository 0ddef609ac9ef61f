using System.Numerics;

namespace Dlc.Backend.Kernels.Reference;

/// <summary>Definitions of <see cref="Linear"/> and <see cref="Elementwise"/> in plain loops, generic over T.</summary>
public static class LinearReference
{
    public static void BiasAdd<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> bias, Span<T> y, int rows, int cols)
        where T : IFloatingPointIeee754<T>
    {
        var size = Shapes.Matrix(rows, cols);
        Shapes.Same(size, x.Length, nameof(x));
        Shapes.Same(cols, bias.Length, nameof(bias));
        Shapes.Same(size, y.Length, nameof(y));
        for (var r = 0; r < rows; r++)
            for (var c = 0; c < cols; c++) y[r * cols + c] = x[r * cols + c] + bias[c];
    }

    public static void BiasBackward<T>(ReadOnlySpan<T> dy, Span<T> dbias, int rows, int cols) where T : IFloatingPointIeee754<T>
    {
        Shapes.Same(Shapes.Matrix(rows, cols), dy.Length, nameof(dy));
        Shapes.Same(cols, dbias.Length, nameof(dbias));
        for (var c = 0; c < cols; c++)
        {
            var sum = T.Zero;
            for (var r = 0; r < rows; r++) sum += dy[r * cols + c];
            dbias[c] = sum;
        }
    }
}

/// <summary>Definitions of <see cref="Elementwise"/> in plain loops, generic over T.</summary>
public static class ElementwiseReference
{
    public static void Add<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) where T : IFloatingPointIeee754<T>
    {
        Check(a.Length, b.Length, y.Length);
        for (var i = 0; i < a.Length; i++) y[i] = a[i] + b[i];
    }

    public static void Subtract<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) where T : IFloatingPointIeee754<T>
    {
        Check(a.Length, b.Length, y.Length);
        for (var i = 0; i < a.Length; i++) y[i] = a[i] - b[i];
    }

    public static void Multiply<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) where T : IFloatingPointIeee754<T>
    {
        Check(a.Length, b.Length, y.Length);
        for (var i = 0; i < a.Length; i++) y[i] = a[i] * b[i];
    }

    public static void Divide<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) where T : IFloatingPointIeee754<T>
    {
        Check(a.Length, b.Length, y.Length);
        for (var i = 0; i < a.Length; i++) y[i] = a[i] / b[i];
    }

    public static void Scale<T>(ReadOnlySpan<T> x, T alpha, Span<T> y) where T : IFloatingPointIeee754<T>
    {
        Shapes.Same(x.Length, y.Length, nameof(y));
        for (var i = 0; i < x.Length; i++) y[i] = alpha * x[i];
    }

    public static void AddInPlace<T>(Span<T> y, ReadOnlySpan<T> x) where T : IFloatingPointIeee754<T>
    {
        Shapes.Same(y.Length, x.Length, nameof(x));
        for (var i = 0; i < y.Length; i++) y[i] += x[i];
    }

    private static void Check(int a, int b, int y)
    {
        Shapes.Same(a, b, nameof(b));
        Shapes.Same(a, y, nameof(y));
    }
}
