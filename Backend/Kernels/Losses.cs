using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace Dlc.Backend.Kernels;

/// <summary>
/// Losses with mean reduction, matching torch.nn.CrossEntropyLoss and torch.nn.MSELoss. Shapes: logits and
/// dlogits [R, C]; labels [R], class indices stored as floats; pred, target, dpred [N]. Backward kernels
/// overwrite their output with dLoss times the gradient of the mean. A row labelled <see cref="IgnoreLabel"/>
/// (a padding position of a sequence) is not scored: cross-entropy is the mean over the other rows, and the
/// ignored rows' gradient is zero, as CrossEntropyLoss(ignore_index) does. A label smoothing ε (CrossEntropyLoss's
/// label_smoothing) scores against the target 1 − ε on the label plus ε/C on every class.
/// </summary>
public static class Losses
{
    /// <summary>The label of a row that cross-entropy and accuracy skip (PyTorch's ignore_index).</summary>
    public const float IgnoreLabel = -1f;

    private const int Chunk = 256;

    // Floats of logits handled per exp call: 8 KB of scratch on the stack when only the loss is wanted.
    private const int BlockElements = 2048;

    // Rows shorter than this (class counts like 10) run plain loops: TensorPrimitives' per-call setup would cost
    // more than the few elements.
    private const int ShortRow = 32;

    /// <summary>
    /// Mean over the labelled rows of −log softmax(logits)[label] (summed in double), or with label smoothing ε of
    /// −(1 − ε)·log p[label] − ε·mean over classes of log p; 0 when no row is labelled.
    /// </summary>
    public static float SoftmaxCrossEntropy(ReadOnlySpan<float> logits, ReadOnlySpan<float> labels, int rows, int cols, float smoothing = 0)
    {
        CheckLogits(logits.Length, labels.Length, rows, cols);
        var labelled = Math.Max(1, Shapes.Labelled(labels));
        if (cols > BlockElements)
        {
            // Rows too long for the stack scratch: one row at a time, exp in chunks.
            var sum = 0.0;
            for (var r = 0; r < rows; r++)
            {
                var xs = logits.Slice(r * cols, cols);
                var label = Shapes.LabelOrIgnored(labels[r], r, cols);
                if (label >= 0) sum += SoftmaxKernels.LogSumExp(xs) - TargetDot(xs, label, smoothing);
            }
            return (float)(sum / labelled);
        }
        Span<float> scratch = stackalloc float[BlockElements];
        return (float)(CrossEntropy(logits, labels, 0f, smoothing, scratch, rows, cols, gradient: false) / labelled);
    }

    /// <summary>
    /// dlogits = (softmax(logits) − target)·dLoss/R, target the one-hot label (smoothed by ε), R the labelled rows
    /// (0 in an ignored row); dlogits may be logits itself.
    /// </summary>
    public static void SoftmaxCrossEntropyBackward(ReadOnlySpan<float> logits, ReadOnlySpan<float> labels, float dLoss,
        Span<float> dlogits, int rows, int cols, float smoothing = 0) =>
        SoftmaxCrossEntropyWithGradient(logits, labels, dLoss, dlogits, rows, cols, smoothing);

    /// <summary>
    /// The loss of <see cref="SoftmaxCrossEntropy"/> and the gradient of <see cref="SoftmaxCrossEntropyBackward"/>
    /// (dLoss = dLossScale) from one pass over the logits; dlogits may be logits itself.
    /// </summary>
    public static float SoftmaxCrossEntropyWithGradient(ReadOnlySpan<float> logits, ReadOnlySpan<float> labels,
        float dLossScale, Span<float> dlogits, int rows, int cols, float smoothing = 0)
    {
        CheckLogits(logits.Length, labels.Length, rows, cols);
        Shapes.Same(logits.Length, dlogits.Length, nameof(dlogits));
        var labelled = Math.Max(1, Shapes.Labelled(labels));
        return (float)(CrossEntropy(logits, labels, dLossScale / labelled, smoothing, dlogits, rows, cols, gradient: true) / labelled);
    }

    /// <summary>
    /// Rows [start, end) of <see cref="SoftmaxCrossEntropyWithGradient"/>: their gradient, scaled by
    /// <paramref name="scale"/> (dLoss over the labelled rows of the whole batch), and their loss summed in double
    /// but not yet divided, so a plan can split a batch's rows over threads and add the parts' sums.
    /// </summary>
    internal static double SoftmaxCrossEntropyRows(ReadOnlySpan<float> logits, ReadOnlySpan<float> labels, float scale, Span<float> dlogits,
        int start, int end, int cols, float smoothing)
    {
        var (from, count) = (start * cols, (end - start) * cols);
        return CrossEntropy(logits.Slice(from, count), labels[start..end], scale, smoothing, dlogits.Slice(from, count), end - start, cols,
            gradient: true, firstRow: start);
    }

    /// <summary>
    /// Σ over rows of max + log Σ exp(x − max) − x[label], in double. Works through blocks of whole rows: x − max
    /// into d, one exp call over the block (one MKL call rather than one per short row), then per row the sum,
    /// its log and, for the gradient, d·scale/sum − scale·target. Without gradient, d is block-sized scratch.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double CrossEntropy(ReadOnlySpan<float> logits, ReadOnlySpan<float> labels, float scale, float smoothing, Span<float> d,
        int rows, int cols, bool gradient, int firstRow = 0)
    {
        var blockRows = Math.Clamp(BlockElements / Math.Max(1, cols), 1, BlockElements);
        Span<int> label = stackalloc int[Math.Min(blockRows, Math.Max(1, rows))];
        var total = 0.0;
        for (var r0 = 0; r0 < rows; r0 += blockRows)
        {
            var n = Math.Min(blockRows, rows - r0);
            var block = d.Slice(gradient ? r0 * cols : 0, n * cols);
            for (var r = 0; r < n; r++)
            {
                var xs = logits.Slice((r0 + r) * cols, cols);
                label[r] = Shapes.LabelOrIgnored(labels[r0 + r], firstRow + r0 + r, cols);
                var max = cols < ShortRow ? MaxOf(xs) : TensorPrimitives.Max(xs);
                // Read before d overwrites x (they may be the same memory); the difference is exact in double.
                if (label[r] >= 0) total += max - TargetDot(xs, label[r], smoothing);
                var ds = block.Slice(r * cols, cols);
                if (cols < ShortRow)
                {
                    for (var j = 0; j < xs.Length; j++) ds[j] = xs[j] - max;
                }
                else
                {
                    TensorPrimitives.Subtract(xs, max, ds);
                }
            }
            VectorMath.Exp(block, block);
            for (var r = 0; r < n; r++)
            {
                var e = block.Slice(r * cols, cols);
                if (label[r] < 0)
                {
                    // An ignored row adds nothing to the loss and gets no gradient.
                    if (gradient) e.Clear();
                    continue;
                }
                var sum = 0f;
                if (cols < ShortRow)
                {
                    for (var j = 0; j < e.Length; j++) sum += e[j];
                }
                else
                {
                    sum = TensorPrimitives.Sum(e);
                }
                total += Math.Log(sum);
                if (!gradient) continue;
                var factor = scale / sum;
                if (cols < ShortRow)
                {
                    for (var j = 0; j < e.Length; j++) e[j] *= factor;
                }
                else
                {
                    TensorPrimitives.Multiply(e, factor, e);
                }
                if (smoothing == 0)
                {
                    e[label[r]] -= scale;
                    continue;
                }
                var spread = scale * smoothing / cols;
                if (cols < ShortRow)
                {
                    for (var j = 0; j < e.Length; j++) e[j] -= spread;
                }
                else
                {
                    TensorPrimitives.Subtract(e, spread, e);
                }
                e[label[r]] -= scale * (1 - smoothing);
            }
        }
        return total;
    }

    /// <summary>Σ target·x for a labelled row, in double: x[label], or (1 − ε)·x[label] + ε·mean(x) with smoothing ε.</summary>
    private static double TargetDot(ReadOnlySpan<float> xs, int label, float smoothing)
    {
        if (smoothing == 0) return xs[label];
        var sum = 0.0;
        foreach (var x in xs) sum += x;
        return (1.0 - smoothing) * xs[label] + smoothing * sum / xs.Length;
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

    /// <summary>The block <see cref="Mse"/> sums in: each block's float sum of squares is added to a double total in order.</summary>
    public const int MseChunk = Chunk;

    /// <summary>
    /// The loss and gradient of the mean squared error over chunks c0 … c1 − 1 (of <see cref="MseChunk"/> floats) in one
    /// pass: dpred = (pred − target)·<paramref name="scale"/> (2/N·dLoss) and chunkSums[c] = Σ (pred − target)² over
    /// chunk c, so the chunks in order give <see cref="Mse"/>'s total and the gradient is <see cref="MseBackward"/>'s.
    /// </summary>
    public static void MseWithGradient(ReadOnlySpan<float> pred, ReadOnlySpan<float> target, float scale, Span<float> dpred,
        Span<double> chunkSums, int c0, int c1)
    {
        Shapes.Same(pred.Length, target.Length, nameof(target));
        Shapes.Same(pred.Length, dpred.Length, nameof(dpred));
        for (var c = c0; c < c1; c++)
        {
            var start = c * Chunk;
            var n = Math.Min(Chunk, pred.Length - start);
            var d = dpred.Slice(start, n);
            TensorPrimitives.Subtract(pred.Slice(start, n), target.Slice(start, n), d);
            chunkSums[c] = TensorPrimitives.SumOfSquares<float>(d);
            TensorPrimitives.Multiply(d, scale, d);
        }
    }

    /// <summary>dpred = 2·(pred − target)/N·dLoss.</summary>
    public static void MseBackward(ReadOnlySpan<float> pred, ReadOnlySpan<float> target, float dLoss, Span<float> dpred)
    {
        Shapes.Same(pred.Length, target.Length, nameof(target));
        Shapes.Same(pred.Length, dpred.Length, nameof(dpred));
        TensorPrimitives.Subtract(pred, target, dpred);
        TensorPrimitives.Multiply(dpred, (float)(2.0 / pred.Length) * dLoss, dpred);
    }

    /// <summary>torch.max of a row: NaN wins (the exp of the shifted row is then NaN throughout, as in torch).</summary>
    private static float MaxOf(ReadOnlySpan<float> xs)
    {
        // MathF.Max propagates NaN and has no data-dependent branch to mispredict.
        var max = xs[0];
        for (var j = 1; j < xs.Length; j++) max = MathF.Max(max, xs[j]);
        return max;
    }

    private static void CheckLogits(int logits, int labels, int rows, int cols)
    {
        Shapes.Same(Shapes.Matrix(rows, cols), logits, nameof(logits));
        Shapes.Same(rows, labels, nameof(labels));
    }
}
