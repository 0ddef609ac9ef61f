using Dlc.Compiler.Ir;
using Dlc.Diagnostics;
using Dlc.Syntax;

namespace Dlc.Compiler.Elaboration;

/// <summary>One row of a model's layer table (`dlc check`).</summary>
public sealed record LayerRow(LayerInstance? Instance, string Layer, Shape Output, long Parameters, TextSpan Origin)
{
    public string Name => Instance?.Path ?? Layer;
}

/// <summary>
/// Evaluates the syntax of a model into IR: names to values, layers to ops, every shape checked as it is
/// built. The first user error stops elaboration with a <see cref="DiagnosticException"/> at its span.
/// </summary>
public sealed partial class Elaborator
{
    private readonly List<(int Node, LayerInstance Instance, string Suffix)> _parameters = [];
    private readonly List<LayerRow> _rows = [];
    private NameScope _scope;

    public Elaborator(SourceText source, string rootName, bool training)
    {
        Source = source;
        Training = training;
        Root = _scope = new NameScope(rootName, null);
    }

    public SourceText Source { get; }
    public GraphBuilder Builder { get; } = new();

    /// <summary>True when building the training graph (dropout active), false for evaluation and inference.</summary>
    public bool Training { get; }

    public NameScope Root { get; }
    public IReadOnlyList<LayerRow> Rows => _rows;

    public DiagnosticException Error(DiagnosticDescriptor descriptor, TextSpan span, string message, string? help = null) =>
        new(descriptor.At(Source, span, message, help));

    public TensorValue Tensor(int node, string producer, TextSpan producerSpan, TextSpan span) =>
        new(node, Builder[node].Shape, producer, producerSpan, span);

    public LayerInstance NewInstance(string kind) => _scope.NewInstance(kind);

    public int CreateParameter(LayerInstance instance, string suffix, Shape shape, Init init, TextSpan origin)
    {
        var node = Builder.Parameter($"{instance.Kind}.{suffix}", shape, init, origin);
        _parameters.Add((node, instance, suffix));
        return node;
    }

    public void RecordLayer(LayerInstance? instance, string layer, Shape output, long parameters, TextSpan origin) =>
        _rows.Add(new LayerRow(instance, layer, output, parameters, origin));

    /// <summary>Evaluate inside a child naming scope (a call of a user function).</summary>
    public T InScope<T>(string name, Func<T> body)
    {
        var outer = _scope;
        _scope = new NameScope(name, outer);
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
