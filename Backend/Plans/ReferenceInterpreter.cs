using Dlc.Backend.Gemm;
using Dlc.Backend.Kernels;
using Dlc.Backend.Kernels.Reference;
using Dlc.Compiler.Ir;

namespace Dlc.Backend.Plans;

/// <summary>
/// Runs a graph in double precision with the plain reference kernels: the living definition of every
/// op, used to check gradients against finite differences and plans against the definition.
/// </summary>
public static class ReferenceInterpreter
{
    /// <summary>Evaluate every node; <paramref name="feeds"/> gives inputs and parameters by name, <paramref name="masks"/> dropout masks by node id.</summary>
    public static double[][] Run(Graph graph, IReadOnlyDictionary<string, int> symbols, IReadOnlyDictionary<string, double[]> feeds,
        IReadOnlyDictionary<int, double[]>? masks = null)
    {
        var values = new double[graph.Nodes.Count][];
        // The weights' gradients each recurrent_grad node computes, for its recurrent_weight_grad views.
        var recurrentGradients = new Dictionary<int, double[][]>();
        foreach (var node in graph.Nodes)
        {
            var shape = node.Shape.Bind(symbols);
            var y = new double[shape.Aggregate(1, (a, d) => a * d)];
            values[node.Id] = y;
            double[] In(int i) => values[node.Inputs[i]];
            var (rows, cols) = node.Inputs.Count > 0 ? Matrix(graph[node.Inputs[0]].Shape.Bind(symbols)) : (0, 0);
            switch (node.Op)
            {
                case Op.Input or Op.Parameter:
                    if (!feeds.TryGetValue(node.Name!, out var feed)) throw new ArgumentException($"no value given for `{node.Name}`");
                    if (feed.Length != y.Length) throw new ArgumentException($"`{node.Name}` needs {y.Length} values, got {feed.Length}");
                    feed.CopyTo(y, 0);
                    break;
                case Op.Constant: Array.Fill(y, node.Attributes.Value); break;
                case Op.MatMul:
                {
                    var sa = Matrix(graph[node.Inputs[0]].Shape.Bind(symbols));
                    var sb = Matrix(graph[node.Inputs[1]].Shape.Bind(symbols));
                    bool ta = node.Attributes.TransA, tb = node.Attributes.TransB;
                    int m = ta ? sa.Cols : sa.Rows, k = ta ? sa.Rows : sa.Cols, n = tb ? sb.Rows : sb.Cols;
                    ReferenceGemm.Gemm(ta, tb, m, n, k, 1.0, In(0), sa.Cols, In(1), sb.Cols, 0.0, y, n);
                    break;
                }
                case Op.BiasAdd: LinearReference.BiasAdd<double>(In(0), In(1), y, rows, cols); break;
                case Op.BiasGrad: LinearReference.BiasBackward<double>(In(0), y, rows, cols); break;
                case Op.Add: ElementwiseReference.Add<double>(In(0), In(1), y); break;
                case Op.Subtract: ElementwiseReference.Subtract<double>(In(0), In(1), y); break;
                case Op.Multiply: ElementwiseReference.Multiply<double>(In(0), In(1), y); break;
                case Op.Scale: ElementwiseReference.Scale<double>(In(0), node.Attributes.Value, y); break;
                case Op.Relu: ActivationsReference.Relu<double>(In(0), y); break;
                case Op.ReluGrad: ActivationsReference.ReluBackward<double>(In(0), In(1), y); break;
                case Op.Sigmoid: ActivationsReference.Sigmoid<double>(In(0), y); break;
                case Op.SigmoidGrad: ActivationsReference.SigmoidBackward<double>(In(0), In(1), y); break;
                case Op.Tanh: ActivationsReference.Tanh<double>(In(0), y); break;
                case Op.TanhGrad: ActivationsReference.TanhBackward<double>(In(0), In(1), y); break;
                case Op.Gelu: ActivationsReference.Gelu<double>(In(0), y); break;
                case Op.GeluGrad: ActivationsReference.GeluBackward<double>(In(0), In(1), y); break;
                case Op.Softmax: SoftmaxReference.Softmax<double>(In(0), y, rows, cols); break;
                case Op.SoftmaxGrad: SoftmaxReference.SoftmaxBackward<double>(In(0), In(1), y, rows, cols); break;
                case Op.LogSoftmax: SoftmaxReference.LogSoftmax<double>(In(0), y, rows, cols); break;
                case Op.LogSoftmaxGrad: SoftmaxReference.LogSoftmaxBackward<double>(In(0), In(1), y, rows, cols); break;
                case Op.DropoutMask:
                case Op.ChannelDropoutMask:
                    if (masks is null || !masks.TryGetValue(node.Id, out var mask)) throw new ArgumentException($"no dropout mask given for %{node.Id}");
                    mask.CopyTo(y, 0);
                    break;
                case Op.Conv2d or Op.Conv2dInputGrad or Op.Conv2dWeightGrad or Op.Conv2dBiasGrad or Op.MaxPool or Op.MaxPoolGrad
                    or Op.Conv1d or Op.ConvTranspose2d or Op.AvgPool or Op.AvgPoolGrad or Op.GlobalAvgPool or Op.GlobalAvgPoolGrad
                    or Op.Upsample or Op.UpsampleGrad:
                    WindowOp(node, y, values, id => graph[id].Shape.Bind(symbols));
                    break;
                case Op.BatchNorm or Op.BatchNormInputGrad or Op.BatchNormWeightGrad:
                {
                    var l = ChannelLayout.Of(graph[node.Inputs[0]].Shape.Bind(symbols));
                    var (eps, training) = (node.Attributes.Value, node.Attributes.Training);
                    // The running statistics a training step moves are state, not part of y: they are left as fed.
                    if (node.Op == Op.BatchNorm) NormalizationReference.BatchNorm<double>(In(0), In(1), In(2), In(3), In(4), y, l, eps, training);
                    else if (node.Op == Op.BatchNormInputGrad) NormalizationReference.BatchNormInputGrad<double>(In(0), In(1), In(2), In(3), y, l, eps, training);
                    else NormalizationReference.BatchNormWeightGrad<double>(In(0), In(1), In(2), In(3), y, l, eps, training);
                    break;
                }
                case Op.BatchNormFoldWeight: NormalizationReference.FoldWeight<double>(In(0), In(1), In(2), y, node.Attributes.Value); break;
                case Op.BatchNormFoldBias: NormalizationReference.FoldBias<double>(In(0), In(1), In(2), In(3), In(4), y, node.Attributes.Value); break;
                case Op.LayerNorm: NormalizationReference.LayerNorm<double>(In(0), In(1), In(2), y, rows, cols, node.Attributes.Value); break;
                case Op.LayerNormInputGrad: NormalizationReference.LayerNormInputGrad<double>(In(0), In(1), In(2), y, rows, cols, node.Attributes.Value); break;
                case Op.LayerNormWeightGrad: NormalizationReference.LayerNormWeightGrad<double>(In(0), In(1), y, rows, cols, node.Attributes.Value); break;
                case Op.WeightNorm: WeightNormReference.Forward<double>(In(0), In(1), y); break;
                case Op.WeightNormDirectionGrad: WeightNormReference.DirectionGrad<double>(In(0), In(1), In(2), y); break;
                case Op.WeightNormScaleGrad: WeightNormReference.ScaleGrad<double>(In(0), In(2), y); break;
                case Op.Sum: y[0] = In(0).Sum(); break;
                case Op.Broadcast: Array.Fill(y, In(0)[0]); break;
                case Op.Reshape: In(0).CopyTo(y, 0); break;
                case Op.SoftmaxCrossEntropy: y[0] = LossesReference.SoftmaxCrossEntropy<double>(In(0), In(1), rows, cols, node.Attributes.Value); break;
                case Op.SoftmaxCrossEntropyGrad:
                    LossesReference.SoftmaxCrossEntropyBackward<double>(In(0), In(1), In(2)[0], y, rows, cols, node.Attributes.Value);
                    break;
                case Op.Mse: y[0] = LossesReference.Mse<double>(In(0), In(1)); break;
                case Op.MseGrad: LossesReference.MseBackward<double>(In(0), In(1), In(2)[0], y); break;
                case Op.Divide: ElementwiseReference.Divide<double>(In(0), In(1), y); break;
                case Op.Expand: BroadcastingReference.Expand<double>(In(0), y, graph[node.Inputs[0]].Shape.Bind(symbols), shape); break;
                case Op.ReduceTo: BroadcastingReference.ReduceTo<double>(In(0), y, shape, graph[node.Inputs[0]].Shape.Bind(symbols)); break;
                case Op.Embedding or Op.EmbeddingGrad or Op.Rnn or Op.Lstm or Op.Gru or Op.RecurrentGrad or Op.RecurrentWeightGrad
                    or Op.SequenceLengths or Op.SequenceMean or Op.SequenceMeanGrad:
                    SequenceOp(graph, node, y, values, id => graph[id].Shape.Bind(symbols), recurrentGradients);
                    break;
                case Op.Attention:
                    AttentionReference.Forward<double>(In(0), y, Attention(node, graph[node.Inputs[0]].Shape.Bind(symbols)), Lengths(node, 1, values));
                    break;
                case Op.AttentionGrad:
                    AttentionReference.Backward<double>(In(2), In(1), y, Attention(graph[node.Inputs[0]], graph[node.Inputs[2]].Shape.Bind(symbols)), Lengths(node, 3, values));
                    break;
                case Op.CrossAttention:
                    CrossAttentionReference.Forward<double>(In(0), In(1), In(2), y, CrossAttentionGeometry.Of(graph[node.Inputs[0]].Shape.Bind(symbols), graph[node.Inputs[1]].Shape.Bind(symbols), node.Attributes.Heads), Lengths(node, 3, values));
                    break;
                case Op.CrossAttentionGrad:
                {
                    var (dq, dk, dv) = (new double[In(2).Length], new double[In(3).Length], new double[In(4).Length]);
                    CrossAttentionReference.Backward<double>(In(2), In(3), In(4), In(1), dq, dk, dv, CrossAttentionGeometry.Of(graph[node.Inputs[2]].Shape.Bind(symbols), graph[node.Inputs[3]].Shape.Bind(symbols), node.Attributes.Heads), Lengths(node, 5, values));
                    (node.Attributes.Axis switch { 0 => dq, 1 => dk, _ => dv }).CopyTo(y, 0);
                    break;
                }
                case Op.PositionalEncoding:
                    PositionalEncodingReference.Forward<double>(In(0), y, shape[0], shape[1], shape[2]);
                    break;
                default: throw new NotSupportedException($"the reference interpreter has no definition of `{OpTable.Info(node.Op).Name}`");
            }
        }
        return values;
    }

    private static void WindowOp(Node node, double[] y, double[][] values, Func<int, int[]> shapeOf)
    {
        double[] In(int i) => values[node.Inputs[i]];
        int[] S(int i) => shapeOf(node.Inputs[i]);
        var a = node.Attributes;
        switch (node.Op)
        {
            case Op.Conv2d or Op.Conv1d:
                ConvolutionReference.Conv2d<double>(In(0), In(1), node.Inputs.Count > 2 ? In(2) : [], y,
                    Conv2dGeometry.Convolution(S(0), S(1), shapeOf(node.Id), a));
                break;
            case Op.Conv2dInputGrad: ConvolutionReference.Conv2dInputGrad<double>(In(0), In(1), y, Conv2dGeometry.Convolution(S(2), S(1), S(0), a)); break;
            case Op.Conv2dWeightGrad: ConvolutionReference.Conv2dWeightGrad<double>(In(0), In(1), y, Conv2dGeometry.Convolution(S(0), S(2), S(1), a)); break;
            case Op.Conv2dBiasGrad:
            {
                var l = ChannelLayout.Of(S(0));
                ConvolutionReference.Conv2dBiasGrad<double>(In(0), y, l.Batch, l.Channels, l.Positions);
                break;
            }
            case Op.ConvTranspose2d:
            {
                var g = Conv2dGeometry.Convolution(shapeOf(node.Id), S(1), S(0), a);
                ConvolutionReference.Conv2dInputGrad<double>(In(0), In(1), y, g);
                if (node.Inputs.Count > 2)
                {
                    var (bias, positions) = (In(2), g.Height * g.Width);
                    for (var i = 0; i < y.Length; i++) y[i] += bias[i / positions % g.Channels];
                }
                break;
            }
            case Op.AvgPool: PoolingReference.AvgPool2d<double>(In(0), y, Conv2dGeometry.Pooling(S(0), shapeOf(node.Id), a)); break;
            case Op.AvgPoolGrad: PoolingReference.AvgPool2dBackward<double>(In(1), y, Conv2dGeometry.Pooling(S(0), S(1), a)); break;
            case Op.GlobalAvgPool or Op.GlobalAvgPoolGrad:
            {
                var l = ChannelLayout.Of(S(0));
                if (node.Op == Op.GlobalAvgPool) PoolingReference.GlobalAvgPool<double>(In(0), y, l.Batch * l.Channels, l.Positions);
                else PoolingReference.GlobalAvgPoolBackward<double>(In(1), y, l.Batch * l.Channels, l.Positions);
                break;
            }
            case Op.Upsample or Op.UpsampleGrad:
            {
                var s = Conv2dGeometry.AsImage(S(0));
                var f = a.Factor!.Length == 1 ? [1, a.Factor[0]] : a.Factor;
                if (node.Op == Op.Upsample) PoolingReference.UpsampleNearest<double>(In(0), y, s[0] * s[1], s[2], s[3], f[0], f[1]);
                else PoolingReference.UpsampleNearestBackward<double>(In(1), y, s[0] * s[1], s[2], s[3], f[0], f[1]);
                break;
            }
            case Op.MaxPool: PoolingReference.MaxPool2d<double>(In(0), y, Conv2dGeometry.Pooling(S(0), shapeOf(node.Id), a)); break;
            case Op.MaxPoolGrad: PoolingReference.MaxPool2dBackward<double>(In(0), In(1), y, Conv2dGeometry.Pooling(S(0), S(1), a)); break;
        }
    }

    private static void SequenceOp(Graph graph, Node node, double[] y, double[][] values, Func<int, int[]> shapeOf, Dictionary<int, double[][]> recurrentGradients)
    {
        double[] In(int i) => values[node.Inputs[i]];
        switch (node.Op)
        {
            case Op.Embedding:
            {
                var table = shapeOf(node.Inputs[1]);
                EmbeddingReference.Forward<double>(In(0), In(1), y, table[0], table[1]);
                break;
            }
            case Op.EmbeddingGrad:
            {
                var table = shapeOf(node.Inputs[1]);
                EmbeddingReference.Backward<double>(In(0), In(2), y, table[0], table[1]);
                break;
            }
            case Op.SequenceLengths:
                EmbeddingReference.SequenceLengths<double>(In(0), y, shapeOf(node.Inputs[0])[1]);
                break;
            case Op.SequenceMean:
            {
                var x = shapeOf(node.Inputs[0]);
                SequencePoolingReference.Mean<double>(In(0), Lengths(node, 1, values), y, x[0], x[1], x[2]);
                break;
            }
            case Op.SequenceMeanGrad:
            {
                var x = shapeOf(node.Inputs[1]);
                SequencePoolingReference.MeanBackward<double>(In(0), Lengths(node, 2, values), y, x[0], x[1], x[2]);
                break;
            }
            case Op.Rnn or Op.Lstm or Op.Gru:
            {
                var (weights, lengths) = WeightsAndLengths(node, node.Inputs.Skip(1), values);
                RecurrentReference.Forward(Geometry(node, shapeOf), In(0), weights, y, lengths);
                break;
            }
            case Op.RecurrentGrad:
            {
                var forward = graph[node.Inputs[0]];
                var (weights, lengths) = WeightsAndLengths(forward, node.Inputs.Skip(3), values);
                var gradients = weights.Select(w => new double[w.Length]).ToArray();
                RecurrentReference.Backward(Geometry(forward, shapeOf), In(2), weights, In(1), y, gradients, lengths);
                recurrentGradients[node.Id] = gradients;
                break;
            }
            case Op.RecurrentWeightGrad:
                recurrentGradients[node.Inputs[0]][node.Attributes.Axis - 1].CopyTo(y, 0);
                break;
        }
    }

    /// <summary>A recurrent layer's weights, and its lengths (the last input) when it is packed.</summary>
    private static (double[][] Weights, int[]? Lengths) WeightsAndLengths(Node layer, IEnumerable<int> inputs, double[][] values)
    {
        var all = inputs.Select(i => values[i]).ToArray();
        return layer.Attributes.Packed ? (all[..^1], all[^1].Select(l => (int)l).ToArray()) : (all, null);
    }

    /// <summary>A packed attention's lengths (input <paramref name="at"/>), or null.</summary>
    private static int[]? Lengths(Node node, int at, double[][] values) =>
        node.Attributes.Packed ? values[node.Inputs[at]].Select(v => (int)v).ToArray() : null;

    private static AttentionGeometry Attention(Node node, int[] x) => AttentionGeometry.Of(x, node.Attributes.Heads, node.Attributes.Causal);

    private static RecurrentGeometry Geometry(Node node, Func<int, int[]> shapeOf)
    {
        var x = shapeOf(node.Inputs[0]);
        var directions = node.Attributes.Bidirectional ? 2 : 1;
        var cell = node.Op switch
        {
            Op.Lstm => RecurrentCell.Lstm,
            Op.Gru => RecurrentCell.Gru,
            _ => node.Attributes.Mode == "relu" ? RecurrentCell.Relu : RecurrentCell.Tanh,
        };
        var weights = node.Inputs.Count - 1 - (node.Attributes.Packed ? 1 : 0);
        return new RecurrentGeometry(cell, x[0], x[1], x[2], shapeOf(node.Inputs[2])[1], directions, node.Attributes.ReturnSequences,
            weights / directions == 4, node.Attributes.Packed);
    }

    private static (int Rows, int Cols) Matrix(int[] shape)
    {
        if (shape.Length == 0) return (1, 1);
        var cols = shape[^1];
        return (cols == 0 ? 0 : shape.Aggregate(1, (a, d) => a * d) / cols, cols);
    }
}
