using Dlc.Compiler.Ir;

namespace Dlc.Compiler.Ops;

/// <summary>Matrix products and bias: the dense layer is MatMul(x, Wᵀ) then BiasAdd.</summary>
internal static class LinearOps
{
    public static IEnumerable<OpInfo> All =>
    [
        new(Op.MatMul, "matmul", 2, MatMulShape, "C[M,N] = op(A)[M,K] · op(B)[K,N], op = optional transpose")
        {
            Backward = MatMulBackward,
        },
        new(Op.BiasAdd, "bias_add", 2, BiasAddShape, "y[..,C] = x[..,C] + b[C]") { Backward = BiasAddBackward },
        new(Op.BiasGrad, "bias_grad", 1, BiasGradShape, "db[C] = Σ over rows of dy[..,C]"),
    ];

    private static Shape MatMulShape(Shape[] s, OpAttributes a, Shape? declared)
    {
        if (s[0].Rank != 2 || s[1].Rank != 2) throw new ShapeException($"matmul needs matrices, got {s[0]} and {s[1]}");
        var (m, k1) = a.TransA ? (s[0][1], s[0][0]) : (s[0][0], s[0][1]);
        var (k2, n) = a.TransB ? (s[1][1], s[1][0]) : (s[1][0], s[1][1]);
        if (k1 != k2) throw new ShapeException($"matmul inner dimensions differ: {k1} and {k2}");
        return new Shape(m, n);
    }

    // C = op(A)·op(B). For each transpose case the gradients are again single products, so the
    // backward pass runs the same GEMM kernels with other transpose flags and never transposes data.
    private static void MatMulBackward(BackwardContext c, Node node, int dC)
    {
        int a = node.Inputs[0], b = node.Inputs[1];
        bool ta = node.Attributes.TransA, tb = node.Attributes.TransB;
        if (c.NeedsGradient(a))
        {
            var dA = (ta, tb) switch
            {
                (false, false) => c.Emit(Op.MatMul, new OpAttributes { TransB = true }, dC, b),    // dC·Bᵀ
                (false, true) => c.Emit(Op.MatMul, dC, b),                                          // dC·B
                (true, false) => c.Emit(Op.MatMul, new OpAttributes { TransB = true }, b, dC),     // B·dCᵀ
                (true, true) => c.Emit(Op.MatMul, new OpAttributes { TransA = true, TransB = true }, b, dC), // Bᵀ·dCᵀ
            };
            c.Accumulate(a, dA);
        }
        if (c.NeedsGradient(b))
        {
            var dB = (ta, tb) switch
            {
                (false, false) => c.Emit(Op.MatMul, new OpAttributes { TransA = true }, a, dC),    // Aᵀ·dC
                (false, true) => c.Emit(Op.MatMul, new OpAttributes { TransA = true }, dC, a),     // dCᵀ·A
                (true, false) => c.Emit(Op.MatMul, a, dC),                                          // A·dC
                (true, true) => c.Emit(Op.MatMul, new OpAttributes { TransA = true, TransB = true }, dC, a), // dCᵀ·Aᵀ
            };
            c.Accumulate(b, dB);
        }
    }

    private static Shape BiasAddShape(Shape[] s, OpAttributes a, Shape? declared)
    {
        if (s[1].Rank != 1 || s[0].Rank == 0 || s[0].Last != s[1][0])
            throw new ShapeException($"bias {s[1]} does not fit the last axis of {s[0]}");
        return s[0];
    }

    private static void BiasAddBackward(BackwardContext c, Node node, int dy)
    {
        if (c.NeedsGradient(node.Inputs[0])) c.Accumulate(node.Inputs[0], dy);
        if (c.NeedsGradient(node.Inputs[1])) c.Accumulate(node.Inputs[1], c.Emit(Op.BiasGrad, dy));
    }

    private static Shape BiasGradShape(Shape[] s, OpAttributes a, Shape? declared) => new(s[0].Last);
}
