using Dlc.Compiler.Ir;

namespace Dlc.Compiler.Passes;

/// <summary>
/// `cse`: two nodes with the same op, attributes, inputs and shape compute the same tensor, so the later one
/// is replaced by the earlier. Random ops (each dropout mask is its own draw), inputs, parameters and a
/// training batch norm (it moves the running statistics each time it runs) are never merged.
/// </summary>
public static class CommonSubexpressions
{
    public const string Name = "cse";
    public const string Summary = "compute each distinct expression once";

    public static Graph Run(Graph graph)
    {
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        return GraphRewriter.Run(graph, (node, r) =>
        {
            var info = OpTable.Info(node.Op);
            if (node.Op is Op.Input or Op.Parameter || info.IsRandom || node.Op == Op.BatchNorm && node.Attributes.Training) return null;
            var key = $"{info.Name} {node.Attributes} ({string.Join(",", node.Inputs.Select(i => r[i]))}) : {node.Shape.ToIrString()}";
            if (seen.TryGetValue(key, out var earlier)) return earlier;
            // The copy gets the next id of the new graph.
            seen[key] = r.Count;
            return null;
        });
    }
}
