using System.Numerics;

namespace Dlc.Backend.Kernels.Reference;

/// <summary>Definitions of <see cref="Losses"/> in plain loops, generic over T. Same shapes and arguments.</summary>
public static class LossesReference
{
    public static T SoftmaxCrossEntropy<T>(ReadOnlySpan<T> logits, ReadOnlySpan<T> labels, int rows, int cols, T smoothing = default!)
        where T : IFloatingPointIeee754<T>
    {
        Check(logits.Length, labels.Length, rows, cols);
        var total = T.Zero;
        for (var r = 0; r < rows; r++)
        {
            var xs = logits.Slice(r * cols, cols);
            var label = Shapes.LabelOrIgnored(double.CreateChecked(labels[r]), r, cols);
            if (label < 0) continue;
            // −Σ target·log p, with log p = x − logsumexp(x) and Σ target = 1.
            var lse = SoftmaxReference.LogSumExp(xs);
            for (var j = 0; j < cols; j++) total -= Target(j, label, cols, smoothing) * (xs[j] - lse);
        }
        return total / T.CreateChecked(Math.Max(1, Shapes.Labelled(labels)));
    }

    public static void SoftmaxCrossEntropyBackward<T>(ReadOnlySpan<T> logits, ReadOnlySpan<T> labels, T dLoss,
        Span<T> dlogits, int rows, int cols, T smoothing = default!) where T : IFloatingPointIeee754<T>
    {
        Check(logits.Length, labels.Length, rows, cols);
        Shapes.Same(logits.Length, dlogits.Length, nameof(dlogits));
        SoftmaxReference.Softmax(logits, dlogits, rows, cols);
        var scale = dLoss / T.CreateChecked(Math.Max(1, Shapes.Labelled(labels)));
        for (var r = 0; r < rows; r++)
        {
            var label = Shapes.LabelOrIgnored(double.CreateChecked(labels[r]), r, cols);
            for (var j = 0; j < cols; j++)
            {
                dlogits[r * cols + j] = label < 0 ? T.Zero : (dlogits[r * cols + j] - Target(j, label, cols, smoothing)) * scale;
            }
        }
    }

    public static T Mse<T>(ReadOnlySpan<T> pred, ReadOnlySpan<T> target) where T : IFloatingPointIeee754<T>
    {
        Shapes.Same(pred.Length, target.Length, nameof(target));
        var total = T.Zero;
        for (var i = 0; i < pred.Length; i++) total += (pred[i] - target[i]) * (pred[i] - target[i]);
        return total / T.CreateChecked(pred.Length);
    }

    public static void MseBackward<T>(ReadOnlySpan<T> pred, ReadOnlySpan<T> target, T dLoss, Span<T> dpred)
        where T : IFloatingPointIeee754<T>
    {
        Shapes.Same(pred.Length, target.Length, nameof(target));
        Shapes.Same(pred.Length, dpred.Length, nameof(dpred));
        var two = T.CreateChecked(2);
        var n = T.CreateChecked(pred.Length);
        for (var i = 0; i < pred.Length; i++) dpred[i] = two * (pred[i] - target[i]) / n * dLoss;
    }

    /// <summary>The target probability of class j: the one-hot label, smoothed by ε towards the uniform 1/C.</summary>
    private static T Target<T>(int j, int label, int cols, T smoothing) where T : IFloatingPointIeee754<T> =>
        (j == label ? T.One - smoothing : T.Zero) + smoothing / T.CreateChecked(cols);

    private static void Check(int logits, int labels, int rows, int cols)
    {
        Shapes.Same(Shapes.Matrix(rows, cols), logits, nameof(logits));
        Shapes.Same(rows, labels, nameof(labels));
    }
}
