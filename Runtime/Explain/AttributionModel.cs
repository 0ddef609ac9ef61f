using Dlc.Backend.Plans;
using Dlc.Compiler.Elaboration;
using Dlc.Compiler.Jobs;
using Dlc.Runtime.Training;

namespace Dlc.Runtime.Explain;

/// <summary>What one gradient pass gives for each sample: its score, d(score)/d(input), and a layer's output and gradient.</summary>
public sealed record GradientPass(float[] Scores, float[] InputGradients, float[]? Layer, float[]? LayerGradients);

/// <summary>
/// A trained model as attribution methods see it: f(x) for many inputs at once, and the gradient of one
/// output (the score of a target class, or a regression output) with respect to the input, run as a
/// compiled plan of <see cref="AttributionGraph"/>. Inputs of any count run in chunks of at most
/// <see cref="ChunkSize"/> samples; a short last chunk is padded so at most two plan sizes are compiled.
/// </summary>
public sealed class AttributionModel : IDisposable
{
    public const int ChunkSize = 64;

    private readonly ModelRuntime _runtime;
    private readonly AttributionGraph _graph;
    private readonly Dictionary<int, ExecutionPlan> _gradientPlans = [];

    public AttributionModel(ModelRuntime runtime, LayerRow? layer = null)
    {
        _runtime = runtime;
        _graph = AttributionGraph.Build(runtime.Eval, layer);
        SampleShape = runtime.Input.Shape.Dims.Skip(1).Select(d => d.Size).ToArray();
        SampleSize = SampleShape.Aggregate(1, (a, b) => a * b);
        var output = runtime.Eval.OutputShape;
        Outputs = output.Dims.Skip(1).Aggregate(1, (a, d) => a * d.Size);
        if (layer is not null) LayerShape = runtime.Eval.Graph[layer.LastNode].Shape.Dims.Skip(1).Select(d => d.Size).ToArray();
    }

    public ModelRuntime Runtime => _runtime;
    public int[] SampleShape { get; }
    public int SampleSize { get; }

    /// <summary>Outputs per sample: classes for a classifier, targets for a regression.</summary>
    public int Outputs { get; }

    public bool IsClassifier => _runtime.Loss == LossKind.CrossEntropy;

    /// <summary>The Grad-CAM layer's output per sample ([C, H, W]), when the model was made with a layer.</summary>
    public int[]? LayerShape { get; }

    /// <summary>Model outputs (logits or regression values) for <paramref name="count"/> samples, [count, Outputs].</summary>
    public float[] Predict(ReadOnlySpan<float> inputs, int count)
    {
        var result = new float[count * Outputs];
        for (var start = 0; start < count; start += ChunkSize)
        {
            var n = Math.Min(ChunkSize, count - start);
            var batch = PlanBatch(count);
            var plan = _runtime.InferencePlan(batch);
            var x = plan.Input(_runtime.Input.Name);
            inputs.Slice(start * SampleSize, n * SampleSize).CopyTo(x);
            x[(n * SampleSize)..].Clear();
            plan.Run();
            plan.Output(ModelGraph.OutputName)[..(n * Outputs)].CopyTo(result.AsSpan(start * Outputs));
        }
        return result;
    }

    /// <summary>The score of output <c>targets[i]</c> for each sample, and its gradients.</summary>
    public GradientPass Gradient(ReadOnlySpan<float> inputs, ReadOnlySpan<int> targets)
    {
        var count = targets.Length;
        var layerSize = LayerShape?.Aggregate(1, (a, b) => a * b) ?? 0;
        var scores = new float[count];
        var gradients = new float[count * SampleSize];
        var layer = LayerShape is null ? null : new float[count * layerSize];
        var layerGradients = LayerShape is null ? null : new float[count * layerSize];
        for (var start = 0; start < count; start += ChunkSize)
        {
            var n = Math.Min(ChunkSize, count - start);
            var plan = GradientPlan(PlanBatch(count));
            var x = plan.Input(_graph.Input);
            inputs.Slice(start * SampleSize, n * SampleSize).CopyTo(x);
            x[(n * SampleSize)..].Clear();
            var select = plan.Input(AttributionGraph.SelectInput);
            select.Clear();
            for (var i = 0; i < n; i++) select[i * Outputs + targets[start + i]] = 1f;
            plan.Run();
            var output = plan.Output(ModelGraph.OutputName);
            for (var i = 0; i < n; i++) scores[start + i] = output[i * Outputs + targets[start + i]];
            plan.Output(AttributionGraph.InputGradientOutput)[..(n * SampleSize)].CopyTo(gradients.AsSpan(start * SampleSize));
            if (layer is not null)
            {
                plan.Output(AttributionGraph.LayerOutput)[..(n * layerSize)].CopyTo(layer.AsSpan(start * layerSize));
                plan.Output(AttributionGraph.LayerGradientOutput)[..(n * layerSize)].CopyTo(layerGradients.AsSpan(start * layerSize));
            }
        }
        return new GradientPass(scores, gradients, layer, layerGradients);
    }

    /// <summary>The score of output <c>targets[i]</c> of each sample, without gradients.</summary>
    public float[] Scores(ReadOnlySpan<float> inputs, ReadOnlySpan<int> targets)
    {
        var outputs = Predict(inputs, targets.Length);
        var scores = new float[targets.Length];
        for (var i = 0; i < scores.Length; i++) scores[i] = outputs[i * Outputs + targets[i]];
        return scores;
    }

    private static int PlanBatch(int count) => Math.Min(count, ChunkSize);

    private ExecutionPlan GradientPlan(int batch)
    {
        if (_gradientPlans.TryGetValue(batch, out var plan)) return plan;
        var symbols = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var node in _graph.Graph.Nodes.Where(n => n.Op == Compiler.Ir.Op.Input))
        {
            foreach (var dim in node.Shape.Dims.Where(d => d.IsSymbolic)) symbols[dim.Symbol!] = batch;
        }
        plan = ExecutionPlan.Compile(_graph.Graph, _runtime.Parameters, new PlanOptions(symbols, _runtime.Gemm));
        _gradientPlans[batch] = plan;
        return plan;
    }

    public void Dispose()
    {
        foreach (var plan in _gradientPlans.Values) plan.Dispose();
        _gradientPlans.Clear();
    }
}
