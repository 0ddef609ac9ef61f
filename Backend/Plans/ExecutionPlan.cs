using Dlc.Backend.Gemm;
using Dlc.Compiler.Ir;
using Dlc.Compiler.Passes;

namespace Dlc.Backend.Plans;

/// <summary>What a plan is compiled for.</summary>
public sealed record PlanOptions(IReadOnlyDictionary<string, int> Symbols, IGemm Gemm)
{
    /// <summary>Random numbers for dropout masks; required when the graph has random ops.</summary>
    public Rng? Rng { get; init; }

    /// <summary>Whether 3×3 stride-1 convolutions run by Winograd's F(2×2, 3×3) where it applies (else im2col everywhere).</summary>
    public bool Winograd { get; init; } = true;

    /// <summary>Which of the backend's fusions the plan makes (<see cref="PassSet.PlanPasses"/>); all by default.</summary>
    public PassSet Passes { get; init; } = PassSet.All;
}

/// <summary>
/// A graph compiled for fixed sizes: every buffer allocated once, every kernel bound to its buffers.
/// <see cref="Run"/> executes the steps in order and allocates nothing, so a training step costs only
/// its arithmetic.
/// </summary>
public sealed partial class ExecutionPlan : IDisposable
{
    private readonly Graph _graph;
    private readonly BufferRef[] _buffers;
    private readonly int[][] _shapes;
    private readonly List<NativeBuffer> _owned = [];
    private readonly Action[] _steps;
    private readonly string[] _labels;
    private readonly ParameterStore _parameters;

    // Batch-parallel window ops (convolution, pooling) split samples over these threads, each running
    // single-threaded products.
    private readonly Kernels.SampleParallel _samples;
    private static readonly IGemm SingleThreaded = new ManagedGemm(1);

    // Steps that also apply the ReLU (or its gradient) that follows them (see ReluFusion).
    private readonly HashSet<int> _reluFused = [];

    // Whether convolutions Winograd's algorithm computes run by it (PlanOptions.Winograd).
    private readonly bool _winograd;

    // The fusions the plan may make (PlanOptions.Passes), and those it made: GEMM groups by product, and the
    // loss computed with each softmax cross-entropy gradient.
    private readonly PassSet _passes;
    private Dictionary<int, GemmFusion> _gemmGroups = [];
    private readonly Dictionary<int, int> _lossOfGradient = [];

    // Layer norm's or batch norm's input-gradient step → the weight-gradient node of the same x and dy it computes too, and
    // the bias gradient (Σ dy) it computes with them.
    private readonly Dictionary<int, int> _normWeightOf = [];
    private readonly Dictionary<int, int> _normBiasOf = [];

    // A convolution's input gradient → its weight gradient of the same dy, computed in the input gradient's step.
    private readonly Dictionary<int, int> _convWeightGradOf = [];

    // A weight gradient's product (dYᵀ·X) → the bias gradient (Σ dY over the batch) it computes as it packs dY.
    private readonly Dictionary<int, int> _biasGradientOf = [];
    private readonly Dictionary<int, ElementwiseFusion> _chains = [];

    // What the plan's description and memory report need: nodes run inside another node's step, the node
    // of each step, and the step each kernel-owned scratch buffer belongs to.
    private readonly Dictionary<int, int> _absorbedBy = [];
    private readonly List<int> _stepNodes = [];
    private readonly Dictionary<NativeBuffer, int> _scratchOf = [];
    private readonly bool[] _live;

    private ExecutionPlan(Graph graph, ParameterStore parameters, PlanOptions options)
    {
        _graph = graph;
        _parameters = parameters;
        _shapes = graph.Nodes.Select(n => n.Shape.Bind(options.Symbols)).ToArray();
        _buffers = new BufferRef[graph.Nodes.Count];
        _samples = new Kernels.SampleParallel(Math.Max(1, options.Gemm.Threads));
        _winograd = options.Winograd;
        _passes = options.Passes;
        var live = Liveness.Needed(graph);
        _live = live;
        AssignBuffers(live);
        DecideFusions(live, options);
        if (options.Passes.Has(PassSet.MemorySharing)) ShareByLiveness();
        var steps = BuildSteps(live, options).ToArray();
        _steps = steps.Select(s => s.Run).ToArray();
        ReleaseFusedAway();
        GemmName = options.Gemm.Name;
        _labels = steps.Select(s => s.Label).ToArray();
    }

    /// <summary>
    /// Compile a graph for fixed sizes. With the "auto" GEMM provider the whole plan is timed once with
    /// each provider and the fastest kept: providers that win single products in isolation can lose
    /// when mixed in one step (MKL's OpenMP threads keep spinning after each call and slow the next
    /// kernel), so the plan, not the product, is the unit of choice.
    /// </summary>
    public static ExecutionPlan Compile(Graph graph, ParameterStore parameters, PlanOptions options)
    {
        if (options.Gemm is not GemmTuner tuner || tuner.Providers.Count < 2) return new(graph, parameters, options);
        // The decision is filed per machine, so later runs of the same plan take the same provider (and
        // give the same numbers for a seed) without timing anything.
        var key = PlanTrial.Key(graph, options.Symbols);
        if (tuner.RememberedPlan(key) is { } known) return new(graph, parameters, options with { Gemm = known });
        // A training step moves state as it runs (batch norm's running statistics): the trial puts it back.
        var state = parameters.Values.Span[parameters.TrainableLength..].ToArray();
        var plan = PlanTrial.Fastest(tuner.Providers.Select(p => new ExecutionPlan(graph, parameters, options with { Gemm = p })).ToList(), options.Rng);
        state.CopyTo(parameters.Values.Span[parameters.TrainableLength..]);
        tuner.RememberPlan(key, plan.GemmName);
        return plan;
    }

    /// <summary>The GEMM provider the plan's products run on.</summary>
    public string GemmName { get; private set; } = "";

    public Graph Graph => _graph;
    public int StepCount => _steps.Length;

    /// <summary>Bytes of activation and gradient buffers this plan owns (parameters excluded).</summary>
    public long BufferBytes => _owned.Sum(b => (long)b.Length * sizeof(float));

    public Span<float> Input(string name) => _buffers[_graph.Input(name).Id].Span;

    public Span<float> Output(string name) => _buffers[_graph.Output(name)].Span;

    public int[] OutputShape(string name) => _shapes[_graph.Output(name)];

    public float Scalar(string name) => Output(name)[0];

    public void Run()
    {
        foreach (var step in _steps) step();
        if (_position is { } position) position.Next += _positionsPerRun;
    }

    /// <summary>Run the plan <paramref name="runs"/> times and return the mean seconds of each step, slowest first.</summary>
    public IReadOnlyList<(string Step, double Seconds)> Profile(int runs)
    {
        var ticks = new long[_steps.Length];
        for (var r = 0; r < runs; r++)
        {
            for (var i = 0; i < _steps.Length; i++)
            {
                var start = System.Diagnostics.Stopwatch.GetTimestamp();
                _steps[i]();
                ticks[i] += System.Diagnostics.Stopwatch.GetTimestamp() - start;
            }
        }
        return ticks.Select((t, i) => (_labels[i], t / (double)System.Diagnostics.Stopwatch.Frequency / runs))
            .OrderByDescending(x => x.Item2).ToArray();
    }

    public void Dispose()
    {
        UnpackWeights();
        foreach (var buffer in _owned) buffer.Dispose();
        _owned.Clear();
        _samples.Dispose();
    }

    private int Count(int node) => _shapes[node].Aggregate(1, (a, d) => a * d);

    /// <summary>
    /// Buffers are allocated per value before fusion is decided; a value a fused step writes into another
    /// node's buffer (a product's result inside its GEMM group, batch norm's output under its ReLU) leaves its
    /// own buffer unread and unwritten. Those are freed: no step holds them.
    /// </summary>
    private void ReleaseFusedAway()
    {
        var used = new HashSet<NativeBuffer>(_scratchOf.Keys);
        foreach (var node in _graph.Nodes.Where(n => _live[n.Id] && !_absorbedBy.ContainsKey(n.Id)))
        {
            used.Add(_buffers[node.Id].Buffer);
            foreach (var input in node.Inputs) used.Add(_buffers[input].Buffer);
        }
        foreach (var output in _graph.Outputs) used.Add(_buffers[output.Node].Buffer);
        foreach (var buffer in _owned.Where(b => !used.Contains(b)).ToList())
        {
            _owned.Remove(buffer);
            buffer.Dispose();
        }
    }

    private BufferRef Allocate(int length)
    {
        var buffer = new NativeBuffer(Math.Max(length, 1));
        _owned.Add(buffer);
        return new BufferRef(buffer, 0, length);
    }

    /// <summary>
    /// Inputs and intermediate values get buffers of their own; parameters and their gradients live in
    /// the <see cref="ParameterStore"/>; a reshape shares its input's buffer.
    /// </summary>
    private void AssignBuffers(bool[] live)
    {
        var gradientOf = _graph.Outputs
            .Where(o => o.Name.StartsWith(Compiler.Autodiff.ReverseMode.GradientPrefix, StringComparison.Ordinal))
            .GroupBy(o => o.Node)
            .ToDictionary(g => g.Key, g => g.First().Name[Compiler.Autodiff.ReverseMode.GradientPrefix.Length..]);
        foreach (var node in _graph.Nodes)
        {
            if (!live[node.Id]) continue;
            var id = node.Id;
            _buffers[id] = node.Op switch
            {
                Op.Parameter => Slot(_parameters.Values, node.Name!),
                Op.Reshape => new BufferRef(_buffers[node.Inputs[0]].Buffer, _buffers[node.Inputs[0]].Offset, Count(id)),
                _ when gradientOf.TryGetValue(id, out var parameter) && node.Op is not (Op.Input or Op.Reshape) => Slot(_parameters.Gradients, parameter),
                _ => Allocate(Count(id)),
            };
        }
    }

    private BufferRef Slot(NativeBuffer arena, string name)
    {
        var (offset, length) = _parameters.Slot(name);
        return new BufferRef(arena, offset, length);
    }
}

/// <summary>Which nodes the outputs depend on; a plan computes nothing else.</summary>
internal static class Liveness
{
    public static bool[] Needed(Graph graph)
    {
        var needed = new bool[graph.Nodes.Count];
        foreach (var output in graph.Outputs) needed[output.Node] = true;
        for (var id = graph.Nodes.Count - 1; id >= 0; id--)
        {
            if (!needed[id]) continue;
            foreach (var input in graph[id].Inputs) needed[input] = true;
        }
        return needed;
    }
}
