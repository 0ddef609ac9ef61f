using System.Numerics.Tensors;

namespace Dlc.Backend.Kernels;

/// <summary>
/// Losses with mean reduction, matching torch.nn.CrossEntropyLoss and torch.nn.MSELoss. Shapes: logits and
/// dlogits [R, C]; labels [R], class indices stored as floats; pred, target, dpred [N]. Backward kernels
/// overwrite their output with dLoss times the gradient of the mean.
/// </summary>
public static class Losses
{
    private const int Chunk = 256;

    /// <summary>Mean over rows of −log softmax(logits)[label] (summed in double).</summary>
    public static float SoftmaxCrossEntropy(ReadOnlySpan<float> logits, ReadOnlySpan<float> labels, int rows, int cols)
    {
        CheckLogits(logits.Length, labels.Length, rows, cols);
        var total = 0.0;
        for (var r = 0; r < rows; r++)
        {
            var xs = logits.Slice(r * cols, cols);
            var label = Shapes.Label(labels[r], r, cols);
            total += SoftmaxKernels.LogSumExp(xs) - xs[label];
        }
        return (float)(total / rows);
    }

    /// <summary>dlogits = (softmax(logits) − onehot(label))·dLoss/R.</summary>
    public static void SoftmaxCrossEntropyBackward(ReadOnlySpan<float> logits, ReadOnlySpan<float> labels, float dLoss,
        Span<float> dlogits, int rows, int cols)
    {
        CheckLogits(logits.Length, labels.Length, rows, cols);
        Shapes.Same(logits.Length, dlogits.Length, nameof(dlogits));
        var scale = dLoss / rows;
        for (var r = 0; r < rows; r++)
        {
            var label = Shapes.Label(labels[r], r, cols);
            var ds = dlogits.Slice(r * cols, cols);
            SoftmaxKernels.Row(logits.Slice(r * cols, cols), ds);
            TensorPrimitives.Multiply(ds, scale, ds);
            ds[label] -= scale;
        }
    }

    /// <summary>Mean of (pred − target)²; chunks are summed in double so long inputs keep their precision.</summary>
    public static float Mse(ReadOnlySpan<float> pred, ReadOnlySpan<float> target)
    {
        Shapes.Same(pred.Length, target.Length, nameof(target));
        Span<float> d = stackalloc float[Chunk];
        var total = 0.0;
        for (var start = 0; start < pred.Length; start += Chunk)
        {
            var n = Math.Min(Chunk, pred.Length - start);
            TensorPrimitives.Subtract(pred.Slice(start, n), target.Slice(start, n), d[..n]);
            total += TensorPrimitives.SumOfSquares<float>(d[..n]);
        }
        return (float)(total / pred.Length);
    }

    /// <summary>dpred = 2·(pred − target)/N·dLoss.</summary>
    public static void MseBackward(ReadOnlySpan<float> pred, ReadOnlySpan<float> target, float dLoss, Span<float> dpred)
    {
        Shapes.Same(pred.Length, target.Length, nameof(target));
        Shapes.Same(pred.Length, dpred.Length, nameof(dpred));
        TensorPrimitives.Subtract(pred, target, dpred);
        TensorPrimitives.Multiply(dpred, (float)(2.0 / pred.Length) * dLoss, dpred);
    }

    private static void CheckLogits(int logits, int labels, int rows, int cols)
    {
        Shapes.Same(Shapes.Matrix(rows, cols), logits, nameof(logits));
        Shapes.Same(rows, labels, nameof(labels));
    }
}
