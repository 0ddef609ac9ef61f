namespace Dlc.Runtime.Explain;

/// <summary>
/// One method's attributions for a set of inputs: <see cref="Values"/> holds, for each input, one value
/// per input element (row-major [count, sample...]), for the output <see cref="Targets"/> names.
/// </summary>
public sealed record InputAttribution(MethodKind Method, int[] SampleShape, int[] Targets, float[] Scores, float[] Values)
{
    public int Count => Targets.Length;

    public int SampleSize => Values.Length / Math.Max(1, Targets.Length);

    public ReadOnlySpan<float> Of(int input) => Values.AsSpan(input * SampleSize, SampleSize);

    /// <summary>Integrated gradients: |Σ attributions − (f(x) − f(x′))| per input, how far the rule is from exact.</summary>
    public double[]? Deltas { get; init; }

    /// <summary>Integrated gradients: f(x′), the baseline's score, per input.</summary>
    public float[]? BaselineScores { get; init; }

    /// <summary>Integrated gradients: the gradients the adaptive rule took per input.</summary>
    public int[]? Steps { get; init; }

    /// <summary>Grad-CAM: the layer the maps were taken from.</summary>
    public string? Layer { get; init; }
}

/// <summary>Permutation importance of each feature: the drop of a metric when it is shuffled, over repeats.</summary>
public sealed record FeatureImportance(string Metric, double Baseline, double[] Mean, double[] Std, double[][] Repeats);
