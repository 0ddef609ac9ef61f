using Dlc.Backend.Kernels;
using Dlc.Compiler.Ir;

namespace Dlc.Backend.Plans;

public sealed partial class ExecutionPlan
{
    /// <summary>The kernel call of one node, bound to its buffers and sizes.</summary>
    private Action? Step(Node node, PlanOptions options)
    {
        var y = _buffers[node.Id];
        BufferRef In(int i) => _buffers[node.Inputs[i]];
        var (rows, cols) = node.Inputs.Count > 0 ? Matrix(node.Inputs[0]) : (0, 0);
        switch (node.Op)
        {
            case Op.Input:
            case Op.Parameter:
            case Op.Reshape:
                return null;
            case Op.Conv2d or Op.Conv2dInputGrad or Op.Conv2dWeightGrad or Op.Conv2dBiasGrad or Op.MaxPool or Op.MaxPoolGrad
                or Op.Conv1d or Op.ConvTranspose2d or Op.AvgPool or Op.AvgPoolGrad or Op.GlobalAvgPool or Op.GlobalAvgPoolGrad
                or Op.Upsample or Op.UpsampleGrad:
                return WindowStep(node, options.Gemm);
            case Op.BatchNorm or Op.BatchNormInputGrad or Op.BatchNormWeightGrad
                or Op.LayerNorm or Op.LayerNormInputGrad or Op.LayerNormWeightGrad
                or Op.BatchNormFoldWeight or Op.BatchNormFoldBias
                or Op.WeightNorm or Op.WeightNormDirectionGrad or Op.WeightNormScaleGrad:
                return NormalizationStep(node);
            case Op.Embedding or Op.EmbeddingGrad or Op.Rnn or Op.Lstm or Op.Gru or Op.RecurrentGrad or Op.RecurrentWeightGrad
                or Op.SequenceLengths or Op.SequenceMean or Op.SequenceMeanGrad:
                return SequenceStep(node, options.Gemm);
            case Op.Attention or Op.AttentionGrad or Op.PositionalEncoding or Op.CrossAttention or Op.CrossAttentionGrad:
                return AttentionStep(node, options.Gemm);
            case Op.ChannelDropoutMask:
            {
                var rng = options.Rng ?? throw new InvalidOperationException("a plan with dropout needs a random number generator");
                var l = ChannelLayout.Of(_shapes[node.Id]);
                var p = (float)node.Attributes.Value;
                return () => DropoutKernels.ChannelMask(y.Span, l.Batch * l.Channels, l.Positions, p, rng);
            }
            case Op.Constant:
                var value = (float)node.Attributes.Value;
                return () => y.Span.Fill(value);
            case Op.BiasAdd:
            {
                var (x, b) = (In(0), In(1));
                return () => Linear.BiasAdd(x.Span, b.Span, y.Span, rows, cols);
            }
            case Op.BiasGrad:
            {
                var dy = In(0);
                // Blocks of columns are independent sums down all the rows: large ones are split over the threads.
                var blocks = (cols + Linear.BiasColumnBlock - 1) / Linear.BiasColumnBlock;
                if (!SplitElementwise(rows * cols) || blocks < 2) return () => Linear.BiasBackward(dy.Span, y.Span, rows, cols);
                var parallel = _samples;
                SampleParallel.RangeBody body = (part, b0, b1) =>
                    Linear.BiasBackward(dy.Span, y.Span, rows, cols, b0 * Linear.BiasColumnBlock, Math.Min(cols, b1 * Linear.BiasColumnBlock));
                return () => parallel.For(blocks, body);
            }
            case Op.Add: return Binary(Elementwise.Add);
            case Op.Subtract: return Binary(Elementwise.Subtract);
            case Op.Multiply: return Binary(Elementwise.Multiply);
            case Op.Scale:
            {
                var x = In(0);
                var factor = (float)node.Attributes.Value;
                return () => Elementwise.Scale(x.Span, factor, y.Span);
            }
            case Op.Relu: return Unary(Activations.Relu);
            case Op.Sigmoid: return Unary(Activations.Sigmoid);
            case Op.Tanh: return Unary(Activations.Tanh);
            case Op.Gelu: return Unary(Activations.Gelu);
            case Op.ReluGrad: return Binary(Activations.ReluBackward);
            case Op.SigmoidGrad: return Binary(Activations.SigmoidBackward);
            case Op.TanhGrad: return Binary(Activations.TanhBackward);
            case Op.GeluGrad: return Binary(Activations.GeluBackward);
            case Op.Softmax:
            {
                var x = In(0);
                return () => SoftmaxKernels.Softmax(x.Span, y.Span, rows, cols);
            }
            case Op.SoftmaxGrad:
            {
                var (s, dy) = (In(0), In(1));
                return () => SoftmaxKernels.SoftmaxBackward(s.Span, dy.Span, y.Span, rows, cols);
            }
            case Op.LogSoftmax:
            {
                var x = In(0);
                return () => SoftmaxKernels.LogSoftmax(x.Span, y.Span, rows, cols);
            }
            case Op.LogSoftmaxGrad:
            {
                var (s, dy) = (In(0), In(1));
                return () => SoftmaxKernels.LogSoftmaxBackward(s.Span, dy.Span, y.Span, rows, cols);
            }
            case Op.DropoutMask:
            {
                var rng = options.Rng ?? throw new InvalidOperationException("a plan with dropout needs a random number generator");
                var p = (float)node.Attributes.Value;
                var keep = 1f / (1f - p);
                return () =>
                {
                    var mask = y.Span;
                    for (var i = 0; i < mask.Length; i++) mask[i] = rng.NextFloat() < p ? 0f : keep;
                };
            }
            case Op.Sum:
            {
                var x = In(0);
                return () => y.Span[0] = System.Numerics.Tensors.TensorPrimitives.Sum<float>(x.Span);
            }
            case Op.Broadcast:
            {
                var s = In(0);
                return () => y.Span.Fill(s.Span[0]);
            }
            case Op.SoftmaxCrossEntropy:
            {
                var (logits, labels) = (In(0), In(1));
                var smoothing = (float)node.Attributes.Value;
                return () => y.Span[0] = Losses.SoftmaxCrossEntropy(logits.Span, labels.Span, rows, cols, smoothing);
            }
            case Op.SoftmaxCrossEntropyGrad:
            {
                var (logits, labels, dl) = (In(0), In(1), In(2));
                var smoothing = (float)node.Attributes.Value;
                return () => Losses.SoftmaxCrossEntropyBackward(logits.Span, labels.Span, dl.Span[0], y.Span, rows, cols, smoothing);
            }
            case Op.Mse:
            {
                var (p, t) = (In(0), In(1));
                return () => y.Span[0] = Losses.Mse(p.Span, t.Span);
            }
            case Op.MseGrad:
            {
                var (p, t, dl) = (In(0), In(1), In(2));
                return () => Losses.MseBackward(p.Span, t.Span, dl.Span[0], y.Span);
            }
            case Op.Divide: return Binary(Elementwise.Divide);
            case Op.Expand:
            {
                var (x, geometry) = (In(0), BroadcastGeometry.Of(_shapes[node.Inputs[0]], _shapes[node.Id]));
                return () => Broadcasting.Expand(x.Span, y.Span, geometry);
            }
            case Op.ReduceTo:
            {
                var (dy, geometry) = (In(0), BroadcastGeometry.Of(_shapes[node.Id], _shapes[node.Inputs[0]]));
                return () => Broadcasting.ReduceTo(dy.Span, y.Span, geometry);
            }
            default:
                throw new NotSupportedException($"the backend has no kernel for `{OpTable.Info(node.Op).Name}`");
        }

        // Element by element, a large tensor is split over the plan's threads in contiguous ranges.
        Action Unary(UnaryKernel kernel)
        {
            var x = In(0);
            if (!SplitElementwise(y.Length)) return () => kernel(x.Span, y.Span);
            SampleParallel.RangeBody range = (_, start, end) => kernel(x.Span[start..end], y.Span[start..end]);
            return () => _samples.For(y.Length, range);
        }

        Action Binary(BinaryKernel kernel)
        {
            var (a, b) = (In(0), In(1));
            if (!SplitElementwise(y.Length)) return () => kernel(a.Span, b.Span, y.Span);
            SampleParallel.RangeBody range = (_, start, end) => kernel(a.Span[start..end], b.Span[start..end], y.Span[start..end]);
            return () => _samples.For(y.Length, range);
        }
    }

    // Below this many elements a second thread's wake-up costs more than its half of the work.
    private const int ParallelElements = 1 << 16;

    private bool SplitElementwise(int length) => _samples.Threads > 1 && length >= ParallelElements;

    private delegate void UnaryKernel(ReadOnlySpan<float> x, Span<float> y);

    private delegate void BinaryKernel(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y);

    private (int Rows, int Cols) Matrix(int node)
    {
        var shape = _shapes[node];
        if (shape.Length == 0) return (1, 1);
        var cols = shape[^1];
        return (cols == 0 ? 0 : shape.Aggregate(1, (a, d) => a * d) / cols, cols);
    }
}
