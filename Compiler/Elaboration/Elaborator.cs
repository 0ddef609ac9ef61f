using Dlc.Compiler.Ir;
using Dlc.Diagnostics;
using Dlc.Syntax;

namespace Dlc.Compiler.Elaboration;

/// <summary>
/// One row of a model's layer table (`dlc check`): a layer application, where it was written, and the
/// graph nodes it made (<see cref="FirstNode"/> to <see cref="LastNode"/>, for costs).
/// </summary>
public sealed record LayerRow(LayerInstance? Instance, string Layer, Shape Output, long Parameters, Site Origin)
{
    public string Name => Instance?.Path ?? Layer;

    public int FirstNode { get; init; }
    public int LastNode { get; init; }
}

/// <summary>
/// Evaluates the syntax of a model into IR: names to values, layers to ops, every shape checked as it is
/// built. The first user error stops elaboration with a <see cref="DiagnosticException"/> at its span.
/// </summary>
public sealed partial class Elaborator
{
    private readonly List<(int Node, LayerInstance Instance, string Suffix)> _parameters = [];
    private readonly List<LayerRow> _rows = [];
    private readonly Dictionary<int, SourceText> _nodeSources = [];
    private NameScope _scope;

    public Elaborator(SourceText source, string rootName, bool training)
    {
        Main = Source = source;
        Training = training;
        Root = _scope = new NameScope(rootName, null);
    }

    /// <summary>The file being checked; imported files are other sources.</summary>
    public SourceText Main { get; }

    /// <summary>The file whose code is being evaluated now: spans of errors refer to it.</summary>
    public SourceText Source { get; private set; }

    public GraphBuilder Builder { get; } = new();

    /// <summary>True when building the training graph (dropout active), false for evaluation and inference.</summary>
    public bool Training { get; }

    public NameScope Root { get; }
    public IReadOnlyList<LayerRow> Rows => _rows;

    /// <summary>The nodes made by code of an imported file, and that file.</summary>
    public IReadOnlyDictionary<int, SourceText> NodeSources => _nodeSources;

    /// <summary>Cached environments of the files of this program, so each top-level value is made once.</summary>
    internal Dictionary<Module, Env> ModuleEnvironments { get; } = [];

    public Site At(TextSpan span) => new(Source, span);

    public DiagnosticException Error(DiagnosticDescriptor descriptor, TextSpan span, string message, string? help = null) =>
        new(descriptor.At(Source, span, message, help));

    public DiagnosticException Error(DiagnosticDescriptor descriptor, Site site, string message, string? help = null) =>
        new(descriptor.At(site.Source, site.Span, message, help));

    /// <summary>"line 4" in the file being evaluated, or "blocks.dl line 4" for a line of another file.</summary>
    public string Where(Site site)
    {
        var line = site.Source.GetPosition(site.Span.Start).Line;
        return site.Source == Source ? $"line {line}" : $"{Path.GetFileName(site.Source.Path)} line {line}";
    }

    /// <summary>Evaluate code of another file (an imported `let`, the body of a function defined there).</summary>
    public T InSource<T>(SourceText source, Func<T> body)
    {
        var outer = Source;
        Source = source;
        try
        {
            return body();
        }
        finally
        {
            Source = outer;
        }
    }

    /// <summary>Add a node made by the code at <paramref name="origin"/>, remembering its file.</summary>
    public int AddNode(Op op, IReadOnlyList<int> inputs, OpAttributes? attributes, Site origin, Shape? shape = null)
    {
        var node = Builder.Add(op, inputs, attributes, origin.Span, shape);
        if (origin.Source != Main) _nodeSources[node] = origin.Source;
        return node;
    }

    public TensorValue Tensor(int node, string producer, Site producerSite, TextSpan span) =>
        new(node, Builder[node].Shape, producer, producerSite, span);

    public LayerInstance NewInstance(string kind) => _scope.NewInstance(kind);

    public int CreateParameter(LayerInstance instance, string suffix, Shape shape, Init init, Site origin, bool trainable = true)
    {
        if (_weightNorm is not null && trainable && shape.Rank >= 2 && IsWeightMatrix(suffix)) return CreateNormalizedWeight(instance, suffix, shape, init, origin);
        return CreateParameterNode(instance, suffix, shape, init, origin, trainable);
    }

    private int CreateParameterNode(LayerInstance instance, string suffix, Shape shape, Init init, Site origin, bool trainable)
    {
        var node = Builder.Parameter($"{instance.Kind}.{suffix}", shape, init, origin.Span, trainable);
        if (origin.Source != Main) _nodeSources[node] = origin.Source;
        _parameters.Add((node, instance, suffix));
        return node;
    }

    // The weights made while a `weightNorm` layer applies the layer it wraps, and their lengths' sizes.
    private WeightNormCount? _weightNorm;

    private sealed class WeightNormCount
    {
        public long Lengths;
        public int Weights;
    }

    /// <summary>
    /// Apply <paramref name="apply"/> with weight normalisation on: each weight matrix a layer makes meanwhile is
    /// the direction `{name}_v` and the lengths `{name}_g` of PyTorch's weight_norm, joined by a weight_norm node.
    /// Returns how many weights were normalised and how many length parameters that added.
    /// </summary>
    public (T Result, int Weights, long Lengths) WithWeightNorm<T>(Func<T> apply)
    {
        var outer = _weightNorm;
        var count = _weightNorm = new WeightNormCount();
        try
        {
            var result = apply();
            return (result, count.Weights, count.Lengths);
        }
        finally
        {
            _weightNorm = outer;
        }
    }

    /// <summary>Add <paramref name="parameters"/> to the count of the layer table's row <paramref name="row"/>.</summary>
    public void AddRowParameters(int row, long parameters) => _rows[row] = _rows[row] with { Parameters = _rows[row].Parameters + parameters };

    // The weights weight_norm reparameterises: a dense or convolution layer's `weight`, a recurrent layer's
    // `weight_ih_l{k}` and `weight_hh_l{k}` (biases and batch norm's per-channel weights stay as they are).
    private static bool IsWeightMatrix(string suffix) =>
        suffix == "weight" || suffix.StartsWith("weight_ih_", StringComparison.Ordinal) || suffix.StartsWith("weight_hh_", StringComparison.Ordinal);

    private int CreateNormalizedWeight(LayerInstance instance, string suffix, Shape shape, Init init, Site origin)
    {
        // v starts as the plain weight would, g as its row norms, so the layer starts out computing what it would without.
        var v = CreateParameterNode(instance, suffix + "_v", shape, init, origin, trainable: true);
        var lengths = Ops.WeightNormOps.ScaleShape(shape);
        var g = CreateParameterNode(instance, suffix + "_g", lengths, new Init(InitKind.RowNorm), origin, trainable: true);
        _weightNorm!.Weights++;
        _weightNorm.Lengths += shape[0].Size;
        return AddNode(Op.WeightNorm, [v, g], null, origin);
    }

    /// <summary>Add a row to the layer table for the nodes made since <paramref name="firstNode"/>.</summary>
    public void RecordLayer(LayerInstance? instance, string layer, Shape output, long parameters, Site origin, int firstNode) =>
        _rows.Add(new LayerRow(instance, layer, output, parameters, origin) { FirstNode = firstNode, LastNode = Builder.Nodes.Count - 1 });

    /// <summary>Evaluate inside a child naming scope (a call of a user function, whose arguments were written at <paramref name="arguments"/>).</summary>
    public T InScope<T>(string name, Func<T> body, IReadOnlyDictionary<string, TextSpan>? arguments = null)
    {
        var outer = _scope;
        _scope = new NameScope(name, outer) { Arguments = arguments ?? new Dictionary<string, TextSpan>() };
        try
        {
            return body();
        }
        finally
        {
            _scope = outer;
        }
    }

    /// <summary>
    /// Evaluate the value of `let name = ...`. When it is a layer, the layers made for it are named after
    /// the binding (`let encoder = dense 64` gives `encoder.weight`); otherwise naming is unaffected.
    /// </summary>
    public Value EvalBinding(string name, Expr value, Env env)
    {
        var outer = _scope;
        var scope = _scope = new NameScope(name, outer);
        try
        {
            var result = Eval(value, env);
            var instances = scope.Instances().ToList();
            if (result is LayerValue && instances.Count == 1 && scope.Children.Count == 1)
            {
                instances[0].FixedName = name;
                scope.Dissolve();
            }
            else if (result is LayerValue && instances.Count > 1)
            {
                scope.FixedName = name;
            }
            else
            {
                scope.Dissolve();
            }
            return result;
        }
        finally
        {
            _scope = outer;
        }
    }

    /// <summary>Give every parameter its final source-derived name, once all layers exist.</summary>
    public void FinishNames()
    {
        foreach (var (node, instance, suffix) in _parameters) Builder.RenameParameter(node, $"{instance.Path}.{suffix}");
    }
}
