namespace Dlc.Runtime.Explain;

/// <summary>
/// Deletion and insertion scores (Petsiuk et al. 2018, RISE), averaged over the inputs: the area under the
/// curve of the target's probability (a regression's output) as the most-attributed input values are
/// removed (replaced by the baseline; lower is more faithful) or inserted into the baseline (higher is more faithful).
/// </summary>
public sealed record FaithfulnessScore(double Deletion, double Insertion, double[] DeletionCurve, double[] InsertionCurve);

public static class Faithfulness
{
    public static FaithfulnessScore Measure(AttributionModel model, InputAttribution attribution, float[] inputs, float[] baselines, int steps)
    {
        var (count, size) = (attribution.Count, model.SampleSize);
        var rows = new float[count * 2 * (steps + 1) * size];
        for (var i = 0; i < count; i++)
        {
            var values = attribution.Of(i).ToArray();
            var order = Enumerable.Range(0, size).OrderByDescending(j => values[j]).ToArray();
            var x = inputs.AsSpan(i * size, size);
            var b = baselines.AsSpan(i * size, size);
            for (var k = 0; k <= steps; k++)
            {
                var m = (int)Math.Round((double)k * size / steps);
                var deleted = rows.AsSpan(((i * 2) * (steps + 1) + k) * size, size);
                var inserted = rows.AsSpan(((i * 2 + 1) * (steps + 1) + k) * size, size);
                x.CopyTo(deleted);
                b.CopyTo(inserted);
                for (var r = 0; r < m; r++)
                {
                    deleted[order[r]] = b[order[r]];
                    inserted[order[r]] = x[order[r]];
                }
            }
        }
        var outputs = model.Predict(rows, count * 2 * (steps + 1));
        var deletion = new double[steps + 1];
        var insertion = new double[steps + 1];
        for (var i = 0; i < count; i++)
        {
            for (var k = 0; k <= steps; k++)
            {
                deletion[k] += Score(model, outputs, (i * 2) * (steps + 1) + k, attribution.Targets[i]) / count;
                insertion[k] += Score(model, outputs, (i * 2 + 1) * (steps + 1) + k, attribution.Targets[i]) / count;
            }
        }
        return new FaithfulnessScore(Area(deletion), Area(insertion), deletion, insertion);
    }

    /// <summary>The target's softmax probability for a classifier, the output itself for a regression.</summary>
    private static double Score(AttributionModel model, float[] outputs, int row, int target)
    {
        var o = outputs.AsSpan(row * model.Outputs, model.Outputs);
        if (!model.IsClassifier) return o[target];
        var max = double.NegativeInfinity;
        foreach (var v in o) max = Math.Max(max, v);
        double sum = 0;
        foreach (var v in o) sum += Math.Exp(v - max);
        return Math.Exp(o[target] - max) / sum;
    }

    /// <summary>The trapezoid rule over evenly spaced fractions 0..1.</summary>
    private static double Area(double[] curve)
    {
        double area = 0;
        for (var k = 0; k + 1 < curve.Length; k++) area += (curve[k] + curve[k + 1]) / 2;
        return area / (curve.Length - 1);
    }
}
