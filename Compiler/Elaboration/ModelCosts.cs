using Dlc.Compiler.Ir;

namespace Dlc.Compiler.Elaboration;

/// <summary>The forward cost of one layer-table row for one sample: FLOPs and the bytes its results take.</summary>
public sealed record LayerCost(LayerRow Row, Count Flops, Count ActivationBytes);

/// <summary>A model's forward cost per sample, row by row and in total (rows may not cover scaling by constants).</summary>
public sealed record ModelCost(IReadOnlyList<LayerCost> Layers, Count Flops, Count ActivationBytes);

/// <summary>
/// Static costs for `dlc check --summary`, from the IR alone: each op's cost rule (a multiply-add counts 2
/// FLOPs; elementwise work about one per element), and activations as the float32 results of the ops.
/// Reshapes are views and take none, and a product whose only use is its bias add shares that result
/// (the engine adds the bias inside the GEMM). Sizes are per sample: the batch symbol counts 1; other symbols
/// such as a sequence length T stay in the result (`1,024·T`).
/// </summary>
public static class ModelCosts
{
    private const int BytesPerElement = 4;

    public static ModelCost Of(ModelGraph model)
    {
        var graph = model.Graph;
        var batch = model.BatchSymbol;
        var flops = new Count[graph.Nodes.Count];
        var bytes = new Count[graph.Nodes.Count];
        var uses = graph.UseCounts();
        var sharesItsResult = new bool[graph.Nodes.Count];
        foreach (var node in graph.Nodes.Where(n => n.Op == Op.BiasAdd && graph[n.Inputs[0]].Op == Op.MatMul && uses[n.Inputs[0]] == 1))
            sharesItsResult[node.Inputs[0]] = true;
        foreach (var node in graph.Nodes)
        {
            var inputs = node.Inputs.Select(i => graph[i].Shape).ToArray();
            flops[node.Id] = OpTable.ForwardFlops(node, inputs, batch);
            bytes[node.Id] = node.Inputs.Count == 0 || node.Op == Op.Reshape || node.Shape.Rank == 0 || sharesItsResult[node.Id]
                ? Count.Zero
                : Count.Elements(node.Shape, batch) * BytesPerElement;
        }
        var rows = model.Layers.Select(row =>
        {
            var ids = Enumerable.Range(row.FirstNode, Math.Max(0, row.LastNode - row.FirstNode + 1)).ToArray();
            return new LayerCost(row, Sum(ids.Select(i => flops[i])), Sum(ids.Select(i => bytes[i])));
        }).ToArray();
        return new ModelCost(rows, Sum(flops), Sum(bytes));
    }

    private static Count Sum(IEnumerable<Count> counts) => counts.Aggregate(Count.Zero, (a, b) => a + b);
}
