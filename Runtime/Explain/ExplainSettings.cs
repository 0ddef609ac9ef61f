namespace Dlc.Runtime.Explain;

/// <summary>The attribution methods `dlc explain` runs.</summary>
public enum MethodKind
{
    Saliency,
    GradientTimesInput,
    SmoothGrad,
    VarGrad,
    IntegratedGradients,
    GradCam,
    Occlusion,
    FeatureAblation,
    Permutation,
}

/// <summary>What an integrated-gradients path starts from (and what deletion replaces features with).</summary>
public enum BaselineKind
{
    Zeros,
    Mean,
    Blurred,
}

/// <summary>Each method's command-line name and what it computes, for `--method` and the docs.</summary>
public static class Methods
{
    public static readonly IReadOnlyList<(string Name, MethodKind Kind, string Summary)> All =
    [
        ("saliency", MethodKind.Saliency, "|d score / d x|: how strongly each input value moves the score"),
        ("gradient-x-input", MethodKind.GradientTimesInput, "d score / d x · x"),
        ("smoothgrad", MethodKind.SmoothGrad, "the gradient averaged over copies of x with Gaussian noise"),
        ("vargrad", MethodKind.VarGrad, "the variance of the gradient over copies of x with Gaussian noise"),
        ("integrated-gradients", MethodKind.IntegratedGradients, "(x − x′) · the gradient integrated along the straight path from a baseline x′ to x"),
        ("grad-cam", MethodKind.GradCam, "ReLU(Σ_c α_c A_c) of a conv layer's feature maps A, α_c the mean gradient of map c, upsampled to the input"),
        ("occlusion", MethodKind.Occlusion, "how much the score drops when a sliding patch of the input is replaced by the baseline"),
        ("feature-ablation", MethodKind.FeatureAblation, "how much the score drops when one input value is replaced by the baseline"),
        ("permutation", MethodKind.Permutation, "how much the model's accuracy (or R²) drops when one feature is shuffled across the samples"),
    ];

    public static string NameOf(MethodKind kind) => All.First(m => m.Kind == kind).Name;

    public static MethodKind? Parse(string name) => All.FirstOrDefault(m => m.Name == name).Name is null ? null : All.First(m => m.Name == name).Kind;

    /// <summary>Methods whose result is one attribution per input value of each explained input.</summary>
    public static bool IsPerInput(MethodKind kind) => kind != MethodKind.Permutation;
}

/// <summary>How `dlc explain` runs its methods; the defaults are the documented ones.</summary>
public sealed record ExplainSettings
{
    /// <summary>The output explained for every input; null takes each input's predicted class (or output 0 of a regression).</summary>
    public int? Target { get; init; }

    public BaselineKind Baseline { get; init; } = BaselineKind.Zeros;

    /// <summary>Integrated gradients: points of the rule along the path before it adapts (see <see cref="IntegratedGradients"/>).</summary>
    public int Steps { get; init; } = 64;

    /// <summary>Integrated gradients: the sum of the sub-intervals' completeness errors the adaptive rule refines the path down to.</summary>
    public double Tolerance { get; init; } = 5e-3;

    /// <summary>SmoothGrad and VarGrad: noisy copies per input.</summary>
    public int Samples { get; init; } = 32;

    /// <summary>SmoothGrad and VarGrad: the noise's standard deviation as a fraction of the input's range (max − min).</summary>
    public double Noise { get; init; } = 0.15;

    /// <summary>Occlusion: the patch's side (images) or length (feature vectors), and its stride.</summary>
    public int Patch { get; init; } = 4;

    public int Stride { get; init; } = 2;

    /// <summary>Permutation importance: shuffles per feature.</summary>
    public int Repeats { get; init; } = 5;

    /// <summary>Grad-CAM's layer, by its source name; null takes the last layer with a feature-map output.</summary>
    public string? Layer { get; init; }

    /// <summary>Deletion and insertion curves: how many steps from nothing to every feature removed or inserted.</summary>
    public int CurveSteps { get; init; } = 20;

    public ulong Seed { get; init; } = 42;
}
