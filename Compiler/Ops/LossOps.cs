using Dlc.Compiler.Ir;

namespace Dlc.Compiler.Ops;

/// <summary>
/// Losses reduce to a scalar mean. Softmax and cross-entropy are one op, so the gradient is the
/// numerically safe (softmax − onehot)/N rather than a chain through log and exp.
/// </summary>
internal static class LossOps
{
    public static IEnumerable<OpInfo> All =>
    [
        new(Op.SoftmaxCrossEntropy, "softmax_cross_entropy", 2, CrossEntropyShape,
            "loss = mean over rows of −log softmax(logits)[label]; labels are class indices, one per row ([N] for [N, C], [N, T] for [N, T, C]); value=ε smooths the labels (1 − ε on the label, ε/C on every class)")
        {
            NonDifferentiableInputs = [1],
            Backward = (c, node, dl) =>
            {
                int logits = node.Inputs[0], labels = node.Inputs[1];
                if (c.NeedsGradient(logits)) c.Accumulate(logits, c.Emit(Op.SoftmaxCrossEntropyGrad, node.Attributes, logits, labels, dl));
            },
        },
        new(Op.SoftmaxCrossEntropyGrad, "softmax_cross_entropy_grad", 3, OpTable.SameAsFirst, "dlogits = (softmax − target) · dl / rows, target the one-hot label smoothed by value=ε"),
        new(Op.Mse, "mse", 2, MseShape, "loss = mean of (pred − target)²")
        {
            Backward = (c, node, dl) =>
            {
                int pred = node.Inputs[0], target = node.Inputs[1];
                var needPred = c.NeedsGradient(pred);
                var needTarget = c.NeedsGradient(target);
                if (!needPred && !needTarget) return;
                var dPred = c.Emit(Op.MseGrad, pred, target, dl);
                if (needPred) c.Accumulate(pred, dPred);
                if (needTarget) c.Accumulate(target, c.Emit(Op.Scale, new OpAttributes { Value = -1 }, dPred));
            },
        },
        new(Op.MseGrad, "mse_grad", 3, OpTable.SameAsFirst, "dpred = 2 · (pred − target) · dl / count"),
    ];

    private static Shape CrossEntropyShape(Shape[] s, OpAttributes a, Shape? declared)
    {
        // Leading axes are rows: [N, T, C] scores every position of a sequence.
        if (s[0].Rank < 2) throw new ShapeException($"cross-entropy takes logits of rank 2 or more, got {s[0]}");
        if (s[1] != new Shape(s[0].Dims.Take(s[0].Rank - 1))) throw new ShapeException($"labels {s[1]} do not fit logits {s[0]}");
        return Shape.Scalar;
    }

    private static Shape MseShape(Shape[] s, OpAttributes a, Shape? declared)
    {
        if (s[0] != s[1]) throw new ShapeException($"mse compares equal shapes, got {s[0]} and {s[1]}");
        return Shape.Scalar;
    }
}
