namespace Dlc.Compiler.Ir;

/// <summary>
/// Checks the invariants every pass must keep: ids are positions, every input is defined before its use,
/// each op has its arity and the shape its shape rule gives, parameters and outputs point at real nodes,
/// and no computed node is dangling (nothing reads it and it is not an output). Returns the problems
/// found, one sentence each; an empty list is a well-formed graph.
/// </summary>
public static class IrVerifier
{
    public static IReadOnlyList<string> Verify(Graph graph)
    {
        var problems = new List<string>();
        var structural = false;
        for (var i = 0; i < graph.Nodes.Count; i++)
        {
            var node = graph.Nodes[i];
            if (node.Id != i)
            {
                problems.Add($"the node at position {i} has id %{node.Id}");
                structural = true;
                continue;
            }
            var info = OpTable.Info(node.Op);
            if (info.Arity >= 0 && node.Inputs.Count != info.Arity)
                problems.Add($"%{i} = {info.Name} has {node.Inputs.Count} inputs, the op takes {info.Arity}");
            var undefined = node.Inputs.Where(input => input < 0 || input >= i).ToArray();
            if (undefined.Length > 0)
            {
                problems.Add($"%{i} = {info.Name} uses {string.Join(", ", undefined.Select(u => $"%{u}"))} before it is defined");
                structural = true;
                continue;
            }
            if (node.Inputs.Count == 0) continue;
            try
            {
                var inferred = info.InferShape(node.Inputs.Select(n => graph.Nodes[n].Shape).ToArray(), node.Attributes, node.Shape);
                if (inferred != node.Shape) problems.Add($"%{i} = {info.Name} has shape {node.Shape.ToIrString()}, its inputs give {inferred.ToIrString()}");
            }
            catch (ShapeException e)
            {
                problems.Add($"%{i} = {info.Name}: {e.Message}");
            }
        }
        foreach (var p in graph.Parameters)
        {
            if (p.Node < 0 || p.Node >= graph.Nodes.Count || graph.Nodes[p.Node].Op != Op.Parameter || graph.Nodes[p.Node].Name != p.Name)
                problems.Add($"parameter `{p.Name}` does not name its node %{p.Node}");
            else if (graph.Nodes[p.Node].Shape != p.Shape)
                problems.Add($"parameter `{p.Name}` is {p.Shape.ToIrString()}, its node {graph.Nodes[p.Node].Shape.ToIrString()}");
        }
        foreach (var o in graph.Outputs)
        {
            if (o.Node >= 0 && o.Node < graph.Nodes.Count) continue;
            problems.Add($"output `{o.Name}` refers to %{o.Node}, which does not exist");
            structural = true;
        }
        if (structural) return problems;
        var uses = graph.UseCounts();
        foreach (var node in graph.Nodes)
        {
            // Inputs and parameters are the graph's interface: they stay even where one mode does not read them.
            if (uses[node.Id] == 0 && node.Inputs.Count > 0)
                problems.Add($"%{node.Id} = {OpTable.Info(node.Op).Name} is dangling: nothing reads it and it is no output");
        }
        return problems;
    }
}
