using Dlc.Backend.Kernels;
using Dlc.Compiler.Ir;

namespace Dlc.Backend.Plans;

/// <summary>
/// A chain (or tree) of elementwise ops of one shape computed by one step: the ops run block by block over the
/// elements, each block's intermediate values staying in small buffers that live in the L1 cache, so the tensor
/// is read and written once instead of once per op (`relu(x + h)` of a residual block, a chain of activation
/// derivatives). Each op runs the very kernel it runs alone, so the results are the same bit for bit.
/// <see cref="Root"/> is the last op; <see cref="Members"/> are the ops it absorbs, in graph order.
/// </summary>
internal sealed record ElementwiseFusion(int Root, IReadOnlyList<int> Members)
{
    /// <summary>Elements per block: 4 KiB of floats per intermediate value.</summary>
    public const int Block = 1024;

    public static bool Fusable(Op op) => op is Op.Add or Op.Subtract or Op.Multiply or Op.Divide or Op.Scale
        or Op.Relu or Op.Sigmoid or Op.Tanh or Op.Gelu or Op.ReluGrad or Op.SigmoidGrad or Op.TanhGrad or Op.GeluGrad;

    /// <summary>
    /// The chains of a graph: an elementwise op whose result only one elementwise op of the same shape reads (and
    /// that is not an output, a parameter's gradient slot, or part of another fusion) runs inside that op's step.
    /// </summary>
    public static IReadOnlyList<ElementwiseFusion> Find(Graph graph, bool[] live, Func<int, bool> isGradientSlot, IReadOnlyDictionary<int, int> absorbed)
    {
        var uses = graph.UseCounts();
        var outputs = graph.Outputs.Select(o => o.Node).ToHashSet();
        var inChain = new HashSet<int>();
        var found = new List<ElementwiseFusion>();
        var roots = absorbed.Values.ToHashSet();
        bool Candidate(Node n) => live[n.Id] && Fusable(n.Op) && !absorbed.ContainsKey(n.Id) && !roots.Contains(n.Id);
        for (var id = graph.Nodes.Count - 1; id >= 0; id--)
        {
            var root = graph[id];
            if (inChain.Contains(id) || !Candidate(root)) continue;
            var members = new List<int>();
            var pending = new Stack<int>([id]);
            while (pending.Count > 0)
            {
                var node = graph[pending.Pop()];
                foreach (var input in node.Inputs.Distinct())
                {
                    var p = graph[input];
                    if (!Candidate(p) || uses[input] != 1 || outputs.Contains(input) || isGradientSlot(input) || p.Shape != root.Shape) continue;
                    members.Add(input);
                    pending.Push(input);
                }
            }
            if (members.Count == 0) continue;
            inChain.UnionWith(members);
            found.Add(new ElementwiseFusion(id, members.Order().ToArray()));
        }
        return found;
    }
}

public sealed partial class ExecutionPlan
{
    /// <summary>
    /// The step of an elementwise chain: for each block of elements, every member op and then the root run their
    /// own kernels on block-sized slices, members into scratch blocks, the root into its result.
    /// </summary>
    private Action ElementwiseChain(ElementwiseFusion chain)
    {
        var order = chain.Members.Append(chain.Root).ToArray();
        var slot = order.Select((id, i) => (id, i)).ToDictionary(x => x.id, x => x.i);
        var count = Count(chain.Root);
        // Large chains go to the plan's threads a range of blocks each, every thread with blocks of its own: on one core
        // ResNet's residual add+relu and its gradient on [128, 16, 28, 28] ran at about 9 GB/s. fashion_resnet.dl's
        // training step (two threads, in-process A/B, medians of ten, two runs): 147.7 / 158.5 → 141.0 / 149.2 ms.
        var parts = SplitElementwise(count) ? _samples.Threads : 1;
        var ops = order.Select(id => _graph[id]).ToArray();
        var bodies = Enumerable.Range(0, parts).Select(_ => ChainBody(chain, order, slot, ops, count)).ToArray();
        var blocks = (count + ElementwiseFusion.Block - 1) / ElementwiseFusion.Block;
        if (parts == 1) return () => bodies[0](0, blocks);
        SampleParallel.RangeBody range = (part, b0, b1) => bodies[part](b0, b1);
        return () => _samples.For(blocks, range);
    }

    /// <summary>The chain over blocks [b0, b1) of its elements, each member's result in a block of scratch of its own.</summary>
    private Action<int, int> ChainBody(ElementwiseFusion chain, int[] order, Dictionary<int, int> slot, Node[] ops, int count)
    {
        var blocks = chain.Members.Select(_ => Allocate(ElementwiseFusion.Block)).ToArray();
        var results = order.Select(id => id == chain.Root ? _buffers[id] : blocks[slot[id]]).ToArray();
        // Each operand is either a member's block (relative: sliced at 0) or a buffer outside the chain (sliced at the block's start).
        var operands = order.Select(id => _graph[id].Inputs.Select(i => slot.TryGetValue(i, out var s) ? (Buffer: results[s], Inside: true) : (Buffer: _buffers[i], Inside: false)).ToArray()).ToArray();
        return (b0, b1) =>
        {
            for (var start = b0 * ElementwiseFusion.Block; start < Math.Min(count, b1 * ElementwiseFusion.Block); start += ElementwiseFusion.Block)
            {
                var length = Math.Min(ElementwiseFusion.Block, count - start);
                for (var k = 0; k < ops.Length; k++)
                {
                    var y = k == ops.Length - 1 ? results[k].Span.Slice(start, length) : results[k].Span[..length];
                    var args = operands[k];
                    ReadOnlySpan<float> A(int i) => args[i].Inside ? args[i].Buffer.Span[..length] : args[i].Buffer.Span.Slice(start, length);
                    Apply(ops[k], A(0), args.Length > 1 ? A(1) : default, y);
                }
            }
        };
    }

    private static void Apply(Node node, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y)
    {
        switch (node.Op)
        {
            case Op.Add: Elementwise.Add(a, b, y); break;
            case Op.Subtract: Elementwise.Subtract(a, b, y); break;
            case Op.Multiply: Elementwise.Multiply(a, b, y); break;
            case Op.Divide: Elementwise.Divide(a, b, y); break;
            case Op.Scale: Elementwise.Scale(a, (float)node.Attributes.Value, y); break;
            case Op.Relu: Activations.Relu(a, y); break;
            case Op.Sigmoid: Activations.Sigmoid(a, y); break;
            case Op.Tanh: Activations.Tanh(a, y); break;
            case Op.Gelu: Activations.Gelu(a, y); break;
            case Op.ReluGrad: Activations.ReluBackward(a, b, y); break;
            case Op.SigmoidGrad: Activations.SigmoidBackward(a, b, y); break;
            case Op.TanhGrad: Activations.TanhBackward(a, b, y); break;
            case Op.GeluGrad: Activations.GeluBackward(a, b, y); break;
            default: throw new NotSupportedException($"`{OpTable.Info(node.Op).Name}` is not an elementwise op a chain can run");
        }
    }
}
