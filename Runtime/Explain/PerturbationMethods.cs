using Dlc.Backend;

namespace Dlc.Runtime.Explain;

/// <summary>
/// Attributions from the model's outputs on changed inputs: occlusion and feature ablation per input,
/// permutation importance over a set of samples. Every changed input of a call runs in one batched pass.
/// </summary>
public static class PerturbationMethods
{
    /// <summary>
    /// Occlusion (Zeiler and Fergus 2014): a patch (all channels of a square of an image, or a run of features)
    /// slides with a stride; each position is replaced by the baseline, and every value under the patch is
    /// credited with f(x) − f(x occluded), averaged over the positions that cover it (as Captum does).
    /// </summary>
    public static InputAttribution Occlusion(AttributionModel model, float[] inputs, float[] baselines, int[] targets, ExplainSettings settings)
    {
        var windows = Windows(model.SampleShape, settings.Patch, settings.Stride);
        return Perturb(MethodKind.Occlusion, model, inputs, baselines, targets, windows);
    }

    /// <summary>Feature ablation: each input value alone replaced by the baseline; its attribution is f(x) − f(x ablated).</summary>
    public static InputAttribution FeatureAblation(AttributionModel model, float[] inputs, float[] baselines, int[] targets)
    {
        var windows = Enumerable.Range(0, model.SampleSize).Select(j => new[] { j }).ToArray();
        return Perturb(MethodKind.FeatureAblation, model, inputs, baselines, targets, windows);
    }

    private static InputAttribution Perturb(MethodKind method, AttributionModel model, float[] inputs, float[] baselines, int[] targets, int[][] windows)
    {
        var (count, size) = (targets.Length, model.SampleSize);
        var scores = model.Scores(inputs, targets);
        var values = new float[count * size];
        var covered = new int[size];
        foreach (var window in windows)
        {
            foreach (var j in window) covered[j]++;
        }
        // One input at a time keeps the batch (one changed copy per window) to a bounded size.
        for (var i = 0; i < count; i++)
        {
            var changed = new float[windows.Length * size];
            for (var p = 0; p < windows.Length; p++)
            {
                var row = changed.AsSpan(p * size, size);
                inputs.AsSpan(i * size, size).CopyTo(row);
                foreach (var j in windows[p]) row[j] = baselines[i * size + j];
            }
            var changedScores = model.Scores(changed, Enumerable.Repeat(targets[i], windows.Length).ToArray());
            for (var p = 0; p < windows.Length; p++)
            {
                var drop = scores[i] - changedScores[p];
                foreach (var j in windows[p]) values[i * size + j] += drop;
            }
            for (var j = 0; j < size; j++)
            {
                if (covered[j] > 0) values[i * size + j] /= covered[j];
            }
        }
        return new InputAttribution(method, model.SampleShape, targets, scores, values);
    }

    /// <summary>The element indices under each patch position: squares of an image across its channels, runs of a vector.</summary>
    internal static int[][] Windows(int[] sample, int patch, int stride)
    {
        if (sample.Length is 2 or 3)
        {
            var (c, h, w) = GradientMethods.ImageShape(sample);
            var (ph, pw) = (Math.Min(patch, h), Math.Min(patch, w));
            var windows = new List<int[]>();
            for (var y = 0; y + ph <= h; y += stride)
            {
                for (var x = 0; x + pw <= w; x += stride)
                {
                    var cells = new List<int>(c * ph * pw);
                    for (var ch = 0; ch < c; ch++)
                    {
                        for (var dy = 0; dy < ph; dy++)
                        {
                            for (var dx = 0; dx < pw; dx++) cells.Add(ch * h * w + (y + dy) * w + x + dx);
                        }
                    }
                    windows.Add(cells.ToArray());
                }
            }
            return windows.ToArray();
        }
        var size = sample.Aggregate(1, (a, b) => a * b);
        var length = Math.Min(patch, size);
        var runs = new List<int[]>();
        for (var start = 0; start + length <= size; start += stride) runs.Add(Enumerable.Range(start, length).ToArray());
        return runs.ToArray();
    }

    /// <summary>
    /// Permutation feature importance (Breiman 2001; scikit-learn's permutation_importance): the metric on the
    /// samples as they are, then with one feature's column shuffled across the samples, <see cref="ExplainSettings.Repeats"/>
    /// times per feature. Importance is the drop of the metric: accuracy for a classifier, R² for a regression.
    /// </summary>
    public static FeatureImportance Permutation(AttributionModel model, float[] inputs, float[] labels, ExplainSettings settings)
    {
        var (count, size, repeats) = (labels.Length, model.SampleSize, settings.Repeats);
        var metric = model.IsClassifier ? "accuracy" : "r2";
        var baseline = Metric(model, inputs, labels);
        var rng = new Rng(settings.Seed);
        var drops = new double[size][];
        var shuffled = new float[inputs.Length];
        var order = new int[count];
        for (var j = 0; j < size; j++)
        {
            drops[j] = new double[repeats];
            for (var r = 0; r < repeats; r++)
            {
                inputs.CopyTo(shuffled, 0);
                for (var i = 0; i < count; i++) order[i] = i;
                for (var i = count - 1; i > 0; i--)
                {
                    var k = rng.NextInt(i + 1);
                    (order[i], order[k]) = (order[k], order[i]);
                }
                for (var i = 0; i < count; i++) shuffled[i * size + j] = inputs[order[i] * size + j];
                drops[j][r] = baseline - Metric(model, shuffled, labels);
            }
        }
        var mean = drops.Select(d => d.Average()).ToArray();
        var std = drops.Select(d => Math.Sqrt(d.Select(v => (v - d.Average()) * (v - d.Average())).Average())).ToArray();
        return new FeatureImportance(metric, baseline, mean, std, drops);
    }

    /// <summary>Accuracy of a classifier, or R² of output 0 of a regression, on the samples.</summary>
    public static double Metric(AttributionModel model, float[] inputs, float[] labels)
    {
        var count = labels.Length;
        var outputs = model.Predict(inputs, count);
        if (model.IsClassifier)
        {
            var correct = 0;
            for (var i = 0; i < count; i++)
            {
                var row = outputs.AsSpan(i * model.Outputs, model.Outputs);
                var best = 0;
                for (var c = 1; c < row.Length; c++)
                {
                    if (row[c] > row[best]) best = c;
                }
                if (best == (int)labels[i]) correct++;
            }
            return correct / (double)count;
        }
        var mean = labels.Average(v => (double)v);
        double residual = 0, total = 0;
        for (var i = 0; i < count; i++)
        {
            var e = outputs[i * model.Outputs] - (double)labels[i];
            residual += e * e;
            total += (labels[i] - mean) * (labels[i] - mean);
        }
        return total == 0 ? 0 : 1 - residual / total;
    }
}
