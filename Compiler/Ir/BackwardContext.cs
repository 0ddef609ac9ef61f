using Dlc.Diagnostics;

namespace Dlc.Compiler.Ir;

/// <summary>What a backward rule sees: the graph being extended and which nodes need a gradient.</summary>
public sealed class BackwardContext
{
    private readonly Action<int, int> _accumulate;
    private readonly Func<int, bool> _needsGradient;

    internal BackwardContext(GraphBuilder builder, Func<int, bool> needsGradient, Action<int, int> accumulate)
    {
        Builder = builder;
        _needsGradient = needsGradient;
        _accumulate = accumulate;
    }

    public GraphBuilder Builder { get; }

    /// <summary>The span gradient nodes are attributed to (the forward node's source).</summary>
    public TextSpan? Origin { get; internal set; }

    public bool NeedsGradient(int node) => _needsGradient(node);

    /// <summary>Add <paramref name="gradient"/> to the gradient of <paramref name="node"/>.</summary>
    public void Accumulate(int node, int gradient) => _accumulate(node, gradient);

    public int Emit(Op op, params int[] inputs) => Builder.Add(op, inputs, null, Origin);

    public int Emit(Op op, OpAttributes attributes, params int[] inputs) => Builder.Add(op, inputs, attributes, Origin);

    public Shape ShapeOf(int node) => Builder[node].Shape;
}
