using Dlc.Compiler.Ir;

namespace Dlc.Compiler.Passes;

/// <summary>One graph-to-graph pass: a short name, what it does, and the function.</summary>
public sealed record GraphPass(string Name, string Summary, Func<Graph, Graph> Run);

/// <summary>
/// The passes the compiler applies to a graph before the backend compiles it, in order (`dlc compile
/// --emit ir-opt` prints the result). The backend's fusions, chosen when a plan is compiled, are the
/// <see cref="PassSet.PlanPasses"/>; `--emit plan` and `--report` show them.
/// </summary>
public static class PassPipeline
{
    public static IReadOnlyList<GraphPass> All { get; } =
    [
        new(ConstantFolding.Name, ConstantFolding.Summary, ConstantFolding.Run),
        new(CommonSubexpressions.Name, CommonSubexpressions.Summary, CommonSubexpressions.Run),
        new(ConvBatchNormFolding.Name, ConvBatchNormFolding.Summary, ConvBatchNormFolding.Run),
        new(DeadCode.Name, DeadCode.Summary, DeadCode.Run),
    ];

    /// <summary>Run the graph passes <paramref name="passes"/> enables (all by default), in pipeline order.</summary>
    public static Graph Run(Graph graph, PassSet? passes = null, Action<GraphPass, Graph>? afterEach = null)
    {
        foreach (var pass in All)
        {
            if (passes is not null && !passes.Has(pass.Name)) continue;
            graph = pass.Run(graph);
            afterEach?.Invoke(pass, graph);
        }
        return graph;
    }

    public static Graph Run(Graph graph, Action<GraphPass, Graph> afterEach) => Run(graph, null, afterEach);
}
