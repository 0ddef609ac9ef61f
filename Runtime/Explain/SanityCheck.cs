using Dlc.Backend;

namespace Dlc.Runtime.Explain;

/// <summary>The rank correlation of the attributions with the model's trained ones after the layers down to <see cref="Layer"/> were redrawn.</summary>
public sealed record SanityStep(string Layer, double Correlation);

/// <summary>
/// The verdict of the cascading randomisation test for one method: it passes when, with every layer
/// redrawn, the attributions' rank correlation with the trained model's is below <see cref="SanityCheck.PassBelow"/>.
/// </summary>
public sealed record SanityResult(MethodKind Method, IReadOnlyList<SanityStep> Steps, bool Passed)
{
    public double Final => Steps.Count == 0 ? 1 : Steps[^1].Correlation;
}

/// <summary>
/// The cascading model-parameter randomisation test of Adebayo et al. 2018 ("Sanity Checks for Saliency
/// Maps"): the layers with parameters are redrawn from their initial distribution one at a time from the
/// output down, cumulatively, and after each the attributions of the same inputs for the same targets are
/// computed again. An explanation that depends on what the model learned changes; one that mostly
/// reflects the input (an edge detector) does not. The similarity is Spearman's rank correlation of the
/// absolute attributions, averaged over the inputs. The trained parameters are put back afterwards.
/// </summary>
public static class SanityCheck
{
    public const double PassBelow = 0.5;

    /// <param name="counted">Which attributions are compared, [count, features]; null compares all. Padding has no
    /// attribution before or after, and its ties would count as agreement.</param>
    public static SanityResult Cascading(AttributionModel model, InputAttribution original, Func<InputAttribution> recompute, ulong seed,
        bool[]? counted = null)
    {
        var runtime = model.Runtime;
        var store = runtime.Parameters;
        var saved = store.Values.Span.ToArray();
        var rng = new Rng(seed).Fork(7);
        var steps = new List<SanityStep>();
        try
        {
            foreach (var layer in runtime.Eval.Layers.Where(l => l.Instance is not null && l.Parameters > 0).Reverse())
            {
                var prefix = layer.Name + ".";
                foreach (var p in runtime.Eval.Graph.Parameters.Where(p => p.Trainable && p.Name.StartsWith(prefix, StringComparison.Ordinal)))
                    store.Initialize(p, rng);
                var randomised = recompute();
                steps.Add(new SanityStep(layer.Name, MeanCorrelation(original, randomised, counted)));
            }
        }
        finally
        {
            saved.CopyTo(store.Values.Span);
        }
        return new SanityResult(original.Method, steps, steps.Count > 0 && steps[^1].Correlation < PassBelow);
    }

    /// <summary>
    /// Spearman's ρ of |a| and |b| for each input, over its <paramref name="counted"/> values (all when null), averaged
    /// over the inputs with at least two of them.
    /// </summary>
    public static double MeanCorrelation(InputAttribution a, InputAttribution b, bool[]? counted = null)
    {
        double sum = 0;
        var inputs = 0;
        for (var i = 0; i < a.Count; i++)
        {
            var mask = counted is null ? Span<bool>.Empty : counted.AsSpan(i * a.SampleSize, a.SampleSize);
            var (x, y) = (Abs(a.Of(i), mask), Abs(b.Of(i), mask));
            if (x.Length < 2) continue;
            sum += Spearman(x, y);
            inputs++;
        }
        return sum / Math.Max(1, inputs);
    }

    private static float[] Abs(ReadOnlySpan<float> x, Span<bool> mask)
    {
        var r = new List<float>(x.Length);
        for (var i = 0; i < x.Length; i++)
        {
            if (mask.IsEmpty || mask[i]) r.Add(Math.Abs(x[i]));
        }
        return [.. r];
    }

    /// <summary>Spearman's rank correlation, ties given their average rank; 0 when either side is constant.</summary>
    public static double Spearman(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var ra = Ranks(a);
        var rb = Ranks(b);
        var mean = (a.Length - 1) / 2.0;
        double cov = 0, va = 0, vb = 0;
        for (var i = 0; i < ra.Length; i++)
        {
            cov += (ra[i] - mean) * (rb[i] - mean);
            va += (ra[i] - mean) * (ra[i] - mean);
            vb += (rb[i] - mean) * (rb[i] - mean);
        }
        return va == 0 || vb == 0 ? 0 : cov / Math.Sqrt(va * vb);
    }

    private static double[] Ranks(ReadOnlySpan<float> x)
    {
        var values = x.ToArray();
        var order = Enumerable.Range(0, values.Length).OrderBy(i => values[i]).ToArray();
        var ranks = new double[values.Length];
        for (var start = 0; start < order.Length;)
        {
            var end = start;
            while (end + 1 < order.Length && values[order[end + 1]] == values[order[start]]) end++;
            var rank = (start + end) / 2.0;
            for (var k = start; k <= end; k++) ranks[order[k]] = rank;
            start = end + 1;
        }
        return ranks;
    }
}
