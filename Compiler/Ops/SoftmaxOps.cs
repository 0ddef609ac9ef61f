using Dlc.Compiler.Ir;

namespace Dlc.Compiler.Ops;

/// <summary>Normalisations over the last axis; both differentiate from their output.</summary>
internal static class SoftmaxOps
{
    public static IEnumerable<OpInfo> All =>
    [
        new(Op.Softmax, "softmax", 1, OpTable.SameAsFirst, "y = e^x / Σ e^x over the last axis")
        {
            Backward = (c, node, dy) => Through(c, node, dy, Op.SoftmaxGrad),
        },
        new(Op.SoftmaxGrad, "softmax_grad", 2, OpTable.SameShapes, "dx = y · (dy − Σ dy·y)"),
        new(Op.LogSoftmax, "log_softmax", 1, OpTable.SameAsFirst, "y = x − log Σ e^x over the last axis")
        {
            Backward = (c, node, dy) => Through(c, node, dy, Op.LogSoftmaxGrad),
        },
        new(Op.LogSoftmaxGrad, "log_softmax_grad", 2, OpTable.SameShapes, "dx = dy − e^y · Σ dy"),
    ];

    private static void Through(BackwardContext c, Node node, int dy, Op gradient)
    {
        var x = node.Inputs[0];
        if (c.NeedsGradient(x)) c.Accumulate(x, c.Emit(gradient, node.Id, dy));
    }
}
