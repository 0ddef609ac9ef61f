using Dlc.Compiler.Ir;

namespace Dlc.Compiler.Ops;

/// <summary>
/// Pointwise nonlinearities. Relu, sigmoid and tanh differentiate from their output y (so x need not be
/// kept); gelu needs its input x.
/// </summary>
internal static class ActivationOps
{
    public static IEnumerable<OpInfo> All =>
    [
        Activation(Op.Relu, "relu", "y = max(x, 0)", Op.ReluGrad, fromOutput: true),
        Gradient(Op.ReluGrad, "relu_grad", "dx = dy · [y > 0]"),
        Activation(Op.Sigmoid, "sigmoid", "y = 1 / (1 + e^−x)", Op.SigmoidGrad, fromOutput: true),
        Gradient(Op.SigmoidGrad, "sigmoid_grad", "dx = dy · y · (1 − y)"),
        Activation(Op.Tanh, "tanh", "y = tanh x", Op.TanhGrad, fromOutput: true),
        Gradient(Op.TanhGrad, "tanh_grad", "dx = dy · (1 − y²)"),
        Activation(Op.Gelu, "gelu", "y = x · Φ(x) (exact, with erf)", Op.GeluGrad, fromOutput: false),
        Gradient(Op.GeluGrad, "gelu_grad", "dx = dy · (Φ(x) + x · φ(x))"),
    ];

    private static OpInfo Activation(Op op, string name, string summary, Op gradient, bool fromOutput) =>
        new(op, name, 1, OpTable.SameAsFirst, summary)
        {
            IsElementwise = true,
            Backward = (c, node, dy) =>
            {
                var x = node.Inputs[0];
                if (c.NeedsGradient(x)) c.Accumulate(x, c.Emit(gradient, fromOutput ? node.Id : x, dy));
            },
        };

    private static OpInfo Gradient(Op op, string name, string summary) =>
        new(op, name, 2, OpTable.SameShapes, summary) { IsElementwise = true };
}
