namespace Dlc.Runtime.Explain;

/// <summary>
/// Deletion and insertion scores (Petsiuk et al. 2018, RISE), averaged over the inputs: the area under the
/// curve of the target's probability (a regression's output) as the most-attributed input values are
/// removed (replaced by the baseline; lower is more faithful) or inserted into the baseline (higher is more faithful).
/// </summary>
public sealed record FaithfulnessScore(double Deletion, double Insertion, double[] DeletionCurve, double[] InsertionCurve);

public static class Faithfulness
{
    /// <param name="attributions">One value per feature of each input. A feature may span several input values: a
    /// token is the <c>D</c> values of its embedding, so the model's input holds SampleSize / attributions' SampleSize
    /// values per feature, side by side, and removing a feature replaces all of them.</param>
    /// <param name="counted">Which features take part, [count, features]: padding and tokens outside the explained
    /// context are neither removed nor inserted, and the curve runs from none to all of the counted ones. Null counts all.</param>
    public static FaithfulnessScore Measure(AttributionModel model, InputAttribution attributions, float[] inputs, float[] baselines, int steps,
        bool[]? counted = null)
    {
        var (count, size) = (attributions.Count, model.SampleSize);
        var features = attributions.SampleSize;
        var width = size / features;
        var rows = new float[count * 2 * (steps + 1) * size];
        for (var i = 0; i < count; i++)
        {
            var values = attributions.Of(i).ToArray();
            var order = Enumerable.Range(0, features).Where(j => counted is null || counted[i * features + j]).OrderByDescending(j => values[j]).ToArray();
            var x = inputs.AsSpan(i * size, size);
            var b = baselines.AsSpan(i * size, size);
            for (var k = 0; k <= steps; k++)
            {
                var m = (int)Math.Round((double)k * order.Length / steps);
                var deleted = rows.AsSpan(((i * 2) * (steps + 1) + k) * size, size);
                var inserted = rows.AsSpan(((i * 2 + 1) * (steps + 1) + k) * size, size);
                x.CopyTo(deleted);
                b.CopyTo(inserted);
                for (var r = 0; r < m; r++)
                {
                    var at = order[r] * width;
                    b.Slice(at, width).CopyTo(deleted[at..]);
                    x.Slice(at, width).CopyTo(inserted[at..]);
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
                deletion[k] += Score(model, outputs, (i * 2) * (steps + 1) + k, attributions.Targets[i]) / count;
                insertion[k] += Score(model, outputs, (i * 2 + 1) * (steps + 1) + k, attributions.Targets[i]) / count;
            }
        }
        return new FaithfulnessScore(Area(deletion), Area(insertion), deletion, insertion);
    }

    /// <summary>Random orders drawn for <see cref="RandomOrder"/>; their curves are averaged.</summary>
    public const int RandomDraws = 8;

    /// <summary>
    /// The reference an attribution's scores are read against: the same curves with the features removed and
    /// inserted in random orders (<see cref="RandomDraws"/> of them, by <paramref name="seed"/>), averaged. A faithful
    /// attribution's deletion area is below this one's and its insertion area above.
    /// </summary>
    public static FaithfulnessScore RandomOrder(AttributionModel model, InputAttribution attributions, float[] inputs, float[] baselines, int steps,
        ulong seed, bool[]? counted = null)
    {
        var rng = new Backend.Rng(seed).Fork(11);
        var deletion = new double[steps + 1];
        var insertion = new double[steps + 1];
        for (var draw = 0; draw < RandomDraws; draw++)
        {
            var values = new float[attributions.Values.Length];
            rng.FillUniform(values, 0f, 1f);
            var score = Measure(model, attributions with { Values = values }, inputs, baselines, steps, counted);
            for (var k = 0; k <= steps; k++)
            {
                deletion[k] += score.DeletionCurve[k] / RandomDraws;
                insertion[k] += score.InsertionCurve[k] / RandomDraws;
            }
        }
        return new FaithfulnessScore(Area(deletion), Area(insertion), deletion, insertion);
    }

    /// <summary>The target's softmax probability for a classifier (over the classes of its position), the output itself for a regression.</summary>
    private static double Score(AttributionModel model, float[] outputs, int row, int target)
    {
        var o = outputs.AsSpan(row * model.Outputs, model.Outputs);
        return model.IsClassifier ? model.Probability(o, target) : o[target];
    }

    /// <summary>The trapezoid rule over evenly spaced fractions 0..1.</summary>
    private static double Area(double[] curve)
    {
        double area = 0;
        for (var k = 0; k + 1 < curve.Length; k++) area += (curve[k] + curve[k + 1]) / 2;
        return area / (curve.Length - 1);
    }
}
