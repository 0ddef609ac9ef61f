using Dlc.Backend.Gemm;
using Dlc.Compiler.Ir;

namespace Dlc.Backend.Plans;

/// <summary>
/// A matrix product and the point-wise work the GEMM does as it stores each tile: a bias add and an
/// activation after a forward product, or an activation's derivative after the product that computes
/// the gradient flowing into it. <see cref="Output"/> is the last node of the group; the others share
/// its buffer and run no step of their own. With <see cref="KeepsDerivative"/> (GELU in training), the forward group
/// writes GELU′ of its pre-activation into that value's own buffer (<see cref="Saved"/>), which only the backward group
/// reads, and the backward group multiplies by it instead of evaluating GELU′ again. A group whose result is then added to
/// a value computed before the product (<see cref="Residual"/>: a residual connection's x + dense(h), or a gradient
/// meeting another) ends in that add, which the product's epilogue does as it stores.
/// </summary>
internal sealed record GemmFusion(int MatMul, int Output, int Bias, GemmActivation Activation, bool Derivative, int Saved,
    bool KeepsDerivative = false, int Residual = -1)
{
    public IEnumerable<int> Absorbed(Graph graph)
    {
        for (var id = Output; id != MatMul; id = Next(graph[id]))
            yield return id;
    }

    /// <summary>The node of the group a member reads its value from: the product's side of each op.</summary>
    private int Next(Node node) => node.Op switch
    {
        Op.BiasAdd => node.Inputs[0],
        Op.Add => node.Inputs[0] == Residual ? node.Inputs[1] : node.Inputs[0],
        _ => node.Inputs[Derivative ? 1 : 0],
    };

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
        AddResiduals(graph, live, uses, groups, isGradientSlot);
        return groups;
    }

    /// <summary>
    /// A product (with its group, if any) whose result only feeds an add of another value of its shape, computed before
    /// the product runs, takes that add into its epilogue: the other value is read as the tiles are stored.
    /// </summary>
    private static void AddResiduals(Graph graph, bool[] live, int[] uses, Dictionary<int, GemmFusion> groups, Func<int, bool> isGradientSlot)
    {
        foreach (var node in graph.Nodes)
        {
            if (!live[node.Id] || node.Op != Op.MatMul || isGradientSlot(node.Id)) continue;
            var group = groups.GetValueOrDefault(node.Id) ?? new GemmFusion(node.Id, node.Id, -1, GemmActivation.None, false, -1);
            var z = group.Output;
            if (uses[z] != 1 || isGradientSlot(z)) continue;
            var add = Consumer(graph, z);
            if (add is null || add.Op != Op.Add || !live[add.Id] || isGradientSlot(add.Id) || add.Inputs[0] == add.Inputs[1]) continue;
            var residual = add.Inputs[0] == z ? add.Inputs[1] : add.Inputs[0];
            // Same shape (no broadcast), and ready when the product's step runs: steps run in node order.
            if (residual >= node.Id || graph[residual].Shape != graph[z].Shape || graph[add.Id].Shape != graph[z].Shape) continue;
            groups[node.Id] = group with { Output = add.Id, Residual = residual };
        }
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
