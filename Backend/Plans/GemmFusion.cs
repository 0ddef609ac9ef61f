using Dlc.Backend.Gemm;
using Dlc.Compiler.Ir;

namespace Dlc.Backend.Plans;

/// <summary>
/// A matrix product and the point-wise work the GEMM does as it stores each tile: a bias add and an
/// activation after a forward product, or an activation's derivative after the product that computes
/// the gradient flowing into it. <see cref="Output"/> is the last node of the group; the others share
/// its buffer and run no step of their own. With <see cref="KeepsDerivative"/> (GELU in training), the forward group
/// writes GELU′ of its pre-activation into that value's own buffer (<see cref="Saved"/>), which only the backward group
/// reads, and the backward group multiplies by it instead of evaluating GELU′ again.
/// </summary>
internal sealed record GemmFusion(int MatMul, int Output, int Bias, GemmActivation Activation, bool Derivative, int Saved,
    bool KeepsDerivative = false)
{
    public IEnumerable<int> Absorbed(Graph graph)
    {
        for (var id = Output; id != MatMul; id = graph[id].Op == Op.BiasAdd ? graph[id].Inputs[0] : graph[id].Inputs[Derivative ? 1 : 0])
            yield return id;
    }

    /// <summary>
    /// Finds the groups in a graph. A node joins its product's group only when the product (or bias add)
    /// has no other use, so no intermediate value that something else reads is skipped.
    /// </summary>
    public static Dictionary<int, GemmFusion> Find(Graph graph, bool[] live, Func<int, bool> isGradientSlot)
    {
        var uses = graph.UseCounts();
        var groups = new Dictionary<int, GemmFusion>();
        foreach (var node in graph.Nodes)
        {
            if (!live[node.Id] || node.Op != Op.MatMul || uses[node.Id] != 1 || isGradientSlot(node.Id)) continue;
            var consumer = Consumer(graph, node.Id);
            if (consumer is null) continue;

            if (consumer.Op == Op.BiasAdd && consumer.Inputs[0] == node.Id && !isGradientSlot(consumer.Id))
            {
                var group = new GemmFusion(node.Id, consumer.Id, consumer.Inputs[1], GemmActivation.None, false, -1);
                var next = uses[consumer.Id] == 1 ? Consumer(graph, consumer.Id) : null;
                if (next is not null && ForwardActivation(next.Op) is { } act && !isGradientSlot(next.Id))
                    group = group with { Output = next.Id, Activation = act };
                groups[node.Id] = group;
            }
            else if (ForwardActivation(consumer.Op) is { } act && consumer.Inputs[0] == node.Id && !isGradientSlot(consumer.Id))
            {
                groups[node.Id] = new GemmFusion(node.Id, consumer.Id, -1, act, false, -1);
            }
            else if (DerivativeActivation(consumer.Op) is { } derivative && consumer.Inputs[1] == node.Id && !isGradientSlot(consumer.Id))
            {
                groups[node.Id] = new GemmFusion(node.Id, consumer.Id, -1, derivative, true, consumer.Inputs[0]);
            }
        }
        KeepGeluDerivatives(graph, live, uses, groups, isGradientSlot);
        return groups;
    }

    /// <summary>
    /// A product and bias add whose result z feeds exactly a GELU and the GELU gradient of a fused backward product
    /// takes the GELU too and keeps GELU′(z) in z's buffer for that backward product: z itself is read by nothing else.
    /// </summary>
    private static void KeepGeluDerivatives(Graph graph, bool[] live, int[] uses, Dictionary<int, GemmFusion> groups, Func<int, bool> isGradientSlot)
    {
        var outputs = graph.Outputs.Select(o => o.Node).ToHashSet();
        var backward = groups.Values.Where(g => g.Derivative && g.Activation == GemmActivation.Gelu).ToDictionary(g => g.Saved);
        foreach (var forward in groups.Values.Where(g => !g.Derivative && g.Activation == GemmActivation.None && g.Output != g.MatMul).ToList())
        {
            var z = forward.Output;
            if (uses[z] != 2 || outputs.Contains(z) || !backward.TryGetValue(z, out var gradient)) continue;
            var gelu = graph.Nodes.FirstOrDefault(n => live[n.Id] && n.Op == Op.Gelu && n.Inputs[0] == z);
            if (gelu is null || isGradientSlot(gelu.Id)) continue;
            groups[forward.MatMul] = forward with { Output = gelu.Id, Activation = GemmActivation.Gelu, Saved = z, KeepsDerivative = true };
            groups[gradient.MatMul] = gradient with { KeepsDerivative = true };
        }
    }

    private static Node? Consumer(Graph graph, int id) =>
        graph.Outputs.Any(o => o.Node == id) ? null : graph.Nodes.FirstOrDefault(n => n.Inputs.Contains(id));

    private static GemmActivation? ForwardActivation(Op op) => op switch
    {
        Op.Relu => GemmActivation.Relu,
        Op.Sigmoid => GemmActivation.Sigmoid,
        Op.Tanh => GemmActivation.Tanh,
        Op.Gelu => GemmActivation.Gelu,
        _ => null,
    };

    private static GemmActivation? DerivativeActivation(Op op) => op switch
    {
        Op.ReluGrad => GemmActivation.Relu,
        Op.SigmoidGrad => GemmActivation.Sigmoid,
        Op.TanhGrad => GemmActivation.Tanh,
        Op.GeluGrad => GemmActivation.Gelu,
        _ => null,
    };
}
