using Dlc.Compiler.Ir;
using Dlc.Compiler.Passes;

namespace Dlc.Backend.Plans;

/// <summary>
/// A pair of nodes a plan can run as one step, and whether it did: <see cref="Reason"/> says why not.
/// <see cref="Nodes"/> are the nodes the fused step covers (their <see cref="Node.Origin"/> spans are the .dl lines).
/// </summary>
public sealed record FusionFinding(string Kind, int Producer, int Consumer, bool Fired, string? Reason, IReadOnlyList<int> Nodes);

public sealed partial class ExecutionPlan
{
    /// <summary>The labels of the plan's steps, in the order they run.</summary>
    public IReadOnlyList<string> StepLabels => _labels;

    /// <summary>Every fusion the plan made, and every candidate pair it did not fuse with the reason.</summary>
    public IReadOnlyList<FusionFinding> Fusions()
    {
        var findings = new List<FusionFinding>();
        var uses = _graph.UseCounts();
        var outputs = _graph.Outputs.GroupBy(o => o.Node).ToDictionary(g => g.Key, g => g.First().Name);
        bool GradientSlot(int id) => _buffers[id].Buffer == _parameters.Gradients;
        foreach (var consumer in _graph.Nodes.Where(n => _live[n.Id]))
        {
            foreach (var (producer, kind) in Candidates(consumer))
            {
                // Fired: the consumer runs inside the step that runs the producer (or the producer's own product).
                // Fired: the consumer runs inside the producer's step, or inside the product the producer is part of
                // (a loss runs inside its gradient's step, which is the "producer" of that pair).
                var root = _absorbedBy.GetValueOrDefault(consumer.Id, -1);
                var fired = root >= 0 && (root == producer || _absorbedBy.GetValueOrDefault(producer, -1) == root)
                            // an elementwise chain runs at its last op: the producer is absorbed into the consumer's step
                            || _absorbedBy.GetValueOrDefault(producer, -1) == (root >= 0 ? root : consumer.Id);
                var nodes = Covered(producer, consumer.Id);
                findings.Add(new FusionFinding(kind, producer, consumer.Id, fired, fired ? null : WhyNot(producer, consumer, kind), nodes));
            }
        }
        findings.AddRange(ChainFindings());
        return findings;

        string WhyNot(int producer, Node consumer, string kind)
        {
            var p = _graph[producer];
            if (PassOf(kind) is { } pass && !_passes.Has(pass)) return $"the `{pass}` pass is off";
            if (kind is BiasGradientKind or LayerNormBiasKind or BatchNormBiasKind) return $"{Describe(consumer)} is read before {Describe(p)} runs";
            if (kind == ConvGradientsKind)
                return Kernels.Conv2dKernel.SharesGradientWork(ConvGradientGeometry(p), _winograd)
                    ? $"{Describe(consumer)} is read before {Describe(p)} runs"
                    : "the convolution runs by im2col, whose two gradients share no work (only a 3×3 stride-1 one by Winograd's algorithm does)";
            if (kind.StartsWith("conv2d", StringComparison.Ordinal) && consumer.Op != Op.Relu) return "a convolution's output pass applies only a ReLU";
            if (outputs.TryGetValue(producer, out var output)) return $"{Describe(p)} is an output of the graph (`{output}`), so it must be kept";
            if (uses[producer] > 1)
            {
                var others = _graph.Nodes.Where(n => n.Id != consumer.Id && n.Inputs.Contains(producer)).Select(Describe).ToArray();
                return $"{Describe(p)}'s result is also read by {string.Join(", ", others)}";
            }
            if (GradientSlot(producer)) return $"{Describe(p)} writes a parameter's gradient straight into the gradient buffer";
            if (GradientSlot(consumer.Id)) return $"{Describe(consumer)} writes a parameter's gradient straight into the gradient buffer";
            if (p.Op == Op.MatMul && _absorbedBy.ContainsKey(producer)) return $"{Describe(p)} already runs inside another fused step";
            return "the pair does not fit the fused kernel's pattern";
        }
    }

    private const string BiasGradientKind = "bias gradient in the weight gradient's product";
    private const string LayerNormBiasKind = "layer norm's bias gradient with its input gradient";
    private const string BatchNormWeightKind = "batch norm's weight and input gradients";
    private const string BatchNormBiasKind = "batch norm's bias gradient with its input gradient";
    private const string ConvGradientsKind = "a convolution's weight and input gradients";

    /// <summary>The pass that makes a kind of fusion (null for pairs no fused kernel exists for).</summary>
    private static string? PassOf(string kind) =>
        kind.EndsWith("(elementwise chain)", StringComparison.Ordinal) ? PassSet.ElementwiseFusion
        : kind.Contains("product", StringComparison.Ordinal) ? PassSet.GemmEpilogue
        : kind is "relu in batch norm" or "relu in the convolution" or "relu_grad in the max-pool gradient" ? PassSet.ReluFusion
        : kind == "loss and its gradient" ? PassSet.LossFusion
        : kind is "layer norm's weight and input gradients" or LayerNormBiasKind or BatchNormWeightKind or BatchNormBiasKind ? PassSet.NormFusion
        : kind == ConvGradientsKind ? PassSet.ConvGradFusion
        : null;

    private string Describe(Node node) => $"%{node.Id} {OpTable.Info(node.Op).Name}";

    /// <summary>The pairs a fused kernel exists for (and a convolution followed by another activation, which has none), seen from the consumer.</summary>
    private IEnumerable<(int Producer, string Kind)> Candidates(Node c)
    {
        var first = c.Inputs.Count > 0 ? _graph[c.Inputs[0]] : null;
        if (ElementwiseFusion.Fusable(c.Op))
        {
            foreach (var p in c.Inputs.Distinct().Select(i => _graph[i]).Where(p => ElementwiseFusion.Fusable(p.Op) && p.Shape == c.Shape))
                yield return (p.Id, $"{OpTable.Info(p.Op).Name} into {OpTable.Info(c.Op).Name} (elementwise chain)");
        }
        switch (c.Op)
        {
            case Op.Add:
                foreach (var p in c.Inputs.Distinct().Select(i => _graph[i]))
                {
                    if (p.Op == Op.MatMul || p.Op == Op.BiasAdd && _graph[p.Inputs[0]].Op == Op.MatMul)
                        yield return (p.Id, "residual add in the product");
                }
                break;
            case Op.BiasAdd when first?.Op == Op.MatMul:
                yield return (first.Id, "bias add in the product");
                break;
            case Op.Relu or Op.Sigmoid or Op.Tanh or Op.Gelu when first is not null:
                var name = OpTable.Info(c.Op).Name;
                if (first.Op == Op.MatMul) yield return (first.Id, $"{name} in the product");
                else if (first.Op == Op.BiasAdd && _graph[first.Inputs[0]].Op == Op.MatMul) yield return (first.Id, $"{name} after dense in the product");
                else if (first.Op == Op.BatchNorm && c.Op == Op.Relu) yield return (first.Id, "relu in batch norm");
                else if (first.Op is Op.Conv2d or Op.Conv1d) yield return (first.Id, c.Op == Op.Relu ? "relu in the convolution" : $"conv2d then {name}");
                break;
            case Op.ReluGrad or Op.SigmoidGrad or Op.TanhGrad or Op.GeluGrad:
                var dy = _graph[c.Inputs[1]];
                if (dy.Op == Op.MatMul) yield return (dy.Id, $"{OpTable.Info(c.Op).Name} in the gradient product");
                else if (dy.Op == Op.MaxPoolGrad && c.Op == Op.ReluGrad) yield return (dy.Id, "relu_grad in the max-pool gradient");
                break;
            case Op.BiasGrad when WeightGradientReading(c, _live) is { } product:
                yield return (product.Id, BiasGradientKind);
                break;
            case Op.BiasGrad when _graph.Nodes.FirstOrDefault(n => _live[n.Id] && n.Op == Op.LayerNormInputGrad && n.Inputs[2] == c.Inputs[0]) is { } norm:
                yield return (norm.Id, LayerNormBiasKind);
                break;
            case Op.Conv2dBiasGrad when _graph.Nodes.FirstOrDefault(n => _live[n.Id] && n.Op == Op.BatchNormInputGrad && n.Inputs[3] == c.Inputs[0]
                                                                     && _shapes[n.Inputs[1]].SequenceEqual(_shapes[c.Id])) is { } batchNorm:
                yield return (batchNorm.Id, BatchNormBiasKind);
                break;
            case Op.BatchNormWeightGrad:
                var batchNormInput = _graph.Nodes.FirstOrDefault(n => _live[n.Id] && n.Op == Op.BatchNormInputGrad
                    && n.Inputs[0] == c.Inputs[0] && n.Inputs[3] == c.Inputs[3]);
                if (batchNormInput is not null) yield return (batchNormInput.Id, BatchNormWeightKind);
                break;
            case Op.LayerNormWeightGrad:
                var inputGradient = _graph.Nodes.FirstOrDefault(n => _live[n.Id] && n.Op == Op.LayerNormInputGrad
                    && n.Inputs[0] == c.Inputs[0] && n.Inputs[2] == c.Inputs[1]);
                if (inputGradient is not null) yield return (inputGradient.Id, "layer norm's weight and input gradients");
                break;
            case Op.Conv2dWeightGrad:
                var convInputGradient = _graph.Nodes.FirstOrDefault(n => _live[n.Id] && n.Op == Op.Conv2dInputGrad && ConvWeightGradientOf(n, _live)?.Id == c.Id);
                if (convInputGradient is not null) yield return (convInputGradient.Id, ConvGradientsKind);
                break;
            case Op.SoftmaxCrossEntropy:
                var gradient = _graph.Nodes.FirstOrDefault(n => _live[n.Id] && n.Op == Op.SoftmaxCrossEntropyGrad && n.Inputs[0] == c.Inputs[0]);
                if (gradient is not null) yield return (gradient.Id, "loss and its gradient");
                break;
            case Op.Mse:
                var mseGradient = _graph.Nodes.FirstOrDefault(n => _live[n.Id] && n.Op == Op.MseGrad && n.Inputs[0] == c.Inputs[0]);
                if (mseGradient is not null) yield return (mseGradient.Id, "loss and its gradient");
                break;
        }
    }

    private IReadOnlyList<int> Covered(int producer, int consumer)
    {
        var nodes = new List<int> { producer, consumer };
        if (_graph[producer].Op == Op.BiasAdd) nodes.Insert(0, _graph[producer].Inputs[0]);
        return nodes.Distinct().Order().ToArray();
    }
}
