using Dlc.Compiler.Elaboration;
using Dlc.Compiler.Jobs;
using Dlc.Diagnostics;
using Dlc.Runtime.Training;

namespace Dlc.Runtime.Explain;

/// <summary>The samples a run explains: values [count, sample...], labels [count, TargetSize], and which rows of which split they are.</summary>
public sealed record ExplainInputs(string Split, int First, float[] Values, float[] Labels)
{
    /// <summary>Labels per sample: 1, or T for a model that predicts every position of a sequence.</summary>
    public int TargetSize { get; init; } = 1;

    /// <summary>False for texts from the command line, which have no labels.</summary>
    public bool HasLabels { get; init; } = true;

    public int Count => Labels.Length / TargetSize;
}

/// <summary>One method's results: per-input attributions, or feature importances, with their checks.</summary>
public sealed record MethodResult(MethodKind Method)
{
    public InputAttribution? Attribution { get; init; }
    public FeatureImportance? Importance { get; init; }
    public FaithfulnessScore? Faithfulness { get; init; }
    public SanityResult? Sanity { get; init; }
    public double Seconds { get; init; }
}

/// <summary>
/// Runs attribution methods on a trained model: chooses each input's target (its predicted class unless
/// one is given), builds baselines, and adds the deletion/insertion scores and, when asked, the cascading
/// randomisation test to each per-input method.
/// </summary>
public sealed class Explainer : IDisposable
{
    private readonly ModelRuntime _runtime;
    private readonly ExplainSettings _settings;
    private readonly float[]? _meanSample;
    private AttributionModel? _plain;
    private AttributionModel? _withLayer;

    /// <param name="meanSample">The data set's mean sample, for `--baseline mean` and feature ablation of vectors.</param>
    public Explainer(ModelRuntime runtime, ExplainSettings settings, float[]? meanSample)
    {
        _runtime = runtime;
        _settings = settings;
        _meanSample = meanSample;
        Check(runtime.Eval);
    }

    public LayerRow? GradCamLayer { get; private set; }

    /// <summary>The output explained for each input: <see cref="ExplainSettings.Target"/>, or the predicted class (output 0 of a regression).</summary>
    public int[] Targets(float[] inputs, int count)
    {
        var model = Plain;
        if (_settings.Target is { } t)
        {
            if (t < 0 || t >= model.Outputs)
                throw new DiagnosticException(DiagnosticCatalog.InvalidOption.At(null, default,
                    $"--target {t}: `{_runtime.Eval.Name}` has {model.Outputs} output{(model.Outputs == 1 ? "" : "s")} (0 to {model.Outputs - 1})"));
            return Enumerable.Repeat(t, count).ToArray();
        }
        if (!model.IsClassifier) return new int[count];
        return model.PredictedClasses(inputs, count);
    }

    /// <summary>Checks that the methods fit the model before anything runs (DL0409, DL0208).</summary>
    public void Prepare(IReadOnlyList<MethodKind> methods)
    {
        var sample = Plain.SampleShape;
        var image = sample.Length is 2 or 3;
        foreach (var method in methods)
        {
            if (method == MethodKind.GradCam) GradCamLayer = ChooseLayer();
            if (method == MethodKind.Permutation && sample.Length != 1)
                throw NotFitting($"`permutation` shuffles the features of tabular inputs, but `{_runtime.Input.Name}` is {_runtime.Input.Shape}",
                    "use `occlusion` or `feature-ablation` for images");
        }
        if (_settings.Baseline == BaselineKind.Blurred && !image)
            throw NotFitting($"`--baseline blurred` blurs images, but `{_runtime.Input.Name}` is {_runtime.Input.Shape}", "use `zeros` or `mean`");
    }

    public MethodResult Run(MethodKind method, ExplainInputs inputs, int[] targets, bool sanity)
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        if (method == MethodKind.Permutation)
        {
            var importance = PerturbationMethods.Permutation(Plain, inputs.Values, inputs.Labels, _settings);
            return new MethodResult(method) { Importance = importance, Seconds = started.Elapsed.TotalSeconds };
        }
        var baselines = Baseline(method, inputs.Values);
        InputAttribution Compute() => Attribute(method, inputs.Values, baselines, targets);
        var attribution = Compute();
        var faithfulness = Faithfulness.Measure(Plain, attribution, inputs.Values, Baselines.For(DeletionBaseline, inputs.Values, Plain.SampleShape, _meanSample), _settings.CurveSteps);
        var check = sanity ? SanityCheck.Cascading(Plain, attribution, Compute, _settings.Seed) : null;
        return new MethodResult(method) { Attribution = attribution, Faithfulness = faithfulness, Sanity = check, Seconds = started.Elapsed.TotalSeconds };
    }

    /// <summary>Inputs per block: methods that run many changed copies of each input hold a block's copies in memory at once.</summary>
    public const int BlockSize = 16;

    /// <summary>
    /// One per-input method on its own (tests and the randomisation test call this), over blocks of
    /// <see cref="BlockSize"/> inputs so that memory stays bounded however many inputs are explained.
    /// </summary>
    public InputAttribution Attribute(MethodKind method, float[] inputs, float[] baselines, int[] targets)
    {
        if (targets.Length <= BlockSize) return AttributeBlock(method, inputs, baselines, targets);
        var size = inputs.Length / targets.Length;
        var blocks = new List<InputAttribution>();
        for (var start = 0; start < targets.Length; start += BlockSize)
        {
            var n = Math.Min(BlockSize, targets.Length - start);
            blocks.Add(AttributeBlock(method, inputs[(start * size)..((start + n) * size)], baselines[(start * size)..((start + n) * size)], targets[start..(start + n)]));
        }
        var first = blocks[0];
        return first with
        {
            Targets = targets,
            Scores = [.. blocks.SelectMany(b => b.Scores)],
            Values = [.. blocks.SelectMany(b => b.Values)],
            Deltas = first.Deltas is null ? null : [.. blocks.SelectMany(b => b.Deltas!)],
            BaselineScores = first.BaselineScores is null ? null : [.. blocks.SelectMany(b => b.BaselineScores!)],
            Steps = first.Steps is null ? null : [.. blocks.SelectMany(b => b.Steps!)],
        };
    }

    private InputAttribution AttributeBlock(MethodKind method, float[] inputs, float[] baselines, int[] targets) => method switch
    {
        MethodKind.Saliency => GradientMethods.Saliency(Plain, inputs, targets),
        MethodKind.GradientTimesInput => GradientMethods.GradientTimesInput(Plain, inputs, targets),
        MethodKind.SmoothGrad => GradientMethods.NoisyGradients(Plain, inputs, targets, _settings, variance: false),
        MethodKind.VarGrad => GradientMethods.NoisyGradients(Plain, inputs, targets, _settings, variance: true),
        MethodKind.IntegratedGradients => IntegratedGradients.Compute(Plain, inputs, baselines, targets, _settings),
        MethodKind.GradCam => GradientMethods.GradCam(WithLayer, inputs, targets, GradCamLayer!.Name),
        MethodKind.Occlusion => PerturbationMethods.Occlusion(Plain, inputs, baselines, targets, _settings),
        MethodKind.FeatureAblation => PerturbationMethods.FeatureAblation(Plain, inputs, baselines, targets),
        _ => throw new ArgumentOutOfRangeException(nameof(method), method, "not a per-input method"),
    };

    /// <summary>
    /// The baseline a method replaces values with: the chosen one for integrated gradients and occlusion; for
    /// ablation of a feature vector the data's mean unless another is chosen, as zero is rarely a neutral value there.
    /// </summary>
    public float[] Baseline(MethodKind method, float[] inputs)
    {
        var kind = method == MethodKind.FeatureAblation && Plain.SampleShape.Length == 1 && _settings.Baseline == BaselineKind.Zeros && _meanSample is not null
            ? BaselineKind.Mean
            : _settings.Baseline;
        return Baselines.For(kind, inputs, Plain.SampleShape, _meanSample);
    }

    private BaselineKind DeletionBaseline => _settings.Baseline == BaselineKind.Zeros && Plain.SampleShape.Length == 1 && _meanSample is not null ? BaselineKind.Mean : _settings.Baseline;

    private AttributionModel Plain => _plain ??= new AttributionModel(_runtime);

    private AttributionModel WithLayer => _withLayer ??= new AttributionModel(_runtime, GradCamLayer);

    private LayerRow ChooseLayer()
    {
        var model = _runtime.Eval;
        if (_settings.Layer is { } name)
        {
            var layer = AttributionGraph.FindLayer(model, name);
            if (model.Graph[layer.LastNode].Shape.Rank != 4)
                throw NotFitting($"`grad-cam` weighs feature maps Tensor[N, C, H, W], but `{name}` gives {model.Graph[layer.LastNode].Shape}",
                    AttributionGraph.FeatureMapLayers(model).FirstOrDefault() is { } conv ? $"try `--layer {Short(model, conv)}`" : null);
            return layer;
        }
        return AttributionGraph.FeatureMapLayers(model).FirstOrDefault()
            ?? throw NotFitting($"`grad-cam` needs a layer with feature maps Tensor[N, C, H, W], and `{model.Name}` has none",
                "use `integrated-gradients` or `saliency`");
    }

    private static string Short(ModelGraph model, LayerRow layer) =>
        layer.Name.StartsWith(model.Name + ".", StringComparison.Ordinal) ? layer.Name[(model.Name.Length + 1)..] : layer.Name;

    private static DiagnosticException NotFitting(string message, string? help) =>
        new(DiagnosticCatalog.MethodDoesNotFit.At(null, default, message, help));

    /// <summary>Attributions need one input of real numbers and one output Tensor[N, outputs].</summary>
    private static void Check(ModelGraph model)
    {
        if (model.Inputs.Count != 1 || model.Inputs[0].IsIndex)
            throw new DiagnosticException(DiagnosticCatalog.MethodDoesNotFit.At(model.Source, model.Span,
                $"`{model.Name}` takes {(model.Inputs.Count == 1 ? "token indices" : $"{model.Inputs.Count} inputs")}; `dlc explain` attributes one input of real numbers",
                "attributions of token sequences wait for the sequence engine"));
        if (!model.HasSingleOutput || model.OutputShape.Rank != 2)
            throw new DiagnosticException(DiagnosticCatalog.MethodDoesNotFit.At(model.Source, model.Span,
                $"`dlc explain` attributes an output Tensor[N, outputs], but `{model.Name}` returns {(model.HasSingleOutput ? model.OutputShape.ToString() : "a record")}"));
    }

    public void Dispose()
    {
        _plain?.Dispose();
        _withLayer?.Dispose();
    }
}
