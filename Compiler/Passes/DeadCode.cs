using Dlc.Compiler.Ir;

namespace Dlc.Compiler.Passes;

/// <summary>
/// `dead-code`: removes every computed node no output depends on and renumbers the rest in order.
/// Inputs and parameters stay (they are the graph's interface, and checkpoints name every parameter).
/// Returns the same graph when nothing is dead.
/// </summary>
public static class DeadCode
{
    public const string Name = "dead-code";
    public const string Summary = "remove nodes no output depends on";

    public static Graph Run(Graph graph)
    {
        var keep = new bool[graph.Nodes.Count];
        foreach (var output in graph.Outputs) keep[output.Node] = true;
        for (var id = graph.Nodes.Count - 1; id >= 0; id--)
        {
            var node = graph[id];
            if (node.Op is Op.Input or Op.Parameter) keep[id] = true;
            if (!keep[id]) continue;
            foreach (var input in node.Inputs) keep[input] = true;
        }
        if (keep.All(k => k)) return graph;
        var newId = new int[graph.Nodes.Count];
        var nodes = new List<Node>();
        foreach (var node in graph.Nodes)
        {
            if (!keep[node.Id]) continue;
            newId[node.Id] = nodes.Count;
            nodes.Add(node with { Id = nodes.Count, Inputs = node.Inputs.Select(i => newId[i]).ToArray() });
        }
        return new Graph(nodes,
            graph.Parameters.Select(p => p with { Node = newId[p.Node] }).ToArray(),
            graph.Outputs.Select(o => o with { Node = newId[o.Node] }).ToArray());
    }
}
