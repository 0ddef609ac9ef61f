namespace Dlc.Runtime.Explain;

/// <summary>
/// Integrated gradients (Sundararajan et al. 2017): a_j = (x_j − x′_j) · ∫₀¹ ∂f/∂x_j(x′ + α(x − x′)) dα.
/// The path integral is an adaptive composite Gauss–Legendre rule. Along the path a ReLU network is piecewise
/// linear, so its gradient jumps where a unit switches, and a fixed rule converges only as 1/steps. But the
/// exact integral of every sub-interval [a, b] is known from two forward passes: completeness says its
/// attributions add up to f(b) − f(a). So the rule starts from <see cref="ExplainSettings.Steps"/> points
/// (<see cref="PointsPerInterval"/> per interval) and halves the intervals whose sums miss their f(b) − f(a)
/// the most, until the misses add up to at most <see cref="ExplainSettings.Tolerance"/> or the budget of 16 ×
/// steps gradients per input is spent. The reported delta |Σ a − (f(x) − f(x′))| is that of the final rule.
/// </summary>
public static class IntegratedGradients
{
    public const int PointsPerInterval = 4;
    private const int SplitsPerRound = 8;

    private sealed class Interval(double a, double b, float fa, float fb, double[] integral)
    {
        public double A { get; } = a;
        public double B { get; } = b;
        public float Fa { get; } = fa;
        public float Fb { get; } = fb;

        /// <summary>∫ from A to B of the gradient, per input element.</summary>
        public double[] Integral { get; } = integral;

        public double Error { get; set; }
    }

    public static InputAttribution Compute(AttributionModel model, float[] inputs, float[] baselines, int[] targets, ExplainSettings settings)
    {
        var (count, size) = (targets.Length, model.SampleSize);
        var (nodes, weights) = GaussLegendre.Rule(PointsPerInterval);
        var initial = Math.Max(1, settings.Steps / PointsPerInterval);
        var budget = 16 * initial;

        // f at the interval boundaries of the initial rule, for every input at once.
        var bounds = Enumerable.Range(0, initial + 1).Select(k => (double)k / initial).ToArray();
        var boundaryScores = Scores(model, inputs, baselines, targets, Enumerable.Range(0, count).SelectMany(i => bounds.Select(t => (i, t))).ToArray());
        var intervals = new List<Interval>[count];
        var pending = new List<(int Input, double A, double B, float Fa, float Fb)>();
        for (var i = 0; i < count; i++)
        {
            intervals[i] = [];
            for (var k = 0; k < initial; k++)
                pending.Add((i, bounds[k], bounds[k + 1], boundaryScores[i * (initial + 1) + k], boundaryScores[i * (initial + 1) + k + 1]));
        }

        var spent = new int[count];
        while (pending.Count > 0)
        {
            foreach (var interval in Integrate(model, inputs, baselines, targets, pending, nodes, weights))
            {
                intervals[interval.Input].Add(interval.Interval);
                spent[interval.Input]++;
            }
            // Halve the worst intervals of each input that misses the tolerance and has budget left.
            var splits = new List<(int Input, Interval Interval)>();
            for (var i = 0; i < count; i++)
            {
                var total = intervals[i].Sum(v => Math.Abs(v.Error));
                if (total <= settings.Tolerance || spent[i] + 2 * SplitsPerRound > budget) continue;
                foreach (var worst in intervals[i].OrderByDescending(v => Math.Abs(v.Error)).Take(SplitsPerRound).Where(v => Math.Abs(v.Error) > 0))
                    splits.Add((i, worst));
            }
            pending.Clear();
            if (splits.Count == 0) break;
            var middles = Scores(model, inputs, baselines, targets, splits.Select(s => (s.Input, (s.Interval.A + s.Interval.B) / 2)).ToArray());
            for (var s = 0; s < splits.Count; s++)
            {
                var (i, v) = splits[s];
                intervals[i].Remove(v);
                var m = (v.A + v.B) / 2;
                pending.Add((i, v.A, m, v.Fa, middles[s]));
                pending.Add((i, m, v.B, middles[s], v.Fb));
            }
        }

        var values = new float[count * size];
        var scores = model.Scores(inputs, targets);
        var baselineScores = model.Scores(baselines, targets);
        var deltas = new double[count];
        for (var i = 0; i < count; i++)
        {
            double total = 0;
            for (var j = 0; j < size; j++)
            {
                double integral = 0;
                foreach (var v in intervals[i]) integral += v.Integral[j];
                var a = (inputs[i * size + j] - baselines[i * size + j]) * integral;
                values[i * size + j] = (float)a;
                total += a;
            }
            deltas[i] = Math.Abs(total - ((double)scores[i] - baselineScores[i]));
        }
        return new InputAttribution(MethodKind.IntegratedGradients, model.SampleShape, targets, scores, values)
        {
            Deltas = deltas,
            BaselineScores = baselineScores,
            Steps = spent.Select(n => n * PointsPerInterval).ToArray(),
        };
    }

    /// <summary>The Gauss–Legendre estimate of each pending interval, all of them in one batched gradient pass.</summary>
    private static IEnumerable<(int Input, Interval Interval)> Integrate(AttributionModel model, float[] inputs, float[] baselines, int[] targets,
        List<(int Input, double A, double B, float Fa, float Fb)> pending, double[] nodes, double[] weights)
    {
        var size = model.SampleSize;
        var k = nodes.Length;
        var rows = new float[pending.Count * k * size];
        var rowTargets = new int[pending.Count * k];
        for (var p = 0; p < pending.Count; p++)
        {
            var (i, a, b, _, _) = pending[p];
            for (var q = 0; q < k; q++)
            {
                Point(inputs, baselines, i, size, a + nodes[q] * (b - a), rows.AsSpan((p * k + q) * size, size));
                rowTargets[p * k + q] = targets[i];
            }
        }
        var gradients = model.Gradient(rows, rowTargets).InputGradients;
        for (var p = 0; p < pending.Count; p++)
        {
            var (i, a, b, fa, fb) = pending[p];
            var integral = new double[size];
            double sum = 0;
            for (var j = 0; j < size; j++)
            {
                double g = 0;
                for (var q = 0; q < k; q++) g += weights[q] * gradients[(p * k + q) * size + j];
                integral[j] = g * (b - a);
                sum += (inputs[i * size + j] - baselines[i * size + j]) * integral[j];
            }
            yield return (i, new Interval(a, b, fa, fb, integral) { Error = sum - ((double)fb - fa) });
        }
    }

    /// <summary>f at x′ + t(x − x′) for each (input, t).</summary>
    private static float[] Scores(AttributionModel model, float[] inputs, float[] baselines, int[] targets, (int Input, double T)[] points)
    {
        var size = model.SampleSize;
        var rows = new float[points.Length * size];
        for (var p = 0; p < points.Length; p++) Point(inputs, baselines, points[p].Input, size, points[p].T, rows.AsSpan(p * size, size));
        return model.Scores(rows, points.Select(p => targets[p.Input]).ToArray());
    }

    private static void Point(float[] inputs, float[] baselines, int i, int size, double t, Span<float> row)
    {
        var alpha = (float)t;
        for (var j = 0; j < size; j++)
        {
            var b = baselines[i * size + j];
            row[j] = b + alpha * (inputs[i * size + j] - b);
        }
    }
}
