namespace Dlc.Runtime.Explain;

/// <summary>The reference inputs x′ that integrated gradients, occlusion, ablation and deletion start from.</summary>
public static class Baselines
{
    /// <summary>
    /// One baseline per input: zeros; the data set's mean sample (<paramref name="mean"/>); or the input blurred
    /// by a Gaussian of σ = an eighth of its larger side (images only), which keeps the colours and loses the shapes.
    /// </summary>
    public static float[] For(BaselineKind kind, float[] inputs, int[] sampleShape, float[]? mean)
    {
        var size = sampleShape.Aggregate(1, (a, b) => a * b);
        var count = inputs.Length / size;
        var baselines = new float[inputs.Length];
        switch (kind)
        {
            case BaselineKind.Zeros:
                break;
            case BaselineKind.Mean:
                if (mean is null || mean.Length != size) throw new ArgumentException("the mean baseline needs the data set's mean sample", nameof(mean));
                for (var i = 0; i < count; i++) mean.CopyTo(baselines, i * size);
                break;
            case BaselineKind.Blurred:
                var (c, h, w) = GradientMethods.ImageShape(sampleShape);
                var sigma = Math.Max(h, w) / 8.0;
                for (var i = 0; i < count; i++)
                {
                    for (var ch = 0; ch < c; ch++)
                    {
                        var offset = i * size + ch * h * w;
                        Blur(inputs.AsSpan(offset, h * w), baselines.AsSpan(offset, h * w), h, w, sigma);
                    }
                }
                break;
        }
        return baselines;
    }

    /// <summary>The mean of <paramref name="samples"/> rows of a [count, size] array.</summary>
    public static float[] Mean(float[] samples, int size)
    {
        var count = samples.Length / size;
        var sum = new double[size];
        for (var i = 0; i < count; i++)
        {
            for (var j = 0; j < size; j++) sum[j] += samples[i * size + j];
        }
        return sum.Select(s => (float)(s / Math.Max(1, count))).ToArray();
    }

    /// <summary>A separable Gaussian blur with edges clamped.</summary>
    public static void Blur(ReadOnlySpan<float> source, Span<float> target, int h, int w, double sigma)
    {
        var radius = (int)Math.Ceiling(3 * sigma);
        var kernel = Enumerable.Range(-radius, 2 * radius + 1).Select(d => Math.Exp(-d * d / (2 * sigma * sigma))).ToArray();
        var total = kernel.Sum();
        var rows = new double[h * w];
        for (var y = 0; y < h; y++)
        {
            for (var x = 0; x < w; x++)
            {
                double s = 0;
                for (var d = -radius; d <= radius; d++) s += kernel[d + radius] * source[y * w + Math.Clamp(x + d, 0, w - 1)];
                rows[y * w + x] = s / total;
            }
        }
        for (var y = 0; y < h; y++)
        {
            for (var x = 0; x < w; x++)
            {
                double s = 0;
                for (var d = -radius; d <= radius; d++) s += kernel[d + radius] * rows[Math.Clamp(y + d, 0, h - 1) * w + x];
                target[y * w + x] = (float)(s / total);
            }
        }
    }
}
