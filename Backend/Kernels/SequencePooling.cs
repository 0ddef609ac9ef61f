using System.Numerics.Tensors;

namespace Dlc.Backend.Kernels;

/// <summary>
/// The mean over the time axis of batch-first sequences: x [N, T, D] → y [N, D]. With lengths [N] (a padded batch,
/// whole numbers stored as floats) each sample's mean is over its own first lengths[n] steps, as Keras's
/// GlobalAveragePooling1D under a mask; a sample of padding only gives zeros.
/// </summary>
public static class SequencePooling
{
    /// <summary>y[n] = Σ_{t &lt; L} x[n, t] / L, L = lengths[n] (or T without lengths).</summary>
    public static void Mean(ReadOnlySpan<float> x, ReadOnlySpan<float> lengths, Span<float> y, int batch, int steps, int features)
    {
        Check(x.Length, y.Length, lengths, batch, steps, features);
        for (var n = 0; n < batch; n++)
        {
            var length = Length(lengths, n, steps);
            var row = y.Slice(n * features, features);
            row.Clear();
            for (var t = 0; t < length; t++) TensorPrimitives.Add(row, x.Slice((n * steps + t) * features, features), row);
            if (length > 0) TensorPrimitives.Multiply(row, 1f / length, row);
        }
    }

    /// <summary>dx[n, t] = dy[n] / L for t &lt; L, else 0 (dx overwritten).</summary>
    public static void MeanBackward(ReadOnlySpan<float> dy, ReadOnlySpan<float> lengths, Span<float> dx, int batch, int steps, int features)
    {
        Check(dx.Length, dy.Length, lengths, batch, steps, features);
        for (var n = 0; n < batch; n++)
        {
            var length = Length(lengths, n, steps);
            var source = dy.Slice(n * features, features);
            for (var t = 0; t < steps; t++)
            {
                var target = dx.Slice((n * steps + t) * features, features);
                if (t < length) TensorPrimitives.Multiply(source, 1f / length, target);
                else target.Clear();
            }
        }
    }

    private static int Length(ReadOnlySpan<float> lengths, int n, int steps) =>
        lengths.IsEmpty ? steps : Math.Clamp((int)lengths[n], 0, steps);

    private static void Check(int x, int y, ReadOnlySpan<float> lengths, int batch, int steps, int features)
    {
        Shapes.Same(batch * steps * features, x, "x");
        Shapes.Same(batch * features, y, "y");
        if (!lengths.IsEmpty) Shapes.Same(batch, lengths.Length, nameof(lengths));
    }
}
