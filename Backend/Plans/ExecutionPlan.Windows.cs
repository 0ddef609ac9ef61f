using Dlc.Backend.Gemm;
using Dlc.Backend.Kernels;
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
            case Op.Conv2d:
            {
                var g = Conv2dGeometry.Convolution(ShapeOf(0), ShapeOf(1), _shapes[node.Id], node.Attributes);
                var (x, w, col) = (In(0), In(1), Scratch(g));
                var bias = node.Inputs.Count > 2 ? In(2) : default;
                var hasBias = node.Inputs.Count > 2;
                var gemm = provider.Choose(false, false, g.OutPerGroup, col.Samples * g.Positions, g.Patch);
                return () => Convolution.Conv2d(x.Pointer, w.Pointer, hasBias ? bias.Pointer : null, y.Pointer, col, g, gemm);
            }
            case Op.Conv2dInputGrad:
            {
                // Inputs (dy, w, x): x lends its shape only.
                var g = Conv2dGeometry.Convolution(ShapeOf(2), ShapeOf(1), ShapeOf(0), node.Attributes);
                var (dy, w, col) = (In(0), In(1), Scratch(g));
                var gemm = provider.Choose(true, false, g.Patch, col.Samples * g.Positions, g.OutPerGroup);
                return () => Convolution.Conv2dInputGrad(dy.Pointer, w.Pointer, y.Pointer, col, g, gemm);
            }
            case Op.Conv2dWeightGrad:
            {
                // Inputs (x, dy, w): w lends its shape only.
                var g = Conv2dGeometry.Convolution(ShapeOf(0), ShapeOf(2), ShapeOf(1), node.Attributes);
                var (x, dy, col) = (In(0), In(1), Scratch(g));
                var gemm = provider.Choose(false, true, g.OutPerGroup, g.Patch, col.Samples * g.Positions);
                return () => Convolution.Conv2dWeightGrad(x.Pointer, dy.Pointer, y.Pointer, col, g, gemm);
            }
            case Op.Conv2dBiasGrad:
            {
                var s = ShapeOf(0);
                var dy = In(0);
                var (batch, channels, positions) = (s[0], s[1], s.Skip(2).Aggregate(1, (a, d) => a * d));
                return () => Convolution.Conv2dBiasGrad(dy.Span, y.Span, batch, channels, positions);
            }
            case Op.MaxPool:
            {
                var g = Conv2dGeometry.Pooling(ShapeOf(0), _shapes[node.Id], node.Attributes);
                var x = In(0);
                return () => Pooling.MaxPool2d(x.Span, y.Span, g);
            }
            case Op.MaxPoolGrad:
            {
                var g = Conv2dGeometry.Pooling(ShapeOf(0), ShapeOf(1), node.Attributes);
                var (x, dy) = (In(0), In(1));
                return () => Pooling.MaxPool2dBackward(x.Span, dy.Span, y.Span, g);
            }
            default:
                throw new NotSupportedException($"`{OpTable.Info(node.Op).Name}` is not a window op");
        }
    }

    /// <summary>A convolution's two scratch matrices, allocated once with the plan.</summary>
    private unsafe Conv2dScratch Scratch(Conv2dGeometry g)
    {
        var (samples, columns, rows) = Conv2dScratch.Lengths(g);
        return new Conv2dScratch(Allocate(columns).Pointer, Allocate(rows).Pointer, samples);
    }
}
