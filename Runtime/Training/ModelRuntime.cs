using Dlc.Backend;
using Dlc.Backend.Gemm;
using Dlc.Backend.Plans;
using Dlc.Compiler.Autodiff;
using Dlc.Compiler.Elaboration;
using Dlc.Compiler.Ir;
using Dlc.Compiler.Jobs;
using Dlc.Compiler.Passes;

namespace Dlc.Runtime.Training;

/// <summary>
/// A model ready to run: its training graph (with gradients) and evaluation graph, one parameter
/// store they share, and compiled plans per batch size, made on first use and kept.
/// </summary>
public sealed class ModelRuntime : IDisposable
{
    private readonly Dictionary<(bool Train, bool Loss, int Batch, int Steps), ExecutionPlan> _plans = [];
    private readonly Rng _dropout;

    // The inference plans whose weights are packed for the open WeightsFixed scopes, and how many are open.
    private readonly List<ExecutionPlan> _packedPlans = [];
    private int _fixedScopes;

    /// <param name="winograd">Whether plans run 3×3 stride-1 convolutions by Winograd's algorithm where it applies (else im2col).</param>
    /// <param name="labelSmoothing">ε of `crossEntropy { labelSmoothing = ε }` in the training graph; the evaluation graph scores plain cross-entropy.</param>
    public ModelRuntime(CompiledFile file, string model, LossKind loss, IGemm gemm, ulong seed, bool winograd = true, double labelSmoothing = 0)
    {
        Winograd = winograd;
        Eval = file.Elaborate(model, training: false);
        Train = file.Elaborate(model, training: true);
        Loss = loss;
        Gemm = gemm;
        Gradients = TrainingGraph.Build(Train, loss, labelSmoothing);
        EvaluationGraph = TrainingGraph.WithLoss(Eval, loss);
        Parameters = new ParameterStore(Train.Graph.Parameters);
        var root = new Rng(seed);
        Parameters.Initialize(root.Fork(1));
        _dropout = root.Fork(2);
    }

    public ModelGraph Eval { get; }
    public ModelGraph Train { get; }
    public LossKind Loss { get; }
    public IGemm Gemm { get; }
    public GradientGraph Gradients { get; }
    public Graph EvaluationGraph { get; }
    public ParameterStore Parameters { get; }

    /// <summary>Whether plans run 3×3 stride-1 convolutions by Winograd's algorithm where it applies.</summary>
    public bool Winograd { get; }

    /// <summary>The compiler passes run on each graph before its plan is compiled, and the fusions the plan makes.</summary>
    public PassSet Passes { get; init; } = PassSet.All;

    /// <summary>The random stream of dropout masks, saved in checkpoints for an exact resume.</summary>
    public Rng DropoutRng => _dropout;

    public ModelInput Input => Eval.Inputs[0];

    /// <summary>Every input, in the order the model declares them (a sequence-to-sequence model's source, then its decoder's input).</summary>
    public IReadOnlyList<ModelInput> Inputs => Eval.Inputs;

    /// <summary>
    /// Copies the samples at <paramref name="indices"/> into <paramref name="plan"/>'s inputs, and their labels into
    /// <paramref name="targets"/>: one input, or for pairs of sequences the source and the decoder's input.
    /// </summary>
    public void Gather(Data.Dataset data, ReadOnlySpan<int> indices, ExecutionPlan plan, Span<float> targets, Data.ImageAugmentation? augment = null)
    {
        if (data.Pairs is null)
        {
            data.Gather(indices, plan.Input(Input.Name), targets, augment);
            return;
        }
        data.GatherPair(indices, 0, plan.Input(Inputs[0].Name), targets);
        data.GatherPair(indices, 1, plan.Input(Inputs[1].Name), default);
    }

    /// <summary>
    /// The sizes of the symbols of the inputs other than the batch (the first axis): a sequence length T. A plan
    /// binds the batch symbol to its batch size and these to theirs.
    /// </summary>
    public IReadOnlyDictionary<string, int> Lengths { get; init; } = new Dictionary<string, int>();

    /// <summary>Names and shapes of the parameters, to check a checkpoint against.</summary>
    public IReadOnlyList<Checkpoints.ParameterSpec> ParameterSpecs() => ParameterSpecsOf(Train);

    /// <summary>The parameters a model's checkpoints must hold (training and evaluation graphs share them).</summary>
    public static IReadOnlyList<Checkpoints.ParameterSpec> ParameterSpecsOf(ModelGraph model) =>
        model.Graph.Parameters.Select(p => new Checkpoints.ParameterSpec(p.Name, p.Shape.Bind(new Dictionary<string, int>()))).ToArray();

    /// <summary>
    /// A training step: forward, loss, gradients into <see cref="ParameterStore.Gradients"/>. <paramref name="steps"/>
    /// binds the input's length symbol (T) for this plan, when batches of sequences differ in length.
    /// </summary>
    public ExecutionPlan TrainingPlan(int batch, int steps = 0) => Plan(true, true, batch, steps);

    /// <summary>A forward pass in evaluation mode, with the loss when <paramref name="withLoss"/>.</summary>
    public ExecutionPlan InferencePlan(int batch, bool withLoss = false, int steps = 0) => Plan(false, withLoss, batch, steps);

    /// <summary>
    /// A scope in which the parameters do not change (an evaluation, a benchmark's timed inference): each inference plan
    /// used in it packs the weights its products read once, at its first use (see <see cref="ExecutionPlan.PackWeights"/>),
    /// and the copies go when the outermost scope ends.
    /// </summary>
    public IDisposable WeightsFixed()
    {
        _fixedScopes++;
        return new FixedWeights(this);
    }

    private sealed class FixedWeights(ModelRuntime runtime) : IDisposable
    {
        private bool _ended;

        public void Dispose()
        {
            if (_ended) return;
            _ended = true;
            if (--runtime._fixedScopes > 0) return;
            foreach (var plan in runtime._packedPlans) plan.UnpackWeights();
            runtime._packedPlans.Clear();
        }
    }

    private ExecutionPlan Plan(bool train, bool loss, int batch, int steps)
    {
        var plan = CompiledPlan(train, loss, batch, steps);
        if (!train && _fixedScopes > 0 && !plan.WeightsPacked)
        {
            plan.PackWeights();
            _packedPlans.Add(plan);
        }
        return plan;
    }

    private ExecutionPlan CompiledPlan(bool train, bool loss, int batch, int steps)
    {
        if (_plans.TryGetValue((train, loss, batch, steps), out var plan)) return plan;
        var graph = train ? Gradients.Graph : loss ? EvaluationGraph : Eval.Graph;
        var symbols = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var node in graph.Nodes.Where(n => n.Op == Op.Input))
        {
            for (var axis = 0; axis < node.Shape.Rank; axis++)
            {
                if (node.Shape[axis].Symbol is not { } symbol) continue;
                symbols[symbol] = axis == 0 ? batch
                    : steps > 0 && axis == 1 ? steps
                    : Lengths.TryGetValue(symbol, out var length) ? length
                    : throw new InvalidOperationException($"the size of `{symbol}` in {node.Shape} is not known; the data gives it");
            }
        }
        graph = PassPipeline.Run(graph, Passes);
        plan = ExecutionPlan.Compile(graph, Parameters, new PlanOptions(symbols, Gemm) { Rng = _dropout, Winograd = Winograd, Passes = Passes });
        _plans[(train, loss, batch, steps)] = plan;
        return plan;
    }

    public void Dispose()
    {
        foreach (var plan in _plans.Values) plan.Dispose();
        Parameters.Dispose();
    }
}
