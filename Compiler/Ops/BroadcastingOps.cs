using Dlc.Compiler.Ir;

namespace Dlc.Compiler.Ops;

/// <summary>
/// Broadcasting as NumPy and PyTorch define it, made explicit: the elaborator gives `a + b` of two shapes
/// that broadcast an <see cref="Op.Expand"/> of each operand that is smaller than the result, so the
/// arithmetic ops themselves only ever see one shape. The gradient of an expansion sums over the axes it
/// repeated (<see cref="Op.ReduceTo"/>), and the other way round.
/// </summary>
internal static class BroadcastingOps
{
    public static IEnumerable<OpInfo> All =>
    [
        new(Op.Expand, "broadcast_to", 1, ExpandShape, "y = x repeated along its axes of size 1 (and new leading axes) to the declared shape")
        {
            Backward = (c, node, dy) =>
            {
                var x = node.Inputs[0];
                if (c.NeedsGradient(x)) c.Accumulate(x, c.Builder.Add(Op.ReduceTo, [dy], null, c.Origin, c.ShapeOf(x)));
            },
        },
        new(Op.ReduceTo, "sum_to", 1, ReduceToShape, "y = x summed over the axes that broadcasting the declared shape to x's repeats")
        {
            Backward = (c, node, dy) =>
            {
                var x = node.Inputs[0];
                if (c.NeedsGradient(x)) c.Accumulate(x, c.Builder.Add(Op.Expand, [dy], null, c.Origin, c.ShapeOf(x)));
            },
        },
    ];

    private static Shape ExpandShape(Shape[] s, OpAttributes a, Shape? declared)
    {
        if (declared is null) throw new ShapeException("broadcast_to needs a declared shape");
        if (Broadcasting.Combine(s[0], declared) != declared) throw new ShapeException($"{s[0]} does not broadcast to {declared}");
        return declared;
    }

    private static Shape ReduceToShape(Shape[] s, OpAttributes a, Shape? declared)
    {
        if (declared is null) throw new ShapeException("sum_to needs a declared shape");
        if (Broadcasting.Combine(declared, s[0]) != s[0]) throw new ShapeException($"{declared} does not broadcast to {s[0]}, so {s[0]} cannot be summed to it");
        return declared;
    }
}

/// <summary>The broadcasting rule on shapes with symbolic dimensions.</summary>
public static class Broadcasting
{
    /// <summary>
    /// The shape two operands broadcast to, or null when they do not: shapes are aligned at their last axes,
    /// the shorter one padded with axes of size 1 in front; on each axis the sizes must be equal (the same
    /// number or the same symbol), or one of them 1. A symbol is not known to be 1, so `N` with `5` fails.
    /// </summary>
    public static Shape? Combine(Shape a, Shape b) => Combine(a, b, out _);

    /// <summary>As <see cref="Combine(Shape, Shape)"/>; <paramref name="failingAxis"/> is the last axis (counted in the longer shape) that fails.</summary>
    public static Shape? Combine(Shape a, Shape b, out int failingAxis)
    {
        var rank = Math.Max(a.Rank, b.Rank);
        var dims = new Dim[rank];
        failingAxis = -1;
        for (var axis = rank - 1; axis >= 0; axis--)
        {
            var da = At(a, axis - (rank - a.Rank));
            var db = At(b, axis - (rank - b.Rank));
            if (da == db || IsOne(db)) dims[axis] = da;
            else if (IsOne(da)) dims[axis] = db;
            else if (failingAxis < 0) failingAxis = axis;
        }
        return failingAxis < 0 ? new Shape(dims) : null;
    }

    /// <summary>The size of an axis of the padded shape: 1 for the padding in front.</summary>
    public static Dim At(Shape shape, int axis) => axis < 0 ? Dim.Of(1) : shape[axis];

    private static bool IsOne(Dim d) => !d.IsSymbolic && d.Size == 1;
}
