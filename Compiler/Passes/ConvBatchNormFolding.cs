using Dlc.Compiler.Ir;

namespace Dlc.Compiler.Passes;

/// <summary>
/// `conv-bn-fold`: an evaluation-mode batch norm right after a convolution (conv1d or conv2d) that nothing else
/// reads is folded into it, as PyTorch's `fuse_conv_bn_eval` does: the convolution runs with
/// w' = w · γ / √(var + eps) per output channel and b' = (b − mean) · γ / √(var + eps) + β, and the batch norm's
/// pass over the activations is gone. w' and b' are computed from the parameters each time the plan runs (a few
/// thousand numbers), so a plan stays right while training moves the weights and the running statistics.
/// A training batch norm normalises with the batch's own statistics and is left alone.
/// </summary>
public static class ConvBatchNormFolding
{
    public const string Name = "conv-bn-fold";
    public const string Summary = "fold evaluation-mode batch norm into the convolution before it";

    public static Graph Run(Graph graph)
    {
        var uses = graph.UseCounts();
        return GraphRewriter.Run(graph, (node, r) =>
        {
            if (node.Op != Op.BatchNorm || node.Attributes.Training) return null;
            var conv = graph[node.Inputs[0]];
            if (conv.Op is not (Op.Conv1d or Op.Conv2d) || uses[conv.Id] != 1 || graph.Outputs.Any(o => o.Node == conv.Id)) return null;
            var (gamma, beta, mean, variance) = (r[node.Inputs[1]], r[node.Inputs[2]], r[node.Inputs[3]], r[node.Inputs[4]]);
            var eps = new OpAttributes { Value = node.Attributes.Value };
            var weight = r[conv.Inputs[1]];
            var bias = conv.Inputs.Count > 2 ? r[conv.Inputs[2]] : r.Constant(0, r.New(gamma).Shape, conv.Origin);
            var foldedWeight = r.Add(Op.BatchNormFoldWeight, [weight, gamma, variance], eps, node.Origin);
            var foldedBias = r.Add(Op.BatchNormFoldBias, [bias, gamma, beta, mean, variance], eps, node.Origin);
            return r.Add(conv.Op, [r[conv.Inputs[0]], foldedWeight, foldedBias], conv.Attributes, conv.Origin);
        });
    }
}
