using Dlc.Compiler.Ir;
using Dlc.Diagnostics;

namespace Dlc.Compiler.Passes;

/// <summary>
/// Rebuilds a graph in one forward sweep: each node is either copied (its inputs renamed to the new ids) or
/// replaced by what a pass builds for it, which may be an earlier node of the new graph. Nodes left unread by
/// the replacements are then removed (<see cref="DeadCode"/>), so every pass hands on a graph the verifier accepts.
/// </summary>
internal sealed class GraphRewriter
{
    private readonly List<Node> _nodes = [];
    private readonly int[] _newId;

    private GraphRewriter(Graph graph)
    {
        Graph = graph;
        _newId = new int[graph.Nodes.Count];
    }

    /// <summary>The graph being rewritten.</summary>
    public Graph Graph { get; }

    /// <summary>The new id of an input of the node being rewritten (inputs always come first).</summary>
    public int this[int oldId] => _newId[oldId];

    /// <summary>How many nodes the new graph has so far: the id the next copied node gets.</summary>
    public int Count => _nodes.Count;

    /// <summary>A node of the new graph.</summary>
    public Node New(int newId) => _nodes[newId];

    /// <summary>Add a node to the new graph; its inputs are new ids and its shape comes from the op's shape rule.</summary>
    public int Add(Op op, IReadOnlyList<int> inputs, OpAttributes attributes, TextSpan? origin, Shape? declared = null)
    {
        var shape = OpTable.Info(op).InferShape(inputs.Select(i => _nodes[i].Shape).ToArray(), attributes, declared);
        _nodes.Add(new Node(_nodes.Count, op, inputs.ToArray(), shape, attributes, origin));
        return _nodes.Count - 1;
    }

    public int Constant(double value, Shape shape, TextSpan? origin) =>
        Add(Op.Constant, [], new OpAttributes { Value = value }, origin, shape);

    /// <summary>
    /// Rewrite <paramref name="graph"/>: <paramref name="replace"/> returns the new id that stands for a node, or
    /// null to copy it. Returns the same graph when nothing was replaced.
    /// </summary>
    public static Graph Run(Graph graph, Func<Node, GraphRewriter, int?> replace)
    {
        var rewriter = new GraphRewriter(graph);
        var changed = false;
        foreach (var node in graph.Nodes)
        {
            if (replace(node, rewriter) is { } replacement)
            {
                rewriter._newId[node.Id] = replacement;
                changed = true;
                continue;
            }
            rewriter._newId[node.Id] = rewriter._nodes.Count;
            rewriter._nodes.Add(node with { Id = rewriter._nodes.Count, Inputs = node.Inputs.Select(i => rewriter._newId[i]).ToArray() });
        }
        if (!changed) return graph;
        var rewritten = new Graph(rewriter._nodes,
            graph.Parameters.Select(p => p with { Node = rewriter._newId[p.Node] }).ToArray(),
            graph.Outputs.Select(o => o with { Node = rewriter._newId[o.Node] }).ToArray());
        return DeadCode.Run(rewritten);
    }
}
