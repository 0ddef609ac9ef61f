using System.Numerics;

namespace Dlc.Backend.Kernels.Reference;

/// <summary>
/// Definitions of <see cref="Normalization"/> in plain loops, generic over T, straight from PyTorch's formulas:
/// batch norm per channel over [N, C, S], layer norm per row. The gradients are those of the formulas with the
/// statistics as functions of x (training) or as constants (evaluation).
/// </summary>
public static class NormalizationReference
{
    public static void BatchNorm<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> w, ReadOnlySpan<T> b, ReadOnlySpan<T> runningMean,
        ReadOnlySpan<T> runningVar, Span<T> y, ChannelLayout l, T eps, bool training) where T : IFloatingPointIeee754<T>
    {
        for (var c = 0; c < l.Channels; c++)
        {
            var (mean, variance) = training ? Statistics(x, l, c) : (runningMean[c], runningVar[c]);
            var invStd = T.One / T.Sqrt(variance + eps);
            foreach (var at in Indices(l, c)) y[at] = (x[at] - mean) * invStd * w[c] + b[c];
        }
    }

    /// <summary>w'[k, …] = w[k, …] · γ[k] / √(var[k] + eps).</summary>
    public static void FoldWeight<T>(ReadOnlySpan<T> w, ReadOnlySpan<T> gamma, ReadOnlySpan<T> runningVar, Span<T> y, T eps)
        where T : IFloatingPointIeee754<T>
    {
        var per = w.Length / gamma.Length;
        for (var i = 0; i < w.Length; i++) y[i] = w[i] * gamma[i / per] / T.Sqrt(runningVar[i / per] + eps);
    }

    /// <summary>b'[k] = (b[k] − mean[k]) · γ[k] / √(var[k] + eps) + β[k].</summary>
    public static void FoldBias<T>(ReadOnlySpan<T> b, ReadOnlySpan<T> gamma, ReadOnlySpan<T> beta, ReadOnlySpan<T> runningMean,
        ReadOnlySpan<T> runningVar, Span<T> y, T eps) where T : IFloatingPointIeee754<T>
    {
        for (var k = 0; k < y.Length; k++) y[k] = (b[k] - runningMean[k]) * gamma[k] / T.Sqrt(runningVar[k] + eps) + beta[k];
    }

    /// <summary>The running statistics after one training batch, with the unbiased variance.</summary>
    public static void UpdateRunning<T>(ReadOnlySpan<T> x, Span<T> runningMean, Span<T> runningVar, ChannelLayout l, T momentum)
        where T : IFloatingPointIeee754<T>
    {
        var n = T.CreateChecked(l.PerChannel);
        for (var c = 0; c < l.Channels; c++)
        {
            var (mean, variance) = Statistics(x, l, c);
            runningMean[c] = (T.One - momentum) * runningMean[c] + momentum * mean;
            runningVar[c] = (T.One - momentum) * runningVar[c] + momentum * variance * n / (n - T.One);
        }
    }

    public static void BatchNormInputGrad<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> w, ReadOnlySpan<T> runningVar, ReadOnlySpan<T> dy,
        Span<T> dx, ChannelLayout l, T eps, bool training) where T : IFloatingPointIeee754<T>
    {
        var n = T.CreateChecked(l.PerChannel);
        for (var c = 0; c < l.Channels; c++)
        {
            if (!training)
            {
                foreach (var at in Indices(l, c)) dx[at] = dy[at] * w[c] / T.Sqrt(runningVar[c] + eps);
                continue;
            }
            var (mean, variance) = Statistics(x, l, c);
            var invStd = T.One / T.Sqrt(variance + eps);
            T sumDy = T.Zero, sumDyXHat = T.Zero;
            foreach (var at in Indices(l, c))
            {
                sumDy += dy[at];
                sumDyXHat += dy[at] * (x[at] - mean) * invStd;
            }
            foreach (var at in Indices(l, c))
            {
                var xHat = (x[at] - mean) * invStd;
                dx[at] = w[c] * invStd * (dy[at] - sumDy / n - xHat * sumDyXHat / n);
            }
        }
    }

    public static void BatchNormWeightGrad<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> runningMean, ReadOnlySpan<T> runningVar, ReadOnlySpan<T> dy,
        Span<T> dw, ChannelLayout l, T eps, bool training) where T : IFloatingPointIeee754<T>
    {
        for (var c = 0; c < l.Channels; c++)
        {
            var (mean, variance) = training ? Statistics(x, l, c) : (runningMean[c], runningVar[c]);
            var invStd = T.One / T.Sqrt(variance + eps);
            var sum = T.Zero;
            foreach (var at in Indices(l, c)) sum += dy[at] * (x[at] - mean) * invStd;
            dw[c] = sum;
        }
    }

    public static void LayerNorm<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> w, ReadOnlySpan<T> b, Span<T> y, int rows, int cols, T eps)
        where T : IFloatingPointIeee754<T>
    {
        for (var r = 0; r < rows; r++)
        {
            var (mean, invStd) = RowStatistics(x.Slice(r * cols, cols), eps);
            for (var j = 0; j < cols; j++) y[r * cols + j] = (x[r * cols + j] - mean) * invStd * w[j] + b[j];
        }
    }

    public static void LayerNormInputGrad<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> w, ReadOnlySpan<T> dy, Span<T> dx, int rows, int cols, T eps)
        where T : IFloatingPointIeee754<T>
    {
        var n = T.CreateChecked(cols);
        for (var r = 0; r < rows; r++)
        {
            var (mean, invStd) = RowStatistics(x.Slice(r * cols, cols), eps);
            T sumG = T.Zero, sumGxHat = T.Zero;
            for (var j = 0; j < cols; j++)
            {
                var g = dy[r * cols + j] * w[j];
                sumG += g;
                sumGxHat += g * (x[r * cols + j] - mean) * invStd;
            }
            for (var j = 0; j < cols; j++)
            {
                var xHat = (x[r * cols + j] - mean) * invStd;
                dx[r * cols + j] = invStd * (dy[r * cols + j] * w[j] - sumG / n - xHat * sumGxHat / n);
            }
        }
    }

    public static void LayerNormWeightGrad<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> dy, Span<T> dw, int rows, int cols, T eps)
        where T : IFloatingPointIeee754<T>
    {
        dw.Clear();
        for (var r = 0; r < rows; r++)
        {
            var (mean, invStd) = RowStatistics(x.Slice(r * cols, cols), eps);
            for (var j = 0; j < cols; j++) dw[j] += dy[r * cols + j] * (x[r * cols + j] - mean) * invStd;
        }
    }

    private static IEnumerable<int> Indices(ChannelLayout l, int c) =>
        Enumerable.Range(0, l.Batch).SelectMany(i => Enumerable.Range((i * l.Channels + c) * l.Positions, l.Positions));

    private static (T Mean, T Variance) Statistics<T>(ReadOnlySpan<T> x, ChannelLayout l, int c) where T : IFloatingPointIeee754<T>
    {
        var n = T.CreateChecked(l.PerChannel);
        var sum = T.Zero;
        foreach (var at in Indices(l, c)) sum += x[at];
        var mean = sum / n;
        var squares = T.Zero;
        foreach (var at in Indices(l, c)) squares += (x[at] - mean) * (x[at] - mean);
        return (mean, squares / n);
    }

    private static (T Mean, T InvStd) RowStatistics<T>(ReadOnlySpan<T> row, T eps) where T : IFloatingPointIeee754<T>
    {
        var n = T.CreateChecked(row.Length);
        var sum = T.Zero;
        foreach (var v in row) sum += v;
        var mean = sum / n;
        var squares = T.Zero;
        foreach (var v in row) squares += (v - mean) * (v - mean);
        return (mean, T.One / T.Sqrt(squares / n + eps));
    }
}
