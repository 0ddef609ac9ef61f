using Dlc.Compiler.Ir;

namespace Dlc.Compiler.Autodiff;

/// <summary>A forward graph extended with the gradient of a scalar loss for every parameter.</summary>
public sealed record GradientGraph(Graph Graph, int Loss, IReadOnlyDictionary<string, int> ParameterGradients);

/// <summary>
/// Reverse-mode differentiation as a compiler pass: walks the graph backwards from the loss, calling
/// each op's backward rule from <see cref="OpTable"/>, and appends the gradient nodes to the graph.
/// Only nodes that depend on a parameter get gradients, so no work is spent on, for example, the
/// gradient of the input images; <see cref="GradientsWithRespectTo"/> asks for exactly such gradients
/// instead (attributions), with the parameters held fixed.
/// </summary>
public static class ReverseMode
{
    public const string GradientPrefix = "grad:";

    public static GradientGraph Differentiate(Graph forward, string lossOutput)
    {
        var loss = ScalarOutput(forward, lossOutput);
        var (builder, gradients) = Backward(forward, loss, RequiresGradient(forward, new HashSet<int>()));

        var parameterGradients = new Dictionary<string, int>();
        var outputs = forward.Outputs.ToList();
        // Parameters that are not trained (batch norm's running statistics) get no gradient.
        foreach (var p in forward.Parameters.Where(p => p.Trainable))
        {
            // A parameter the loss does not depend on still gets a gradient (zero), so optimisers see every parameter.
            var gradient = gradients.TryGetValue(p.Node, out var g) ? g : builder.Constant(0.0, p.Shape);
            parameterGradients[p.Name] = gradient;
            outputs.Add(new GraphOutput(GradientPrefix + p.Name, gradient));
        }
        var graph = builder.Build().WithOutputs(outputs);
        return new GradientGraph(graph, loss, parameterGradients);
    }

    /// <summary>
    /// The gradient of a scalar output with respect to chosen nodes (a model's input, a layer's output) and
    /// nothing else: parameters are held fixed, so no work is spent on their gradients. Each node maps to
    /// its gradient node (a zero constant when the output does not depend on it); the graph's outputs are
    /// unchanged, so the caller names the gradients it wants computed.
    /// </summary>
    public static (Graph Graph, IReadOnlyDictionary<int, int> Gradients) GradientsWithRespectTo(Graph forward, string output, IReadOnlyList<int> nodes)
    {
        var score = ScalarOutput(forward, output);
        var (builder, gradients) = Backward(forward, score, RequiresGradient(forward, nodes.ToHashSet(), parameters: false));
        var chosen = nodes.Distinct().ToDictionary(n => n, n => gradients.TryGetValue(n, out var g) ? g : builder.Constant(0.0, forward[n].Shape));
        return (builder.Build(), chosen);
    }

    private static int ScalarOutput(Graph forward, string name)
    {
        var node = forward.Output(name);
        if (forward[node].Shape.Rank != 0)
            throw new ShapeException($"the loss must be a scalar, `{name}` is {forward[node].Shape}");
        return node;
    }

    /// <summary>Walks the graph backwards from <paramref name="loss"/>, appending each needed node's gradient.</summary>
    private static (GraphBuilder Builder, Dictionary<int, int> Gradients) Backward(Graph forward, int loss, bool[] requiresGradient)
    {
        var builder = new GraphBuilder(forward);
        var contributions = new Dictionary<int, List<int>>();
        void Accumulate(int node, int gradient)
        {
            if (!contributions.TryGetValue(node, out var list)) contributions[node] = list = [];
            list.Add(gradient);
        }

        var context = new BackwardContext(builder, n => requiresGradient[n], Accumulate);
        Accumulate(loss, builder.Constant(1.0, Shape.Scalar));
        var gradients = new Dictionary<int, int>();

        for (var id = loss; id >= 0; id--)
        {
            if (!contributions.TryGetValue(id, out var parts)) continue;
            var node = forward[id];
            context.Origin = node.Origin;
            var gradient = parts[0];
            for (var i = 1; i < parts.Count; i++) gradient = context.Emit(Op.Add, gradient, parts[i]);
            gradients[id] = gradient;
            OpTable.Info(node.Op).Backward?.Invoke(context, node, gradient);
        }
        return (builder, gradients);
    }

    /// <summary>
    /// A node requires a gradient when it is a trainable parameter (when <paramref name="parameters"/>), one
    /// of <paramref name="sources"/>, or a differentiable op of one that does.
    /// </summary>
    private static bool[] RequiresGradient(Graph graph, IReadOnlySet<int> sources, bool parameters = true)
    {
        var requires = new bool[graph.Nodes.Count];
        var frozen = graph.Parameters.Where(p => !p.Trainable).Select(p => p.Node).ToHashSet();
        foreach (var node in graph.Nodes)
        {
            var info = OpTable.Info(node.Op);
            requires[node.Id] = sources.Contains(node.Id)
                || (parameters && node.Op == Op.Parameter && !frozen.Contains(node.Id))
                || (info.IsDifferentiable && node.Inputs.Where((_, i) => !info.NonDifferentiableInputs.Contains(i)).Any(i => requires[i]));
        }
        return requires;
    }
}
