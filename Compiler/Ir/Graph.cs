using Dlc.Diagnostics;

namespace Dlc.Compiler.Ir;

/// <summary>A named result of a graph: a model's output, a loss, a gradient.</summary>
public sealed record GraphOutput(string Name, int Node);

/// <summary>
/// A tensor program: nodes in topological order (every input id is smaller than the node's id),
/// its inputs, trainable parameters and named outputs. Graphs are values: passes return new ones.
/// </summary>
public sealed class Graph
{
    public Graph(IReadOnlyList<Node> nodes, IReadOnlyList<ParameterInfo> parameters, IReadOnlyList<GraphOutput> outputs)
    {
        Nodes = nodes;
        Parameters = parameters;
        Outputs = outputs;
    }

    public IReadOnlyList<Node> Nodes { get; }
    public IReadOnlyList<ParameterInfo> Parameters { get; }
    public IReadOnlyList<GraphOutput> Outputs { get; }

    public IEnumerable<Node> Inputs => Nodes.Where(n => n.Op == Op.Input);

    public Node this[int id] => Nodes[id];

    public Node Input(string name) =>
        Nodes.FirstOrDefault(n => n.Op == Op.Input && n.Name == name)
        ?? throw new KeyNotFoundException($"the graph has no input `{name}`");

    public int Output(string name) =>
        Outputs.FirstOrDefault(o => o.Name == name)?.Node
        ?? throw new KeyNotFoundException($"the graph has no output `{name}`");

    public bool HasOutput(string name) => Outputs.Any(o => o.Name == name);

    public Graph WithOutputs(IReadOnlyList<GraphOutput> outputs) => new(Nodes, Parameters, outputs);

    /// <summary>How many nodes use each node as an input (outputs count as uses).</summary>
    public int[] UseCounts()
    {
        var uses = new int[Nodes.Count];
        foreach (var n in Nodes)
        {
            foreach (var i in n.Inputs) uses[i]++;
        }
        foreach (var o in Outputs) uses[o.Node]++;
        return uses;
    }

    public override string ToString() => IrPrinter.Print(this);
}

/// <summary>Builds a graph node by node, inferring each node's shape through <see cref="OpTable"/>.</summary>
public sealed class GraphBuilder
{
    private readonly List<Node> _nodes = [];
    private readonly List<ParameterInfo> _parameters = [];
    private readonly List<GraphOutput> _outputs = [];

    public GraphBuilder() { }

    /// <summary>Start from an existing graph (its nodes keep their ids).</summary>
    public GraphBuilder(Graph graph)
    {
        _nodes.AddRange(graph.Nodes);
        _parameters.AddRange(graph.Parameters);
        _outputs.AddRange(graph.Outputs);
    }

    public IReadOnlyList<Node> Nodes => _nodes;
    public IReadOnlyList<ParameterInfo> Parameters => _parameters;

    public Node this[int id] => _nodes[id];

    public int Add(Op op, IReadOnlyList<int> inputs, OpAttributes? attributes = null, TextSpan? origin = null, Shape? shape = null)
    {
        attributes ??= OpAttributes.None;
        foreach (var i in inputs)
        {
            if (i < 0 || i >= _nodes.Count) throw new ArgumentException($"{op} uses node %{i}, which does not exist yet");
        }
        var inputShapes = inputs.Select(i => _nodes[i].Shape).ToArray();
        var inferred = OpTable.Info(op).InferShape(inputShapes, attributes, shape);
        var node = new Node(_nodes.Count, op, inputs.ToArray(), inferred, attributes, origin);
        _nodes.Add(node);
        return node.Id;
    }

    public int Add(Op op, params int[] inputs) => Add(op, inputs, null, null);

    public int Input(string name, Shape shape, TextSpan? origin = null) =>
        Add(Op.Input, [], new OpAttributes { Name = name }, origin, shape);

    public int Parameter(string name, Shape shape, Init init, TextSpan? origin = null, bool trainable = true)
    {
        var id = Add(Op.Parameter, [], new OpAttributes { Name = name }, origin, shape);
        _parameters.Add(new ParameterInfo(name, id, shape, init, origin) { Trainable = trainable });
        return id;
    }

    public int Constant(double value, Shape shape) => Add(Op.Constant, [], new OpAttributes { Value = value }, null, shape);

    /// <summary>Rename a parameter once its final, source-derived name is known.</summary>
    public void RenameParameter(int node, string name)
    {
        var index = _parameters.FindIndex(p => p.Node == node);
        _parameters[index] = _parameters[index] with { Name = name };
        _nodes[node] = _nodes[node] with { Attributes = _nodes[node].Attributes with { Name = name } };
    }

    public void Output(string name, int node) => _outputs.Add(new GraphOutput(name, node));

    public Graph Build() => new(_nodes.ToArray(), _parameters.ToArray(), _outputs.ToArray());
}
