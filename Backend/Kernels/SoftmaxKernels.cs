using System.Numerics.Tensors;

namespace Dlc.Backend.Kernels;

/// <summary>
/// Softmax and log-softmax over the last axis. Shape: x, y, dy, dx are [R, C] row-major (rows R, cols C);
/// each row is normalised on its own. Forward kernels allow y to be x; backward kernels overwrite dx and
/// allow dx to be dy (not y).
/// </summary>
public static class SoftmaxKernels
{
    private const int Chunk = 256;

    /// <summary>y = exp(x − max) / Σ exp(x − max) per row.</summary>
    public static void Softmax(ReadOnlySpan<float> x, Span<float> y, int rows, int cols)
    {
        var size = Shapes.Matrix(rows, cols);
        Shapes.Same(size, x.Length, nameof(x));
        Shapes.Same(size, y.Length, nameof(y));
        if (cols == 0) return;
        for (var r = 0; r < rows; r++) Row(x.Slice(r * cols, cols), y.Slice(r * cols, cols));
    }

    /// <summary>dx = y·(dy − Σ dy·y) per row.</summary>
    public static void SoftmaxBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx, int rows, int cols)
    {
        var size = Shapes.Matrix(rows, cols);
        Shapes.Same(size, y.Length, nameof(y));
        Shapes.Same(size, dy.Length, nameof(dy));
        Shapes.Same(size, dx.Length, nameof(dx));
        for (var r = 0; r < rows; r++)
        {
            var ys = y.Slice(r * cols, cols);
            var dxs = dx.Slice(r * cols, cols);
            var dot = TensorPrimitives.Dot(dy.Slice(r * cols, cols), ys);
            TensorPrimitives.Subtract(dy.Slice(r * cols, cols), dot, dxs);
            TensorPrimitives.Multiply(dxs, ys, dxs);
        }
    }

    /// <summary>y = x − (max + log Σ exp(x − max)) per row.</summary>
    public static void LogSoftmax(ReadOnlySpan<float> x, Span<float> y, int rows, int cols)
    {
        var size = Shapes.Matrix(rows, cols);
        Shapes.Same(size, x.Length, nameof(x));
        Shapes.Same(size, y.Length, nameof(y));
        if (cols == 0) return;
        for (var r = 0; r < rows; r++)
        {
            var xs = x.Slice(r * cols, cols);
            var shift = LogSumExp(xs);
            TensorPrimitives.Subtract(xs, shift, y.Slice(r * cols, cols));
        }
    }

    /// <summary>dx = dy − exp(y)·Σ dy per row, from the forward output y.</summary>
    public static void LogSoftmaxBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx, int rows, int cols)
    {
        var size = Shapes.Matrix(rows, cols);
        Shapes.Same(size, y.Length, nameof(y));
        Shapes.Same(size, dy.Length, nameof(dy));
        Shapes.Same(size, dx.Length, nameof(dx));
        Span<float> e = stackalloc float[Chunk];
        for (var r = 0; r < rows; r++)
        {
            var ys = y.Slice(r * cols, cols);
            var dys = dy.Slice(r * cols, cols);
            var dxs = dx.Slice(r * cols, cols);
            var sum = TensorPrimitives.Sum(dys);
            for (var start = 0; start < cols; start += Chunk)
            {
                var n = Math.Min(Chunk, cols - start);
                VectorMath.Exp(ys.Slice(start, n), e[..n]);
                TensorPrimitives.MultiplyAdd(e[..n], -sum, dys.Slice(start, n), dxs.Slice(start, n));
            }
        }
    }

    /// <summary>Softmax of one row.</summary>
    internal static void Row(ReadOnlySpan<float> x, Span<float> y)
    {
        var max = TensorPrimitives.Max(x);
        TensorPrimitives.Subtract(x, max, y);
        VectorMath.Exp(y, y);
        var sum = TensorPrimitives.Sum(y);
        TensorPrimitives.Multiply(y, 1f / sum, y);
    }

    /// <summary>max + log Σ exp(x − max) of one non-empty row, without touching x.</summary>
    internal static float LogSumExp(ReadOnlySpan<float> x)
    {
        Span<float> e = stackalloc float[Chunk];
        var max = TensorPrimitives.Max(x);
        var sum = 0f;
        for (var start = 0; start < x.Length; start += Chunk)
        {
            var n = Math.Min(Chunk, x.Length - start);
            TensorPrimitives.Subtract(x.Slice(start, n), max, e[..n]);
            VectorMath.Exp(e[..n], e[..n]);
            sum += TensorPrimitives.Sum(e[..n]);
        }
        return max + MathF.Log(sum);
    }
}
