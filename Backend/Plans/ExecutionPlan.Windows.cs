using Dlc.Backend.Gemm;
using Dlc.Backend.Kernels;
using Dlc.Backend.Kernels.Reference;
using Dlc.Compiler.Ir;

namespace Dlc.Backend.Plans;

public sealed partial class ExecutionPlan
{
    /// <summary>
    /// Convolution and max pooling steps over NCHW tensors. A convolution's im2col scratch is allocated here,
    /// once, when the plan is compiled; its products run on the provider chosen for their shape.
    /// </summary>
    private unsafe Action WindowStep(Node node, IGemm provider)
    {
        var y = _buffers[node.Id];
        BufferRef In(int i) => _buffers[node.Inputs[i]];
        int[] ShapeOf(int i) => _shapes[node.Inputs[i]];
        switch (node.Op)
        {
            case Op.Conv2d or Op.Conv1d:
            {
                var g = Conv2dGeometry.Convolution(ShapeOf(0), ShapeOf(1), _shapes[node.Id], node.Attributes);
                var kernel = ConvKernel(g, provider, false, false, g.OutPerGroup, g.Positions, g.Patch);
                var (x, w) = (In(0), In(1));
                var bias = node.Inputs.Count > 2 ? In(2) : default;
                var (hasBias, relu) = (node.Inputs.Count > 2, _reluFused.Contains(node.Id));
                return () => kernel.Forward(x.Pointer, w.Pointer, hasBias ? bias.Pointer : null, y.Pointer, relu);
            }
            case Op.Conv2dInputGrad when _convWeightGradOf.TryGetValue(node.Id, out var weightNode):
            {
                // Inputs (dy, w, x); the weight gradient's step (x, dy, w) runs here too (see DecideFusions).
                var g = ConvGradientGeometry(node);
                var kernel = ConvKernel(g, provider, true, false, g.Patch, g.Positions, g.OutPerGroup);
                var (dy, w, x, dw) = (In(0), In(1), In(2), _buffers[weightNode]);
                return () => kernel.Gradients(x.Pointer, dy.Pointer, w.Pointer, y.Pointer, dw.Pointer);
            }
            case Op.Conv2dInputGrad:
            {
                // Inputs (dy, w, x): x lends its shape only.
                var g = Conv2dGeometry.Convolution(ShapeOf(2), ShapeOf(1), ShapeOf(0), node.Attributes);
                var kernel = ConvKernel(g, provider, true, false, g.Patch, g.Positions, g.OutPerGroup);
                var (dy, w) = (In(0), In(1));
                return () => kernel.InputGrad(dy.Pointer, w.Pointer, y.Pointer);
            }
            case Op.Conv2dWeightGrad:
            {
                // Inputs (x, dy, w): w lends its shape only.
                var g = Conv2dGeometry.Convolution(ShapeOf(0), ShapeOf(2), ShapeOf(1), node.Attributes);
                var kernel = ConvKernel(g, provider, false, true, g.OutPerGroup, g.Patch, g.Positions);
                var (x, dy) = (In(0), In(1));
                return () => kernel.WeightGrad(x.Pointer, dy.Pointer, y.Pointer);
            }
            case Op.Conv2dBiasGrad:
            {
                var (l, dy) = (ChannelLayout.Of(ShapeOf(0)), In(0));
                return () => Convolution.Conv2dBiasGrad(dy.Span, y.Span, l.Batch, l.Channels, l.Positions);
            }
            case Op.ConvTranspose2d:
            {
                // conv2d's input gradient as a layer: the convolution it transposes maps y's shape to x's.
                var g = Conv2dGeometry.Convolution(_shapes[node.Id], ShapeOf(1), ShapeOf(0), node.Attributes);
                var kernel = ConvKernel(g, provider, true, false, g.Patch, g.Positions, g.OutPerGroup);
                var (x, w) = (In(0), In(1));
                var bias = node.Inputs.Count > 2 ? In(2) : default;
                var (hasBias, positions) = (node.Inputs.Count > 2, g.Height * g.Width);
                return () =>
                {
                    kernel.InputGrad(x.Pointer, w.Pointer, y.Pointer);
                    if (hasBias) Convolution.AddChannelBias(y.Span, bias.Span, g.Batch, g.Channels, positions);
                };
            }
            case Op.MaxPool:
            {
                var g = Conv2dGeometry.Pooling(ShapeOf(0), _shapes[node.Id], node.Attributes);
                var x = In(0);
                return Planes(g, (s, e) => Pooling.MaxPool2d(Slice(x, g.Batch, s, e), Slice(y, g.Batch, s, e), g with { Batch = e - s }));
            }
            case Op.MaxPoolGrad:
            {
                var g = Conv2dGeometry.Pooling(ShapeOf(0), ShapeOf(1), node.Attributes);
                var (x, dy) = (In(0), In(1));
                var positiveOnly = _reluFused.Contains(node.Id);
                return Planes(g, (s, e) => Pooling.MaxPool2dBackward(Slice(x, g.Batch, s, e), Slice(dy, g.Batch, s, e),
                    Slice(y, g.Batch, s, e), g with { Batch = e - s }, positiveOnly));
            }
            case Op.AvgPool:
            {
                var g = Conv2dGeometry.Pooling(ShapeOf(0), _shapes[node.Id], node.Attributes);
                var x = In(0);
                return Planes(g, (s, e) => PoolingReference.AvgPool2d<float>(Slice(x, g.Batch, s, e), Slice(y, g.Batch, s, e), g with { Batch = e - s }));
            }
            case Op.AvgPoolGrad:
            {
                var g = Conv2dGeometry.Pooling(ShapeOf(0), ShapeOf(1), node.Attributes);
                var dy = In(1);
                return Planes(g, (s, e) => PoolingReference.AvgPool2dBackward<float>(Slice(dy, g.Batch, s, e), Slice(y, g.Batch, s, e), g with { Batch = e - s }));
            }
            case Op.GlobalAvgPool or Op.GlobalAvgPoolGrad:
            {
                var l = ChannelLayout.Of(ShapeOf(0));
                var planes = l.Batch * l.Channels;
                var x = In(node.Op == Op.GlobalAvgPool ? 0 : 1);
                return node.Op == Op.GlobalAvgPool
                    ? () => PoolingReference.GlobalAvgPool<float>(x.Span, y.Span, planes, l.Positions)
                    : () => PoolingReference.GlobalAvgPoolBackward<float>(x.Span, y.Span, planes, l.Positions);
            }
            case Op.Upsample or Op.UpsampleGrad:
            {
                var s = Conv2dGeometry.AsImage(ShapeOf(0));
                var f = node.Attributes.Factor!.Length == 1 ? [1, node.Attributes.Factor[0]] : node.Attributes.Factor;
                var planes = s[0] * s[1];
                var x = In(node.Op == Op.Upsample ? 0 : 1);
                return node.Op == Op.Upsample
                    ? () => PoolingReference.UpsampleNearest<float>(x.Span, y.Span, planes, s[2], s[3], f[0], f[1])
                    : () => PoolingReference.UpsampleNearestBackward<float>(x.Span, y.Span, planes, s[2], s[3], f[0], f[1]);
            }
            default:
                throw new NotSupportedException($"`{OpTable.Info(node.Op).Name}` is not a window op");
        }
    }

    /// <summary>A window op over the samples of a batch, split over the plan's threads.</summary>
    private Action Planes(Conv2dGeometry g, Action<int, int> samples)
    {
        var parallel = _samples;
        SampleParallel.RangeBody body = (part, start, end) => samples(start, end);
        return () => parallel.For(g.Batch, body);
    }

    /// <summary>Samples [start, end) of a buffer holding a batch of <paramref name="batch"/> samples.</summary>
    private static Span<float> Slice(BufferRef buffer, int batch, int start, int end)
    {
        var perSample = buffer.Length / Math.Max(1, batch);
        return buffer.Span.Slice(start * perSample, (end - start) * perSample);
    }

    /// <summary>The convolution a Conv2dInputGrad node (inputs dy, w, x) is the input gradient of.</summary>
    private Conv2dGeometry ConvGradientGeometry(Node inputGrad) =>
        Conv2dGeometry.Convolution(_shapes[inputGrad.Inputs[2]], _shapes[inputGrad.Inputs[1]], _shapes[inputGrad.Inputs[0]], inputGrad.Attributes);

    /// <summary>The live weight gradient (inputs x, dy, w) of the same convolution and dy as an input gradient, or null.</summary>
    private Node? ConvWeightGradientOf(Node inputGrad, bool[] live) =>
        _graph.Nodes.FirstOrDefault(n => live[n.Id] && n.Op == Op.Conv2dWeightGrad && n.Inputs[0] == inputGrad.Inputs[2]
            && n.Inputs[1] == inputGrad.Inputs[0] && n.Inputs[2] == inputGrad.Inputs[1]
            && Conv2dGeometry.Convolution(_shapes[n.Inputs[0]], _shapes[n.Inputs[2]], _shapes[n.Inputs[1]], n.Attributes) == ConvGradientGeometry(inputGrad));

    /// <summary>
    /// A convolution kernel with its scratch allocated once with the plan. With one thread its per-sample
    /// products run on the provider chosen for their shape; with several, each thread runs the managed
    /// single-threaded kernel on its own samples (a multi-threaded provider called from every thread at
    /// once would oversubscribe the cores).
    /// </summary>
    private unsafe Conv2dKernel ConvKernel(Conv2dGeometry g, IGemm provider, bool ta, bool tb, int m, int n, int k)
    {
        var threads = _samples.Threads;
        var (columns, partials) = Conv2dKernel.ScratchLengths(g, threads, _winograd);
        var gemm = threads > 1 ? SingleThreaded : provider.Choose(ta, tb, m, n, k);
        return new Conv2dKernel(g, gemm, threads > 1 ? _samples : null, Allocate(columns).Pointer, Allocate(partials).Pointer, _winograd);
    }
}
