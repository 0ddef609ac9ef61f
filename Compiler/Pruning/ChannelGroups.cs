using Dlc.Compiler.Ir;

namespace Dlc.Compiler.Pruning;

/// <summary>
/// How a parameter is cut when channels of a group go: along <see cref="Axis"/>, each channel owning
/// <see cref="Multiplicity"/> consecutive entries (a flattened C×H×W map gives each channel H·W columns of the next dense weight).
/// </summary>
public sealed record ChannelSlice(string Parameter, int Axis, int Group, int Multiplicity);

/// <summary>
/// Channels that must be pruned together: the outputs of one dense or convolution layer, or of several
/// joined by a residual add. <see cref="Producers"/> are the weights whose rows make the channels,
/// <see cref="Scales"/> the batch-norm scales that follow them. A frozen group keeps every channel.
/// </summary>
public sealed record ChannelGroup(int Id, int Channels, IReadOnlyList<string> Producers, IReadOnlyList<string> Scales, string? FrozenBecause)
{
    public bool Frozen => FrozenBecause is not null;
}

/// <summary>The channel groups of a model and every parameter cut that removing their channels implies.</summary>
public sealed record ChannelPlan(IReadOnlyList<ChannelGroup> Groups, IReadOnlyList<ChannelSlice> Slices);

/// <summary>
/// Finds which output channels of dense and convolution layers can be removed and what else must be cut
/// with them, by following each layer's channels through the graph: ops that keep channels apart
/// (bias, batch norm, ReLU, tanh, GELU, pooling, flatten) carry them to the next layer, whose input columns
/// or channels go too; a residual add joins its operands' channels into one group, pruned together or not at
/// all. Channels that reach anything else (the model's output, a concat, a sigmoid, whose 0 is not 0.5...)
/// are kept, with the reason.
/// </summary>
public static class ChannelGroups
{
    public static ChannelPlan Analyze(Graph graph)
    {
        var a = new Analysis(graph);
        foreach (var node in graph.Nodes) a.Visit(node);
        foreach (var output in graph.Outputs) a.Freeze(output.Node, $"it is the model's output `{output.Name}`");
        return a.Result();
    }

    private sealed class Analysis(Graph graph)
    {
        private readonly int[] _group = Enumerable.Repeat(-1, graph.Nodes.Count).ToArray();
        private readonly int[] _multiplicity = new int[graph.Nodes.Count];
        private readonly List<int> _parent = [];
        private readonly List<int> _channels = [];
        private readonly List<List<string>> _producers = [];
        private readonly List<List<string>> _scales = [];
        private readonly List<string?> _frozen = [];
        private readonly List<ChannelSlice> _slices = [];
        private readonly Dictionary<string, int> _producedBy = new(StringComparer.Ordinal);

        public void Visit(Node n)
        {
            var x = n.Inputs.Count > 0 ? n.Inputs[0] : -1;
            switch (n.Op)
            {
                case Op.Input or Op.Parameter or Op.Constant:
                    return;
                case Op.MatMul or Op.Conv2d or Op.Conv1d when graph[n.Inputs[1]].Op == Op.WeightNorm && IsParameter(graph[n.Inputs[1]].Inputs[1]):
                {
                    // Named by its weight_g, the scale of each row. Its channels stay, and so do those it reads:
                    // without its columns a row of weight_v would have another norm.
                    var g = Produce(n, Name(graph[n.Inputs[1]].Inputs[1]));
                    _frozen[g] ??= "a `weightNorm` layer keeps its channels";
                    if (Spaced(x)) Freeze(x, $"{Describe(n)} reads it through a `weightNorm` layer, whose rows' norms would change");
                    return;
                }
                case Op.Conv2d or Op.Conv1d when IsParameter(n.Inputs[1]) && n.Attributes.Groups == 1:
                {
                    var weight = Name(n.Inputs[1]);
                    var g = Produce(n, weight);
                    if (n.Inputs.Count > 2 && IsParameter(n.Inputs[2])) _slices.Add(new(Name(n.Inputs[2]), 0, g, 1));
                    if (Spaced(x))
                    {
                        if (_multiplicity[x] == 1) _slices.Add(new(weight, 1, _group[x], 1));
                        else Freeze(x, $"{Describe(n)} reads it after a reshape");
                    }
                    return;
                }
                case Op.MatMul when !n.Attributes.TransA && n.Attributes.TransB && IsParameter(n.Inputs[1]):
                {
                    var weight = Name(n.Inputs[1]);
                    Produce(n, weight);
                    if (Spaced(x)) _slices.Add(new(weight, 1, _group[x], _multiplicity[x]));
                    return;
                }
                case Op.BiasAdd when Spaced(x) && IsParameter(n.Inputs[1]) && _multiplicity[x] == 1:
                    _slices.Add(new(Name(n.Inputs[1]), 0, _group[x], 1));
                    Carry(n, x);
                    return;
                case Op.BatchNorm when Spaced(x) && n.Inputs.Skip(1).Take(4).All(IsParameter):
                    for (var i = 1; i <= 4; i++) _slices.Add(new(Name(n.Inputs[i]), 0, _group[x], 1));
                    _scales[Find(_group[x])].Add(Name(n.Inputs[1]));
                    Carry(n, x);
                    return;
                case Op.Relu or Op.Tanh or Op.Gelu or Op.MaxPool or Op.AvgPool or Op.GlobalAvgPool or Op.Upsample or Op.Scale when Spaced(x):
                    Carry(n, x);
                    return;
                case Op.Reshape when Spaced(x) && ChannelMajorFlatten(graph[x].Shape, n.Shape) is { } perChannel:
                    Carry(n, x);
                    _multiplicity[n.Id] = _multiplicity[x] * perChannel;
                    return;
                case Op.Add or Op.Subtract when n.Inputs.All(Spaced) && graph[n.Inputs[0]].Shape == graph[n.Inputs[1]].Shape
                                                  && _multiplicity[n.Inputs[0]] == _multiplicity[n.Inputs[1]]:
                    Union(_group[n.Inputs[0]], _group[n.Inputs[1]]);
                    Carry(n, x);
                    return;
            }
            foreach (var input in n.Inputs.Where(Spaced)) Freeze(input, $"{Describe(n)} reads it");
        }

        public void Freeze(int node, string reason)
        {
            if (!Spaced(node)) return;
            var root = Find(_group[node]);
            _frozen[root] ??= reason;
        }

        public ChannelPlan Result()
        {
            var roots = Enumerable.Range(0, _parent.Count).Where(g => Find(g) == g).ToList();
            var groups = roots.Select(g => new ChannelGroup(g, _channels[g], _producers[g], _scales[g], _frozen[g])).ToList();
            var slices = _slices.Select(s => s with { Group = Find(s.Group) }).Distinct().ToList();
            return new ChannelPlan(groups, slices);
        }

        private int Produce(Node n, string weight)
        {
            // A layer applied twice makes the same channels twice: both uses are one group.
            int g;
            if (_producedBy.TryGetValue(weight, out var existing))
            {
                g = Find(existing);
            }
            else
            {
                g = NewGroup(n.Shape[n.Op == Op.MatMul ? -1 : 1].Size);
                _producers[g].Add(weight);
                _producedBy[weight] = g;
                _slices.Add(new(weight, 0, g, 1));
            }
            _group[n.Id] = g;
            _multiplicity[n.Id] = 1;
            return g;
        }

        private void Carry(Node n, int from)
        {
            _group[n.Id] = _group[from];
            _multiplicity[n.Id] = _multiplicity[from];
        }

        private int NewGroup(int channels)
        {
            _parent.Add(_parent.Count);
            _channels.Add(channels);
            _producers.Add([]);
            _scales.Add([]);
            _frozen.Add(null);
            return _parent.Count - 1;
        }

        private int Find(int g)
        {
            while (_parent[g] != g) g = _parent[g] = _parent[_parent[g]];
            return g;
        }

        private void Union(int a, int b)
        {
            (a, b) = (Find(a), Find(b));
            if (a == b) return;
            _parent[b] = a;
            _producers[a].AddRange(_producers[b]);
            _scales[a].AddRange(_scales[b]);
            _frozen[a] ??= _frozen[b];
        }

        private bool Spaced(int node) => node >= 0 && _group[node] >= 0;

        private bool IsParameter(int node) => graph[node].Op == Op.Parameter && graph.Parameters.Any(p => p.Node == node);

        private string Name(int node) => graph[node].Name!;

        private static string Describe(Node n) => $"%{n.Id} {OpTable.Info(n.Op).Name}";

        /// <summary>[N, C, H, W] → [N, C·H·W] keeps each channel's H·W values together: the entries per channel, or null.</summary>
        private static int? ChannelMajorFlatten(Shape from, Shape to)
        {
            if (from.Rank < 3 || to.Rank != 2 || from[0] != to[0] || !from.Dims.Skip(1).All(d => !d.IsSymbolic)) return null;
            var perChannel = from.Dims.Skip(2).Aggregate(1, (p, d) => p * d.Size);
            return to[1] == Dim.Of(from[1].Size * perChannel) ? perChannel : null;
        }
    }
}
