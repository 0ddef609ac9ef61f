namespace Dlc.Backend.Kernels;

/// <summary>
/// Classification metrics. Shapes: logits [R, C]; labels [R] as floats; indices [R]. Argmax follows
/// torch.argmax: the first maximum wins and NaN counts as the maximum. The rows are short (C classes),
/// so a scalar scan is as fast as anything vectorised and keeps those rules exact.
/// </summary>
public static class Metrics
{
    public static void ArgMaxRows(ReadOnlySpan<float> logits, Span<int> indices, int rows, int cols)
    {
        Shapes.Same(Shapes.Matrix(rows, cols), logits.Length, nameof(logits));
        Shapes.Same(rows, indices.Length, nameof(indices));
        for (var r = 0; r < rows; r++) indices[r] = ArgMax(logits.Slice(r * cols, cols));
    }

    /// <summary>Rows that are scored: those whose label is not <see cref="Losses.IgnoreLabel"/> (padding).</summary>
    public static int CountLabelled(ReadOnlySpan<float> labels) => Shapes.Labelled(labels);

    /// <summary>Rows whose argmax equals the label (an ignored row never counts).</summary>
    public static int CountCorrect(ReadOnlySpan<float> logits, ReadOnlySpan<float> labels, int rows, int cols)
    {
        Shapes.Same(Shapes.Matrix(rows, cols), logits.Length, nameof(logits));
        Shapes.Same(rows, labels.Length, nameof(labels));
        var correct = 0;
        for (var r = 0; r < rows; r++)
        {
            var label = Shapes.LabelOrIgnored(labels[r], r, cols);
            if (label >= 0 && ArgMax(logits.Slice(r * cols, cols)) == label) correct++;
        }
        return correct;
    }

    /// <summary>
    /// Adds each row to <paramref name="confusion"/> [cols, cols]: the cell of its label (row) and its highest score (column).
    /// </summary>
    public static void CountConfusion(ReadOnlySpan<float> logits, ReadOnlySpan<float> labels, int rows, int cols, Span<long> confusion)
    {
        Shapes.Same(Shapes.Matrix(rows, cols), logits.Length, nameof(logits));
        Shapes.Same(rows, labels.Length, nameof(labels));
        Shapes.Same(Shapes.Matrix(cols, cols), confusion.Length, nameof(confusion));
        for (var r = 0; r < rows; r++)
        {
            // A row labelled as padding is not scored.
            var label = Shapes.LabelOrIgnored(labels[r], r, cols);
            if (label >= 0) confusion[label * cols + ArgMax(logits.Slice(r * cols, cols))]++;
        }
    }

    /// <summary>
    /// Rows whose label is among the <paramref name="k"/> highest scores: fewer than k scores are strictly
    /// higher than the label's (a NaN score never counts as right).
    /// </summary>
    public static int CountTopK(ReadOnlySpan<float> logits, ReadOnlySpan<float> labels, int rows, int cols, int k)
    {
        Shapes.Same(Shapes.Matrix(rows, cols), logits.Length, nameof(logits));
        Shapes.Same(rows, labels.Length, nameof(labels));
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        var correct = 0;
        for (var r = 0; r < rows; r++)
        {
            var row = logits.Slice(r * cols, cols);
            var label = Shapes.LabelOrIgnored(labels[r], r, cols);
            if (label < 0) continue;
            var score = row[label];
            if (float.IsNaN(score)) continue;
            var higher = 0;
            foreach (var s in row)
            {
                if (s > score || float.IsNaN(s)) higher++;
            }
            if (higher < k) correct++;
        }
        return correct;
    }

    private static int ArgMax(ReadOnlySpan<float> row)
    {
        if (row.IsEmpty) return -1;
        var best = 0;
        var max = row[0];
        for (var j = 1; j < row.Length && !float.IsNaN(max); j++)
        {
            if (row[j] > max || float.IsNaN(row[j]))
            {
                best = j;
                max = row[j];
            }
        }
        return best;
    }
}
