using System.Runtime.CompilerServices;

namespace Dlc.Backend.Kernels;

/// <summary>
/// The layout batch norm works on: x is [N, C, S] with S the product of the spatial axes (1 for [N, C]),
/// so each channel is N planes of S contiguous values.
/// </summary>
public readonly record struct ChannelLayout(int Batch, int Channels, int Positions)
{
    public static ChannelLayout Of(int[] shape) => new(shape[0], shape[1], shape.Skip(2).Aggregate(1, (a, d) => a * d));

    public int Size => Batch * Channels * Positions;

    /// <summary>Values per channel: the count its statistics are taken over.</summary>
    public int PerChannel => Batch * Positions;
}

/// <summary>
/// Batch norm and layer norm with PyTorch's definitions (biased variance for normalising, unbiased for the
/// running estimate; eps inside the square root). Statistics are summed in double, per plane in float
/// vectors, so a channel of a whole batch keeps its precision. Batch norm's kernels work on a range of
/// channels, so a plan can split channels over threads; the gradient kernels recompute the statistics
/// from x instead of reading state saved by the forward pass.
/// </summary>
public static unsafe class Normalization
{
    /// <summary>
    /// y = (x − mean) / √(var + eps) · w + b for channels [c0, c1). Training uses the batch's statistics and
    /// moves the running ones by <paramref name="momentum"/> (the variance unbiased, as PyTorch does); otherwise
    /// the running ones are used and left alone. With <paramref name="relu"/>, y is max(0, ·) of that.
    /// </summary>
    public static void BatchNorm(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> b, Span<float> runningMean,
        Span<float> runningVar, Span<float> y, ChannelLayout l, float eps, float momentum, bool training, int c0, int c1, bool relu = false)
    {
        Check(l, x.Length, y.Length, w.Length);
        fixed (float* px = x, py = y)
        {
            for (var c = c0; c < c1; c++)
            {
                float mean, invStd;
                if (training)
                {
                    var (m, variance) = Statistics(px, l, c);
                    (mean, invStd) = ((float)m, (float)(1.0 / Math.Sqrt(variance + eps)));
                    var n = l.PerChannel;
                    var unbiased = n > 1 ? variance * n / (n - 1) : variance;
                    runningMean[c] = (float)((1 - momentum) * runningMean[c] + momentum * m);
                    runningVar[c] = (float)((1 - momentum) * runningVar[c] + momentum * unbiased);
                }
                else
                {
                    (mean, invStd) = (runningMean[c], 1f / MathF.Sqrt(runningVar[c] + eps));
                }
                var scale = w[c] * invStd;
                var shift = b[c] - mean * scale;
                for (var i = 0; i < l.Batch; i++)
                {
                    var at = (long)(i * l.Channels + c) * l.Positions;
                    BatchNormPlanes.Affine(px + at, l.Positions, scale, shift, py + at, relu);
                }
            }
        }
    }

    /// <summary>dx of <see cref="BatchNorm"/> for channels [c0, c1) (overwritten).</summary>
    public static void BatchNormInputGrad(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> runningVar,
        ReadOnlySpan<float> dy, Span<float> dx, ChannelLayout l, float eps, bool training, int c0, int c1)
    {
        Check(l, x.Length, dx.Length, w.Length);
        BatchNormGradients(x, w, default, runningVar, dy, dx, default, default, l, eps, training, c0, c1);
    }

    /// <summary>dw[c] = Σ dy · (x − mean) / √(var + eps) for channels [c0, c1), with the statistics <see cref="BatchNorm"/> used.</summary>
    public static void BatchNormWeightGrad(ReadOnlySpan<float> x, ReadOnlySpan<float> runningMean, ReadOnlySpan<float> runningVar,
        ReadOnlySpan<float> dy, Span<float> dw, ChannelLayout l, float eps, bool training, int c0, int c1)
    {
        Check(l, x.Length, dy.Length, dw.Length);
        BatchNormGradients(x, default, runningMean, runningVar, dy, default, dw, default, l, eps, training, c0, c1);
    }

    /// <summary>
    /// The gradients of <see cref="BatchNorm"/> for channels [c0, c1), each left out when its span is empty: dx
    /// (<see cref="BatchNormInputGrad"/>), dw (<see cref="BatchNormWeightGrad"/>) and db = Σ dy. One pass over a channel's
    /// x and dy gives Σ x, Σ dy and Σ dy·x for all three; in training a second over x the variance about the mean, and a
    /// third writes dx. (Apart, the input and weight gradients each took the statistics' two passes and the sums' two,
    /// and the bias gradient a fifth.)
    /// </summary>
    public static void BatchNormGradients(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> runningMean,
        ReadOnlySpan<float> runningVar, ReadOnlySpan<float> dy, Span<float> dx, Span<float> dw, Span<float> db, ChannelLayout l, float eps,
        bool training, int c0, int c1)
    {
        Shapes.Same(l.Size, x.Length, "x");
        Shapes.Same(x.Length, dy.Length, nameof(dy));
        if (!dx.IsEmpty) Shapes.Same(x.Length, dx.Length, nameof(dx));
        var (wantsDx, wantsDw, wantsDb) = (!dx.IsEmpty, !dw.IsEmpty, !db.IsEmpty);
        var n = (double)l.PerChannel;
        fixed (float* px = x, pdy = dy, pdx = dx)
        {
            for (var c = c0; c < c1; c++)
            {
                // Evaluation's dx is dy scaled: no sums needed.
                double sumX = 0, sumDy = 0, sumDyX = 0;
                if (training || wantsDw || wantsDb)
                {
                    for (var i = 0; i < l.Batch; i++)
                    {
                        var at = (long)(i * l.Channels + c) * l.Positions;
                        var (sx, sdy, sdyx) = BatchNormPlanes.Sums(px + at, pdy + at, l.Positions);
                        (sumX, sumDy, sumDyX) = (sumX + sx, sumDy + sdy, sumDyX + sdyx);
                    }
                }
                double mean, variance;
                if (training)
                {
                    mean = sumX / n;
                    variance = SquaredDeviations(px, l, c, (float)mean) / n;
                }
                else
                {
                    (mean, variance) = (wantsDw ? runningMean[c] : 0, runningVar[c]);
                }
                var invStd = 1.0 / Math.Sqrt(variance + eps);
                var sumDyCentred = sumDyX - mean * sumDy;
                if (wantsDw) dw[c] = (float)(sumDyCentred * invStd);
                if (wantsDb) db[c] = (float)sumDy;
                if (!wantsDx) continue;
                // dx = w·σ⁻¹·(dy − Σdy/n − (x − mean)·σ⁻²·Σdy(x − mean)/n) = a·dy + k·x + d; in evaluation a·dy.
                var a = training ? w[c] * invStd : w[c] / MathF.Sqrt(runningVar[c] + eps);
                var k = -a * invStd * invStd * sumDyCentred / n;
                var d = -a * sumDy / n - k * mean;
                for (var i = 0; i < l.Batch; i++)
                {
                    var at = (long)(i * l.Channels + c) * l.Positions;
                    if (training) BatchNormPlanes.InputGradient(px + at, pdy + at, l.Positions, (float)a, (float)k, (float)d, pdx + at);
                    else BatchNormPlanes.Affine(pdy + at, l.Positions, (float)a, 0f, pdx + at, relu: false);
                }
            }
        }
    }

    /// <summary>
    /// A convolution's weight [K, …] with the evaluation-mode batch norm after it folded in:
    /// w'[k, …] = w[k, …] · γ[k] / √(running var[k] + eps), the scale <see cref="BatchNorm"/> applies.
    /// </summary>
    public static void FoldWeight(ReadOnlySpan<float> w, ReadOnlySpan<float> gamma, ReadOnlySpan<float> runningVar, Span<float> y, float eps)
    {
        var channels = gamma.Length;
        if (runningVar.Length != channels || w.Length != y.Length || w.Length % channels != 0)
            throw new ArgumentException($"a weight of {w.Length} numbers does not fold with {channels} channels");
        var per = w.Length / channels;
        for (var k = 0; k < channels; k++)
        {
            var scale = gamma[k] * (1f / MathF.Sqrt(runningVar[k] + eps));
            Elementwise.Scale(w.Slice(k * per, per), scale, y.Slice(k * per, per));
        }
    }

    /// <summary>The bias that goes with <see cref="FoldWeight"/>: b'[k] = (b[k] − mean[k]) · γ[k] / √(var[k] + eps) + β[k].</summary>
    public static void FoldBias(ReadOnlySpan<float> b, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, ReadOnlySpan<float> runningMean,
        ReadOnlySpan<float> runningVar, Span<float> y, float eps)
    {
        for (var k = 0; k < y.Length; k++)
        {
            var scale = gamma[k] * (1f / MathF.Sqrt(runningVar[k] + eps));
            y[k] = (b[k] - runningMean[k]) * scale + beta[k];
        }
    }

    /// <summary>y = (x − mean) / √(var + eps) · w + b over each row of <paramref name="cols"/> values.</summary>
    public static void LayerNorm(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> b, Span<float> y, int rows, int cols, float eps) =>
        LayerNorm(x, w, b, y, rows, cols, eps, 0, rows);

    /// <summary><see cref="LayerNorm(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, int, int, float)"/> on rows [r0, r1) only.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void LayerNorm(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> b, Span<float> y, int rows, int cols, float eps,
        int r0, int r1)
    {
        Shapes.Same(rows * cols, x.Length, nameof(x));
        Shapes.Same(x.Length, y.Length, nameof(y));
        Shapes.Same(cols, w.Length, nameof(w));
        Shapes.Same(cols, b.Length, nameof(b));
        fixed (float* xp = x, wp = w, bp = b, yp = y)
        {
            LayerNormRows.Forward(xp + (long)r0 * cols, wp, bp, yp + (long)r0 * cols, r1 - r0, cols, eps);
        }
    }

    /// <summary>dx = σ⁻¹·(g − mean(g) − x̂·mean(g·x̂)) with g = dy·w, per row (overwritten).</summary>
    public static void LayerNormInputGrad(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> dy, Span<float> dx, int rows, int cols, float eps) =>
        LayerNormInputGrad(x, w, dy, dx, rows, cols, eps, 0, rows);

    /// <summary>
    /// <see cref="LayerNormInputGrad(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, int, int, float)"/> on
    /// rows [r0, r1) only: one pass for the row's two sums, one for dx, both in float vectors.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void LayerNormInputGrad(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> dy, Span<float> dx, int rows, int cols,
        float eps, int r0, int r1)
    {
        Shapes.Same(rows * cols, x.Length, nameof(x));
        Shapes.Same(x.Length, dy.Length, nameof(dy));
        Shapes.Same(x.Length, dx.Length, nameof(dx));
        Shapes.Same(cols, w.Length, nameof(w));
        fixed (float* xp = x, wp = w, dyp = dy, dxp = dx)
        {
            var at = (long)r0 * cols;
            LayerNormRows.Gradients(xp + at, wp, dyp + at, dxp + at, null, null, r1 - r0, cols, eps);
        }
    }

    /// <summary>
    /// Both gradients of layer norm's rows [r0, r1) from one pass over x and dy: dx as
    /// <see cref="LayerNormInputGrad(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, int, int, float)"/>
    /// (overwritten) and dw += Σ dy·x̂ (accumulated, as the ranged <c>LayerNormWeightGrad</c>), each row's statistics
    /// computed once for both; and, unless <paramref name="db"/> is empty, the bias's db += Σ dy (accumulated).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void LayerNormGradients(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> dy, Span<float> dx, Span<float> dw,
        int rows, int cols, float eps, int r0, int r1, Span<float> db = default)
    {
        if (!db.IsEmpty) Shapes.Same(cols, db.Length, nameof(db));
        Shapes.Same(rows * cols, x.Length, nameof(x));
        Shapes.Same(x.Length, dy.Length, nameof(dy));
        Shapes.Same(x.Length, dx.Length, nameof(dx));
        Shapes.Same(cols, w.Length, nameof(w));
        Shapes.Same(cols, dw.Length, nameof(dw));
        fixed (float* xp = x, wp = w, dyp = dy, dxp = dx, dwp = dw, dbp = db)
        {
            var at = (long)r0 * cols;
            LayerNormRows.Gradients(xp + at, wp, dyp + at, dxp + at, dwp, db.IsEmpty ? null : dbp, r1 - r0, cols, eps);
        }
    }

    /// <summary>dw = Σ over the rows of dy · x̂ (overwritten).</summary>
    public static void LayerNormWeightGrad(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dw, int rows, int cols, float eps)
    {
        dw.Clear();
        LayerNormWeightGrad(x, dy, dw, rows, cols, eps, 0, rows);
    }

    /// <summary>dw += Σ over rows [r0, r1) of dy · x̂ (accumulated, so parts of the rows can be summed separately).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void LayerNormWeightGrad(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dw, int rows, int cols, float eps, int r0, int r1)
    {
        Shapes.Same(rows * cols, x.Length, nameof(x));
        Shapes.Same(x.Length, dy.Length, nameof(dy));
        Shapes.Same(cols, dw.Length, nameof(dw));
        fixed (float* xp = x, dyp = dy, dwp = dw)
        {
            for (var r = r0; r < r1; r++) LayerNormRows.WeightGradient(xp + (long)r * cols, dyp + (long)r * cols, dwp, cols, eps);
        }
    }

    /// <summary>The mean and biased variance of channel c over the batch and positions, two passes in double.</summary>
    private static (double Mean, double Variance) Statistics(float* x, ChannelLayout l, int c)
    {
        double sum = 0;
        for (var i = 0; i < l.Batch; i++) sum += BatchNormPlanes.Sum(x + (long)(i * l.Channels + c) * l.Positions, l.Positions);
        var mean = sum / l.PerChannel;
        return (mean, SquaredDeviations(x, l, c, (float)mean) / l.PerChannel);
    }

    /// <summary>Σ (x − mean)² over channel c.</summary>
    private static double SquaredDeviations(float* x, ChannelLayout l, int c, float mean)
    {
        double squares = 0;
        for (var i = 0; i < l.Batch; i++) squares += BatchNormPlanes.SquaredDeviations(x + (long)(i * l.Channels + c) * l.Positions, l.Positions, mean);
        return squares;
    }

    private static void Check(ChannelLayout l, int x, int y, int channels)
    {
        Shapes.Same(l.Size, x, "x");
        Shapes.Same(l.Size, y, "y");
        Shapes.Same(l.Channels, channels, "channels");
    }
}
