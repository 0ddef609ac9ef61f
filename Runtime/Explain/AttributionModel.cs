using Dlc.Backend.Plans;
using Dlc.Compiler.Elaboration;
using Dlc.Compiler.Ir;
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

    // A part of the model (from its embedding on) runs plans of its own; null runs the runtime's.
    private readonly ModelGraph? _view;
    private readonly Dictionary<int, ExecutionPlan> _viewPlans = [];

    // The sizes of the symbols after the batch: the runtime's, or the ones given for this model.
    private readonly IReadOnlyDictionary<string, int> _lengths;

    // Whether the view takes each sequence's length (AttributionGraph.LengthsInput); every sequence is then T long.
    private readonly bool _takesLengths;

    public AttributionModel(ModelRuntime runtime, LayerRow? layer = null) : this(runtime, runtime.Eval, layer)
    {
    }

    /// <param name="model">The evaluation graph the attributions are of: the runtime's model, or a part of it with
    /// the same parameters (<see cref="AttributionGraph.FromEmbedding"/>).</param>
    /// <param name="lengths">The sizes of the input's symbols after the batch (a sequence length T), when they are not
    /// the runtime's: sentences of their own lengths are explained with T set to theirs. A model that takes each
    /// sequence's length (<see cref="AttributionGraph.LengthsInput"/>) is then given T for every sequence.</param>
    public AttributionModel(ModelRuntime runtime, ModelGraph model, LayerRow? layer = null, IReadOnlyDictionary<string, int>? lengths = null)
    {
        _runtime = runtime;
        _lengths = lengths ?? runtime.Lengths;
        _view = ReferenceEquals(model, runtime.Eval) ? null : model;
        _takesLengths = _view is not null && AttributionGraph.TakesLengths(_view);
        _graph = AttributionGraph.Build(model, layer);
        SampleShape = model.Inputs[0].Shape.Dims.Skip(1).Select(d => d.IsSymbolic ? Length(d.Symbol!) : d.Size).ToArray();
        SampleSize = SampleShape.Aggregate(1, (a, b) => a * b);
        var output = model.OutputShape;
        Outputs = output.Dims.Skip(1).Aggregate(1, (a, d) => a * (d.IsSymbolic ? Length(d.Symbol!) : d.Size));
        Classes = output.Last.Size;
        if (layer is not null) LayerShape = model.Graph[layer.LastNode].Shape.Dims.Skip(1).Select(d => d.Size).ToArray();
    }

    public ModelRuntime Runtime => _runtime;
    public int[] SampleShape { get; }
    public int SampleSize { get; }

    /// <summary>Outputs per sample: classes for a classifier, targets for a regression, positions × classes for a model that scores every position.</summary>
    public int Outputs { get; }

    /// <summary>
    /// The size of the output's last axis, over which a classifier's softmax runs: all of <see cref="Outputs"/> for
    /// Tensor[N, classes], the classes of one position for Tensor[N, T, classes]. Output j belongs to position j / Classes.
    /// </summary>
    public int Classes { get; }

    public bool IsClassifier => _runtime.Loss == LossKind.CrossEntropy;

    /// <summary>The Grad-CAM layer's output per sample ([C, H, W]), when the model was made with a layer.</summary>
    public int[]? LayerShape { get; }

    /// <summary>
    /// The class each of <paramref name="count"/> inputs scores highest (the first of equal scores), at
    /// <paramref name="position"/> of a model that scores every position; as an output index, position × Classes + class.
    /// </summary>
    public int[] PredictedClasses(ReadOnlySpan<float> inputs, int count, int position = 0)
    {
        var outputs = Predict(inputs, count);
        var classes = new int[count];
        for (var i = 0; i < count; i++)
        {
            var row = outputs.AsSpan(i * Outputs + position * Classes, Classes);
            for (var c = 1; c < row.Length; c++)
            {
                if (row[c] > row[classes[i]]) classes[i] = c;
            }
            classes[i] += position * Classes;
        }
        return classes;
    }

    /// <summary>
    /// The softmax probability of output <paramref name="target"/> of a row of outputs, over the classes of its position
    /// (all outputs of a classifier of one prediction per input).
    /// </summary>
    public double Probability(ReadOnlySpan<float> outputs, int target)
    {
        var o = outputs.Slice(target / Classes * Classes, Classes);
        var max = double.NegativeInfinity;
        foreach (var v in o) max = Math.Max(max, v);
        double sum = 0;
        foreach (var v in o) sum += Math.Exp(v - max);
        return Math.Exp(o[target % Classes] - max) / sum;
    }

    /// <summary>Model outputs (logits or regression values) for <paramref name="count"/> samples, [count, Outputs].</summary>
    public float[] Predict(ReadOnlySpan<float> inputs, int count)
    {
        var result = new float[count * Outputs];
        for (var start = 0; start < count; start += ChunkSize)
        {
            var n = Math.Min(ChunkSize, count - start);
            var batch = PlanBatch(count);
            var plan = _view is null ? _runtime.InferencePlan(batch) : ViewPlan(batch);
            var x = plan.Input(_graph.Input);
            inputs.Slice(start * SampleSize, n * SampleSize).CopyTo(x);
            x[(n * SampleSize)..].Clear();
            FillLengths(plan);
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
            FillLengths(plan);
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

    /// <summary>Every sequence is T long: the model explains sequences of one length at a time.</summary>
    private void FillLengths(ExecutionPlan plan)
    {
        if (_takesLengths) plan.Input(AttributionGraph.LengthsInput).Fill(SampleShape[0]);
    }

    private static int PlanBatch(int count) => Math.Min(count, ChunkSize);

    /// <summary>
    /// The plans this model compiled of its own (the runtime's plans are the runtime's): one per kind (forward,
    /// gradient) and batch, each compiled once and reused. Padding every call to <see cref="ChunkSize"/> would compile
    /// fewer, but the methods ask for 1, 17 or 42 rows as often as for 64, and running the padding cost more than the
    /// compiling (explain of 20 tagged sentences: 20% more CPU time).
    /// </summary>
    public int PlansCompiled { get; private set; }

    private ExecutionPlan GradientPlan(int batch)
    {
        if (_gradientPlans.TryGetValue(batch, out var plan)) return plan;
        plan = ExecutionPlan.Compile(_graph.Graph, _runtime.Parameters, new PlanOptions(Symbols(_graph.Graph, batch), _runtime.Gemm));
        _gradientPlans[batch] = plan;
        PlansCompiled++;
        return plan;
    }

    private ExecutionPlan ViewPlan(int batch)
    {
        if (_viewPlans.TryGetValue(batch, out var plan)) return plan;
        plan = ExecutionPlan.Compile(_view!.Graph, _runtime.Parameters, new PlanOptions(Symbols(_view.Graph, batch), _runtime.Gemm));
        _viewPlans[batch] = plan;
        PlansCompiled++;
        return plan;
    }

    /// <summary>The first axis of every input is the batch; other symbols (a sequence length T) are the data's.</summary>
    private Dictionary<string, int> Symbols(Graph graph, int batch)
    {
        var symbols = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var node in graph.Nodes.Where(n => n.Op == Op.Input))
        {
            for (var axis = 0; axis < node.Shape.Rank; axis++)
            {
                if (node.Shape[axis].Symbol is { } symbol) symbols[symbol] = axis == 0 ? batch : Length(symbol);
            }
        }
        return symbols;
    }

    private int Length(string symbol) => _lengths.TryGetValue(symbol, out var length) ? length
        : throw new InvalidOperationException($"the size of `{symbol}` is not known; the data gives it");

    public void Dispose()
    {
        foreach (var plan in _gradientPlans.Values.Concat(_viewPlans.Values)) plan.Dispose();
        _gradientPlans.Clear();
        _viewPlans.Clear();
    }
}
