using Dlc.Compiler.Ir;

namespace Dlc.Compiler.Ops;

/// <summary>Arithmetic on tensors of one shape.</summary>
internal static class ElementwiseOps
{
    public static IEnumerable<OpInfo> All =>
    [
        new(Op.Add, "add", 2, OpTable.SameShapes, "y = a + b") { Backward = AddBackward, IsElementwise = true },
        new(Op.Subtract, "sub", 2, OpTable.SameShapes, "y = a − b") { Backward = SubtractBackward, IsElementwise = true },
        new(Op.Multiply, "mul", 2, OpTable.SameShapes, "y = a · b") { Backward = MultiplyBackward, IsElementwise = true },
        new(Op.Scale, "scale", 1, OpTable.SameAsFirst, "y = value · x") { Backward = ScaleBackward, IsElementwise = true },
        new(Op.Divide, "div", 2, OpTable.SameShapes, "y = a / b") { Backward = DivideBackward, IsElementwise = true },
    ];

    private static void AddBackward(BackwardContext c, Node node, int dy)
    {
        foreach (var input in node.Inputs)
        {
            if (c.NeedsGradient(input)) c.Accumulate(input, dy);
        }
    }

    private static void SubtractBackward(BackwardContext c, Node node, int dy)
    {
        if (c.NeedsGradient(node.Inputs[0])) c.Accumulate(node.Inputs[0], dy);
        if (c.NeedsGradient(node.Inputs[1])) c.Accumulate(node.Inputs[1], c.Emit(Op.Scale, new OpAttributes { Value = -1 }, dy));
    }

    private static void MultiplyBackward(BackwardContext c, Node node, int dy)
    {
        int a = node.Inputs[0], b = node.Inputs[1];
        if (c.NeedsGradient(a)) c.Accumulate(a, c.Emit(Op.Multiply, dy, b));
        if (c.NeedsGradient(b)) c.Accumulate(b, c.Emit(Op.Multiply, dy, a));
    }

    /// <summary>da = dy / b; db = −dy · a / b² = −(dy · y) / b.</summary>
    private static void DivideBackward(BackwardContext c, Node node, int dy)
    {
        int a = node.Inputs[0], b = node.Inputs[1];
        if (c.NeedsGradient(a)) c.Accumulate(a, c.Emit(Op.Divide, dy, b));
        if (c.NeedsGradient(b))
            c.Accumulate(b, c.Emit(Op.Scale, new OpAttributes { Value = -1 }, c.Emit(Op.Divide, c.Emit(Op.Multiply, dy, node.Id), b)));
    }

    private static void ScaleBackward(BackwardContext c, Node node, int dy)
    {
        if (c.NeedsGradient(node.Inputs[0]))
            c.Accumulate(node.Inputs[0], c.Emit(Op.Scale, new OpAttributes { Value = node.Attributes.Value }, dy));
    }
}
