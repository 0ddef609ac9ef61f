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
            Cost = MatMulCost,
        },
        new(Op.BiasAdd, "bias_add", 2, BiasAddShape, "y[..,C] = x[..,C] + b[C]") { Backward = BiasAddBackward },
        new(Op.BiasGrad, "bias_grad", 1, BiasGradShape, "db[C] = Σ over rows of dy[..,C]"),
    ];

    // Leading axes of an operand fold into its rows, so dense applies to [N, T, D] as nn.Linear does.
    private static Shape MatMulShape(Shape[] s, OpAttributes a, Shape? declared)
    {
        if (s[0].Rank < 2 || s[1].Rank < 2) throw new ShapeException($"matmul needs matrices, got {s[0]} and {s[1]}");
        var (rows, k1) = a.TransA ? (new[] { s[0].Last }, Leading(s[0])) : (Leading(s[0]), new[] { s[0].Last });
        var (k2, cols) = a.TransB ? (new[] { s[1].Last }, Leading(s[1])) : (Leading(s[1]), new[] { s[1].Last });
        if (!k1.SequenceEqual(k2))
            throw new ShapeException($"matmul inner dimensions differ: {string.Join("×", k1)} and {string.Join("×", k2)}");
        return new Shape(rows.Concat(cols));
    }

    private static Dim[] Leading(Shape s) => s.Dims.Take(s.Rank - 1).ToArray();

    private static Count MatMulCost(Node node, Shape[] s, string? batch)
    {
        var inner = node.Attributes.TransA ? new Shape(Leading(s[0])) : new Shape(s[0].Last);
        return 2 * Count.Elements(node.Shape, batch) * Count.Elements(inner, batch);
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
