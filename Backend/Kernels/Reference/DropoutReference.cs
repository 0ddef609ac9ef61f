using System.Numerics;

namespace Dlc.Backend.Kernels.Reference;

/// <summary>
/// Definitions of <see cref="DropoutKernels"/> given the mask (drawing it is the fast kernel's business):
/// y = x·mask and dx = dy·mask, shape [N].
/// </summary>
public static class DropoutReference
{
    public static void Dropout<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> mask, Span<T> y) where T : IFloatingPointIeee754<T>
    {
        Shapes.Same(x.Length, mask.Length, nameof(mask));
        Shapes.Same(x.Length, y.Length, nameof(y));
        for (var i = 0; i < x.Length; i++) y[i] = x[i] * mask[i];
    }

    public static void DropoutBackward<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> mask, Span<T> dx) where T : IFloatingPointIeee754<T>
    {
        Shapes.Same(dy.Length, mask.Length, nameof(mask));
        Shapes.Same(dy.Length, dx.Length, nameof(dx));
        for (var i = 0; i < dy.Length; i++) dx[i] = dy[i] * mask[i];
    }
}

/// <summary>Definitions of <see cref="Metrics"/> in plain loops, generic over T.</summary>
public static class MetricsReference
{
    public static void ArgMaxRows<T>(ReadOnlySpan<T> logits, Span<int> indices, int rows, int cols) where T : IFloatingPointIeee754<T>
    {
        Shapes.Same(Shapes.Matrix(rows, cols), logits.Length, nameof(logits));
        Shapes.Same(rows, indices.Length, nameof(indices));
        for (var r = 0; r < rows; r++) indices[r] = ArgMax(logits.Slice(r * cols, cols));
    }

    public static int CountCorrect<T>(ReadOnlySpan<T> logits, ReadOnlySpan<T> labels, int rows, int cols) where T : IFloatingPointIeee754<T>
    {
        Shapes.Same(Shapes.Matrix(rows, cols), logits.Length, nameof(logits));
        Shapes.Same(rows, labels.Length, nameof(labels));
        var correct = 0;
        for (var r = 0; r < rows; r++)
            if (ArgMax(logits.Slice(r * cols, cols)) == Shapes.LabelOrIgnored(double.CreateChecked(labels[r]), r, cols)) correct++;
        return correct;
    }

    /// <summary>First index of the maximum; the first NaN, if any, counts as the maximum (torch.argmax).</summary>
    private static int ArgMax<T>(ReadOnlySpan<T> row) where T : IFloatingPointIeee754<T>
    {
        if (row.IsEmpty) return -1;
        for (var j = 0; j < row.Length; j++)
            if (T.IsNaN(row[j])) return j;
        var best = 0;
        for (var j = 1; j < row.Length; j++)
            if (row[j] > row[best]) best = j;
        return best;
    }
}
