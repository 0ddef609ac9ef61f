using Dlc.Backend;

namespace Dlc.Runtime.Explain;

/// <summary>
/// Attributions from the gradient of the target score with respect to the input, every gradient computed
/// by the compiled <see cref="AttributionModel"/> (reverse mode over the IR, never finite differences).
/// </summary>
public static class GradientMethods
{
    /// <summary>Simonyan et al. 2014: |∂f/∂x|.</summary>
    public static InputAttribution Saliency(AttributionModel model, float[] inputs, int[] targets)
    {
        var pass = model.Gradient(inputs, targets);
        var values = pass.InputGradients.Select(MathF.Abs).ToArray();
        return new InputAttribution(MethodKind.Saliency, model.SampleShape, targets, pass.Scores, values);
    }

    /// <summary>Shrikumar et al. 2016: ∂f/∂x · x.</summary>
    public static InputAttribution GradientTimesInput(AttributionModel model, float[] inputs, int[] targets)
    {
        var pass = model.Gradient(inputs, targets);
        var values = new float[inputs.Length];
        for (var i = 0; i < values.Length; i++) values[i] = pass.InputGradients[i] * inputs[i];
        return new InputAttribution(MethodKind.GradientTimesInput, model.SampleShape, targets, pass.Scores, values);
    }

    /// <summary>
    /// SmoothGrad (Smilkov et al. 2017), the mean of ∂f/∂x over noisy copies x + ε, ε ~ N(0, σ²) with σ a fraction
    /// of each input's range; VarGrad (Adebayo et al. 2018) is their variance instead.
    /// </summary>
    public static InputAttribution NoisyGradients(AttributionModel model, float[] inputs, int[] targets, ExplainSettings settings, bool variance)
    {
        var (count, size, samples) = (targets.Length, model.SampleSize, settings.Samples);
        var rng = new Rng(settings.Seed);
        var noisy = new float[count * samples * size];
        var noisyTargets = new int[count * samples];
        for (var i = 0; i < count; i++)
        {
            var x = inputs.AsSpan(i * size, size);
            var sigma = (float)(settings.Noise * (Max(x) - Min(x)));
            for (var s = 0; s < samples; s++)
            {
                var row = noisy.AsSpan((i * samples + s) * size, size);
                rng.FillNormal(row, 0f, sigma);
                for (var j = 0; j < size; j++) row[j] += x[j];
                noisyTargets[i * samples + s] = targets[i];
            }
        }
        var gradients = model.Gradient(noisy, noisyTargets).InputGradients;
        var values = new float[count * size];
        for (var i = 0; i < count; i++)
        {
            for (var j = 0; j < size; j++)
            {
                double sum = 0, squares = 0;
                for (var s = 0; s < samples; s++)
                {
                    double g = gradients[(i * samples + s) * size + j];
                    sum += g;
                    squares += g * g;
                }
                var mean = sum / samples;
                values[i * size + j] = (float)(variance ? Math.Max(0, squares / samples - mean * mean) : mean);
            }
        }
        var scores = model.Scores(inputs, targets);
        return new InputAttribution(variance ? MethodKind.VarGrad : MethodKind.SmoothGrad, model.SampleShape, targets, scores, values);
    }

    /// <summary>
    /// Grad-CAM (Selvaraju et al. 2017): for the layer's feature maps A[c, h, w], α_c = mean over h, w of ∂f/∂A,
    /// the map ReLU(Σ_c α_c A_c), upsampled bilinearly to the input's height and width (every input channel gets it).
    /// </summary>
    public static InputAttribution GradCam(AttributionModel model, float[] inputs, int[] targets, string layer)
    {
        var pass = model.Gradient(inputs, targets);
        var shape = model.LayerShape ?? throw new InvalidOperationException("the model was made without a Grad-CAM layer");
        var (channels, h, w) = (shape[0], shape[1], shape[2]);
        var (inC, inH, inW) = ImageShape(model.SampleShape);
        var count = targets.Length;
        var values = new float[count * model.SampleSize];
        var cam = new float[h * w];
        for (var i = 0; i < count; i++)
        {
            Array.Clear(cam);
            var a = pass.Layer.AsSpan(i * channels * h * w, channels * h * w);
            var g = pass.LayerGradients.AsSpan(i * channels * h * w, channels * h * w);
            for (var c = 0; c < channels; c++)
            {
                double alpha = 0;
                for (var p = 0; p < h * w; p++) alpha += g[c * h * w + p];
                var weight = (float)(alpha / (h * w));
                for (var p = 0; p < h * w; p++) cam[p] += weight * a[c * h * w + p];
            }
            for (var p = 0; p < cam.Length; p++) cam[p] = Math.Max(0f, cam[p]);
            var target = values.AsSpan(i * model.SampleSize, inH * inW);
            Resample.Bilinear(cam, h, w, target, inH, inW);
            for (var c = 1; c < inC; c++) target.CopyTo(values.AsSpan(i * model.SampleSize + c * inH * inW, inH * inW));
        }
        return new InputAttribution(MethodKind.GradCam, model.SampleShape, targets, pass.Scores, values) { Layer = layer };
    }

    /// <summary>[C, H, W] of an image sample; [H, W] is one channel.</summary>
    internal static (int C, int H, int W) ImageShape(int[] sample) => sample.Length switch
    {
        3 => (sample[0], sample[1], sample[2]),
        2 => (1, sample[0], sample[1]),
        _ => throw new ArgumentException($"not an image sample: [{string.Join(", ", sample)}]"),
    };

    private static float Max(ReadOnlySpan<float> x)
    {
        var m = float.NegativeInfinity;
        foreach (var v in x) m = Math.Max(m, v);
        return m;
    }

    private static float Min(ReadOnlySpan<float> x)
    {
        var m = float.PositiveInfinity;
        foreach (var v in x) m = Math.Min(m, v);
        return m;
    }
}

/// <summary>Gauss–Legendre quadrature on [0, 1]: exact for polynomials of degree 2n − 1.</summary>
public static class GaussLegendre
{
    public static (double[] Nodes, double[] Weights) Rule(int n)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        var nodes = new double[n];
        var weights = new double[n];
        for (var i = 0; i < n; i++)
        {
            // Newton's method on P_n from Chebyshev's estimate of the i-th root on [−1, 1].
            var x = Math.Cos(Math.PI * (i + 0.75) / (n + 0.5));
            double derivative = 0;
            for (var iteration = 0; iteration < 100; iteration++)
            {
                double p0 = 1, p1 = x;
                for (var k = 2; k <= n; k++) (p0, p1) = (p1, ((2 * k - 1) * x * p1 - (k - 1) * p0) / k);
                derivative = n * (x * p1 - p0) / (x * x - 1);
                var step = p1 / derivative;
                x -= step;
                if (Math.Abs(step) < 1e-15) break;
            }
            // Map [−1, 1] to [0, 1]: node (1 − x)/2 ascending, weight halved.
            nodes[i] = (1 - x) / 2;
            weights[i] = 1 / ((1 - x * x) * derivative * derivative);
        }
        return (nodes, weights);
    }
}

/// <summary>Bilinear resampling of one channel, pixel centres aligned (as torch's interpolate with align_corners=False).</summary>
public static class Resample
{
    public static void Bilinear(ReadOnlySpan<float> source, int h, int w, Span<float> target, int outH, int outW)
    {
        for (var y = 0; y < outH; y++)
        {
            var sy = Math.Clamp((y + 0.5) * h / outH - 0.5, 0, h - 1);
            var y0 = (int)sy;
            var y1 = Math.Min(y0 + 1, h - 1);
            var fy = sy - y0;
            for (var x = 0; x < outW; x++)
            {
                var sx = Math.Clamp((x + 0.5) * w / outW - 0.5, 0, w - 1);
                var x0 = (int)sx;
                var x1 = Math.Min(x0 + 1, w - 1);
                var fx = sx - x0;
                var top = source[y0 * w + x0] * (1 - fx) + source[y0 * w + x1] * fx;
                var bottom = source[y1 * w + x0] * (1 - fx) + source[y1 * w + x1] * fx;
                target[y * outW + x] = (float)(top * (1 - fy) + bottom * fy);
            }
        }
    }
}
