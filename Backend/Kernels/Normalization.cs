using System.Numerics.Tensors;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

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
        for (var c = c0; c < c1; c++)
        {
            float mean, invStd;
            if (training)
            {
                var (m, variance) = Statistics(x, l, c);
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
                var at = (i * l.Channels + c) * l.Positions;
                Affine(x.Slice(at, l.Positions), scale, shift, y.Slice(at, l.Positions), relu);
            }
        }
    }

    /// <summary>dx of <see cref="BatchNorm"/> for channels [c0, c1) (overwritten).</summary>
    public static void BatchNormInputGrad(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> runningVar,
        ReadOnlySpan<float> dy, Span<float> dx, ChannelLayout l, float eps, bool training, int c0, int c1)
    {
        Check(l, x.Length, dx.Length, w.Length);
        Shapes.Same(x.Length, dy.Length, nameof(dy));
        for (var c = c0; c < c1; c++)
        {
            if (!training)
            {
                var factor = w[c] / MathF.Sqrt(runningVar[c] + eps);
                for (var i = 0; i < l.Batch; i++)
                {
                    var at = (i * l.Channels + c) * l.Positions;
                    TensorPrimitives.Multiply(dy.Slice(at, l.Positions), factor, dx.Slice(at, l.Positions));
                }
                continue;
            }
            var (m, variance) = Statistics(x, l, c);
            var invStd = 1.0 / Math.Sqrt(variance + eps);
            var (sumDy, sumDyX) = GradientSums(x, dy, l, c);
            var n = (double)l.PerChannel;
            var sumDyCentred = sumDyX - m * sumDy;
            // dx = w·σ⁻¹·(dy − Σdy/n − (x − mean)·σ⁻²·Σdy(x − mean)/n) = a·dy + k·x + d
            var a = w[c] * invStd;
            var k = -a * invStd * invStd * sumDyCentred / n;
            var d = -a * sumDy / n - k * m;
            for (var i = 0; i < l.Batch; i++)
            {
                var at = (i * l.Channels + c) * l.Positions;
                var target = dx.Slice(at, l.Positions);
                Affine(x.Slice(at, l.Positions), (float)k, (float)d, target);
                TensorPrimitives.MultiplyAdd(dy.Slice(at, l.Positions), (float)a, target, target);
            }
        }
    }

    /// <summary>dw[c] = Σ dy · (x − mean) / √(var + eps) for channels [c0, c1), with the statistics <see cref="BatchNorm"/> used.</summary>
    public static void BatchNormWeightGrad(ReadOnlySpan<float> x, ReadOnlySpan<float> runningMean, ReadOnlySpan<float> runningVar,
        ReadOnlySpan<float> dy, Span<float> dw, ChannelLayout l, float eps, bool training, int c0, int c1)
    {
        Check(l, x.Length, dy.Length, dw.Length);
        for (var c = c0; c < c1; c++)
        {
            var (m, variance) = training ? Statistics(x, l, c) : (runningMean[c], runningVar[c]);
            var (sumDy, sumDyX) = GradientSums(x, dy, l, c);
            dw[c] = (float)((sumDyX - m * sumDy) / Math.Sqrt(variance + eps));
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
    private static (double Mean, double Variance) Statistics(ReadOnlySpan<float> x, ChannelLayout l, int c)
    {
        double sum = 0;
        for (var i = 0; i < l.Batch; i++) sum += TensorPrimitives.Sum(x.Slice((i * l.Channels + c) * l.Positions, l.Positions));
        var mean = sum / l.PerChannel;
        double squares = 0;
        for (var i = 0; i < l.Batch; i++) squares += SquaredDeviations(x.Slice((i * l.Channels + c) * l.Positions, l.Positions), (float)mean);
        return (mean, squares / l.PerChannel);
    }

    /// <summary>Σ dy and Σ dy·x over channel c.</summary>
    private static (double SumDy, double SumDyX) GradientSums(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, ChannelLayout l, int c)
    {
        double sumDy = 0, sumDyX = 0;
        for (var i = 0; i < l.Batch; i++)
        {
            var at = (i * l.Channels + c) * l.Positions;
            sumDy += TensorPrimitives.Sum(dy.Slice(at, l.Positions));
            sumDyX += TensorPrimitives.Dot(dy.Slice(at, l.Positions), x.Slice(at, l.Positions));
        }
        return (sumDy, sumDyX);
    }

    /// <summary>y = x · scale + shift, or max(0, x · scale + shift) with <paramref name="relu"/>.</summary>
    private static void Affine(ReadOnlySpan<float> x, float scale, float shift, Span<float> y, bool relu = false)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated && x.Length >= Vector<float>.Count)
        {
            var (vs, vb) = (new Vector<float>(scale), new Vector<float>(shift));
            var count = x.Length - x.Length % Vector<float>.Count;
            var xs = MemoryMarshal.Cast<float, Vector<float>>(x[..count]);
            var ys = MemoryMarshal.Cast<float, Vector<float>>(y[..count]);
            if (relu) for (var v = 0; v < xs.Length; v++) ys[v] = Vector.Max(xs[v] * vs + vb, Vector<float>.Zero);
            else for (var v = 0; v < xs.Length; v++) ys[v] = xs[v] * vs + vb;
            i = count;
        }
        for (; i < x.Length; i++) y[i] = relu ? MathF.Max(x[i] * scale + shift, 0f) : x[i] * scale + shift;
    }

    /// <summary>Σ (x − mean)² in float vectors, returned in double.</summary>
    private static double SquaredDeviations(ReadOnlySpan<float> x, float mean)
    {
        var i = 0;
        var total = 0.0;
        if (Vector.IsHardwareAccelerated && x.Length >= Vector<float>.Count)
        {
            var values = MemoryMarshal.Cast<float, Vector<float>>(x);
            var (centre, sum) = (new Vector<float>(mean), Vector<float>.Zero);
            foreach (var v in values)
            {
                var d = v - centre;
                sum += d * d;
            }
            total = Vector.Sum(sum);
            i = values.Length * Vector<float>.Count;
        }
        for (; i < x.Length; i++)
        {
            var d = x[i] - mean;
            total += d * d;
        }
        return total;
    }

    private static void Check(ChannelLayout l, int x, int y, int channels)
    {
        Shapes.Same(l.Size, x, "x");
        Shapes.Same(l.Size, y, "y");
        Shapes.Same(l.Channels, channels, "channels");
    }
}
