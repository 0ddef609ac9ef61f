using System.Numerics;

namespace Dlc.Backend.Kernels.Reference;

/// <summary>Definitions of <see cref="SoftmaxKernels"/> in plain loops, generic over T. Shape: [R, C], per row.</summary>
public static class SoftmaxReference
{
    public static void Softmax<T>(ReadOnlySpan<T> x, Span<T> y, int rows, int cols) where T : IFloatingPointIeee754<T>
    {
        Check(x.Length, y.Length, rows, cols);
        for (var r = 0; r < rows; r++)
        {
            var o = r * cols;
            var max = RowMax(x.Slice(o, cols));
            var sum = T.Zero;
            for (var j = 0; j < cols; j++) sum += T.Exp(x[o + j] - max);
            for (var j = 0; j < cols; j++) y[o + j] = T.Exp(x[o + j] - max) / sum;
        }
    }

    public static void SoftmaxBackward<T>(ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx, int rows, int cols) where T : IFloatingPointIeee754<T>
    {
        Check(y.Length, dx.Length, rows, cols);
        Shapes.Same(y.Length, dy.Length, nameof(dy));
        for (var r = 0; r < rows; r++)
        {
            var o = r * cols;
            var dot = T.Zero;
            for (var j = 0; j < cols; j++) dot += dy[o + j] * y[o + j];
            for (var j = 0; j < cols; j++) dx[o + j] = y[o + j] * (dy[o + j] - dot);
        }
    }

    public static void LogSoftmax<T>(ReadOnlySpan<T> x, Span<T> y, int rows, int cols) where T : IFloatingPointIeee754<T>
    {
        Check(x.Length, y.Length, rows, cols);
        for (var r = 0; r < rows; r++)
        {
            var o = r * cols;
            var lse = LogSumExp(x.Slice(o, cols));
            for (var j = 0; j < cols; j++) y[o + j] = x[o + j] - lse;
        }
    }

    public static void LogSoftmaxBackward<T>(ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx, int rows, int cols) where T : IFloatingPointIeee754<T>
    {
        Check(y.Length, dx.Length, rows, cols);
        Shapes.Same(y.Length, dy.Length, nameof(dy));
        for (var r = 0; r < rows; r++)
        {
            var o = r * cols;
            var sum = T.Zero;
            for (var j = 0; j < cols; j++) sum += dy[o + j];
            for (var j = 0; j < cols; j++) dx[o + j] = dy[o + j] - T.Exp(y[o + j]) * sum;
        }
    }

    /// <summary>log Σ exp(x) of one non-empty row, shifted by its max for range.</summary>
    public static T LogSumExp<T>(ReadOnlySpan<T> x) where T : IFloatingPointIeee754<T>
    {
        var max = RowMax(x);
        var sum = T.Zero;
        foreach (var v in x) sum += T.Exp(v - max);
        return max + T.Log(sum);
    }

    private static T RowMax<T>(ReadOnlySpan<T> x) where T : IFloatingPointIeee754<T>
    {
        var max = T.NegativeInfinity;
        foreach (var v in x) max = T.IsNaN(v) || v > max ? v : max;
        return max;
    }

    private static void Check(int inLength, int outLength, int rows, int cols)
    {
        var size = Shapes.Matrix(rows, cols);
        Shapes.Same(size, inLength, "x");
        Shapes.Same(size, outLength, "y");
    }
}
