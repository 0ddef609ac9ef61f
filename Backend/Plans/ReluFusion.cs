using Dlc.Compiler.Ir;

namespace Dlc.Backend.Plans;

/// <summary>
/// A ReLU, or its gradient, done by the step before it while each value is in hand, saving a pass over
/// the tensor: a convolution or batch norm followed by ReLU writes max(0, y) at once, and a max pooling gradient that
/// flows into a ReLU's gradient routes dy only to winners that are above zero (the pooled tensor is the
/// ReLU's output, so that is the ReLU's mask). <see cref="Producer"/> writes <see cref="Relu"/>'s buffer;
/// the ReLU node runs no step.
/// </summary>
internal sealed record ReluFusion(int Producer, int Relu)
{
    public static IReadOnlyList<ReluFusion> Find(Graph graph, bool[] live, Func<int, bool> isGradientSlot)
    {
        var uses = graph.UseCounts();
        var outputs = graph.Outputs.Select(o => o.Node).ToHashSet();
        var found = new List<ReluFusion>();
        foreach (var node in graph.Nodes)
        {
            if (!live[node.Id] || uses[node.Id] != 1 || outputs.Contains(node.Id) || isGradientSlot(node.Id)) continue;
            if (node.Op is not (Op.BatchNorm or Op.Conv2d or Op.Conv1d or Op.MaxPoolGrad)) continue;
            var consumer = graph.Nodes.First(n => n.Inputs.Contains(node.Id));
            if (isGradientSlot(consumer.Id)) continue;
            var fits = node.Op != Op.MaxPoolGrad
                ? consumer.Op == Op.Relu
                // relu_grad(y, dy) with dy the pooling gradient and y the very tensor that was pooled.
                : consumer.Op == Op.ReluGrad && consumer.Inputs[1] == node.Id && consumer.Inputs[0] == node.Inputs[0];
            if (fits) found.Add(new ReluFusion(node.Id, consumer.Id));
        }
        return found;
    }
}
