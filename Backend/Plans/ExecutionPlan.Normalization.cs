using System.Numerics.Tensors;
using Dlc.Backend.Kernels;
using Dlc.Compiler.Ir;

namespace Dlc.Backend.Plans;

public sealed partial class ExecutionPlan
{
    /// <summary>
    /// Batch norm, layer norm and weight normalisation steps. Batch norm's channels are independent, so they are split over the
    /// plan's threads; a training forward step also moves the running statistics (parameters that are not
    /// trained) and counts the batch, as PyTorch's num_batches_tracked does.
    /// </summary>
    private Action NormalizationStep(Node node)
    {
        var y = _buffers[node.Id];
        BufferRef In(int i) => _buffers[node.Inputs[i]];
        var a = node.Attributes;
        var (eps, training) = ((float)a.Value, a.Training);
        var parallel = _samples;
        switch (node.Op)
        {
            case Op.BatchNorm:
            {
                var l = ChannelLayout.Of(_shapes[node.Inputs[0]]);
                var (x, w, b, mean, variance, count) = (In(0), In(1), In(2), In(3), In(4), In(5));
                var (momentum, relu) = ((float)a.Momentum, _reluFused.Contains(node.Id));
                SampleParallel.RangeBody body = (part, c0, c1) =>
                    Normalization.BatchNorm(x.Span, w.Span, b.Span, mean.Span, variance.Span, y.Span, l, eps, momentum, training, c0, c1, relu);
                return () =>
                {
                    parallel.For(l.Channels, body);
                    if (training) count.Span[0] += 1;
                };
            }
            case Op.BatchNormInputGrad when _normWeightOf.TryGetValue(node.Id, out var weightNode):
            {
                var (l, x, w, variance, dy) = (ChannelLayout.Of(_shapes[node.Inputs[0]]), In(0), In(1), In(2), In(3));
                var (mean, dw) = (_buffers[_graph[weightNode].Inputs[1]], _buffers[weightNode]);
                var db = _normBiasOf.TryGetValue(node.Id, out var biasNode) ? _buffers[biasNode] : (BufferRef?)null;
                return OverChannels(l, (c0, c1) => Normalization.BatchNormGradients(x.Span, w.Span, mean.Span, variance.Span, dy.Span, y.Span,
                    dw.Span, db is { } bias ? bias.Span : default, l, eps, training, c0, c1));
            }
            case Op.BatchNormInputGrad:
            {
                var (l, x, w, variance, dy) = (ChannelLayout.Of(_shapes[node.Inputs[0]]), In(0), In(1), In(2), In(3));
                return OverChannels(l, (c0, c1) => Normalization.BatchNormInputGrad(x.Span, w.Span, variance.Span, dy.Span, y.Span, l, eps, training, c0, c1));
            }
            case Op.BatchNormWeightGrad:
            {
                var (l, x, mean, variance, dy) = (ChannelLayout.Of(_shapes[node.Inputs[0]]), In(0), In(1), In(2), In(3));
                return OverChannels(l, (c0, c1) => Normalization.BatchNormWeightGrad(x.Span, mean.Span, variance.Span, dy.Span, y.Span, l, eps, training, c0, c1));
            }
            case Op.LayerNorm:
            {
                var (rows, cols) = Matrix(node.Inputs[0]);
                var (x, w, b) = (In(0), In(1), In(2));
                return OverRows(rows, cols, (r0, r1) => Normalization.LayerNorm(x.Span, w.Span, b.Span, y.Span, rows, cols, eps, r0, r1));
            }
            case Op.LayerNormInputGrad when _normWeightOf.TryGetValue(node.Id, out var weightNode):
            {
                var (rows, cols) = Matrix(node.Inputs[0]);
                var (x, w, dy) = (In(0), In(1), In(2));
                if (!_normBiasOf.TryGetValue(node.Id, out var biasNode))
                    return OverRowsSumming(rows, cols, [_buffers[weightNode]],
                        (sums, r0, r1) => Normalization.LayerNormGradients(x.Span, w.Span, dy.Span, y.Span, sums, rows, cols, eps, r0, r1));
                return OverRowsSumming(rows, cols, [_buffers[weightNode], _buffers[biasNode]],
                    (sums, r0, r1) => Normalization.LayerNormGradients(x.Span, w.Span, dy.Span, y.Span, sums[..cols], rows, cols, eps, r0, r1, sums[cols..]));
            }
            case Op.LayerNormInputGrad:
            {
                var (rows, cols) = Matrix(node.Inputs[0]);
                var (x, w, dy) = (In(0), In(1), In(2));
                return OverRows(rows, cols, (r0, r1) => Normalization.LayerNormInputGrad(x.Span, w.Span, dy.Span, y.Span, rows, cols, eps, r0, r1));
            }
            case Op.LayerNormWeightGrad:
            {
                var (rows, cols) = Matrix(node.Inputs[0]);
                var (x, dy) = (In(0), In(1));
                return OverRowsSumming(rows, cols, [y], (dw, r0, r1) => Normalization.LayerNormWeightGrad(x.Span, dy.Span, dw, rows, cols, eps, r0, r1));
            }
            case Op.BatchNormFoldWeight:
            {
                var (w, gamma, variance) = (In(0), In(1), In(2));
                return () => Normalization.FoldWeight(w.Span, gamma.Span, variance.Span, y.Span, eps);
            }
            case Op.BatchNormFoldBias:
            {
                var (b, gamma, beta, mean, variance) = (In(0), In(1), In(2), In(3), In(4));
                return () => Normalization.FoldBias(b.Span, gamma.Span, beta.Span, mean.Span, variance.Span, y.Span, eps);
            }
            case Op.WeightNorm:
            {
                var (v, g) = (In(0), In(1));
                return () => WeightNorm.Forward(v.Span, g.Span, y.Span);
            }
            case Op.WeightNormDirectionGrad:
            {
                var (v, g, dw) = (In(0), In(1), In(2));
                return () => WeightNorm.DirectionGrad(v.Span, g.Span, dw.Span, y.Span);
            }
            case Op.WeightNormScaleGrad:
            {
                var (v, dw) = (In(0), In(2));
                return () => WeightNorm.ScaleGrad(v.Span, dw.Span, y.Span);
            }
            default:
                throw new NotSupportedException($"`{OpTable.Info(node.Op).Name}` is not a normalisation op");
        }
    }

    /// <summary>
    /// A step that runs <paramref name="range"/> over ranges of a [rows, cols] matrix's rows as <see cref="OverRows"/>, each part
    /// summing into rows of its own (cols floats per total, one after another, cleared first), and the parts' rows added into
    /// <paramref name="totals"/> at the end.
    /// </summary>
    private Action OverRowsSumming(int rows, int cols, BufferRef[] totals, Action<Span<float>, int, int> range)
    {
        var parallel = _samples;
        var split = SplitElementwise(rows * cols);
        var parts = split ? Math.Min(parallel.Threads, rows) : 1;
        var width = totals.Length * cols;
        var partial = new float[parts * width];
        SampleParallel.RangeBody body = (part, r0, r1) =>
        {
            var sums = partial.AsSpan(part * width, width);
            sums.Clear();
            range(sums, r0, r1);
        };
        return () =>
        {
            if (split) parallel.For(rows, body);
            else body(0, 0, rows);
            for (var t = 0; t < totals.Length; t++)
            {
                var sum = totals[t].Span;
                partial.AsSpan(t * cols, cols).CopyTo(sum);
                for (var p = 1; p < parts; p++) TensorPrimitives.Add(sum, partial.AsSpan(p * width + t * cols, cols), sum);
            }
        };
    }

    /// <summary>
    /// A step that runs <paramref name="range"/> over ranges of a [rows, cols] matrix's rows split across the plan's threads,
    /// or on the calling thread when the matrix is too small to be worth waking the others.
    /// </summary>
    private Action OverRows(int rows, int cols, Action<int, int> range)
    {
        var parallel = _samples;
        SampleParallel.RangeBody body = (part, r0, r1) => range(r0, r1);
        if (!SplitElementwise(rows * cols)) return () => range(0, rows);
        return () => parallel.For(rows, body);
    }

    /// <summary>A step that runs <paramref name="channels"/> over ranges of channels split across the plan's threads.</summary>
    private Action OverChannels(ChannelLayout l, Action<int, int> channels)
    {
        var parallel = _samples;
        SampleParallel.RangeBody body = (part, c0, c1) => channels(c0, c1);
        return () => parallel.For(l.Channels, body);
    }
}
