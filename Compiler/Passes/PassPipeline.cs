using Dlc.Compiler.Ir;

namespace Dlc.Compiler.Passes;

/// <summary>One graph-to-graph pass: a short name, what it does, and the function.</summary>
public sealed record GraphPass(string Name, string Summary, Func<Graph, Graph> Run);

/// <summary>
/// The passes the compiler applies to a graph before the backend compiles it, in order (`dlc compile
/// --emit ir-opt` prints the result). Fusions are chosen by the backend for a plan and are shown by
/// `--emit plan` and `--report`.
/// </summary>
public static class PassPipeline
{
    public static IReadOnlyList<GraphPass> All { get; } =
    [
        new(DeadCode.Name, DeadCode.Summary, DeadCode.Run),
    ];

    public static Graph Run(Graph graph, Action<GraphPass, Graph>? afterEach = null)
    {
        foreach (var pass in All)
        {
            graph = pass.Run(graph);
            afterEach?.Invoke(pass, graph);
        }
        return graph;
    }
}
