using Dlc.Compiler.Ir;

namespace Dlc.Compiler.Ops;

/// <summary>Sums, broadcasts, reshapes, concatenation and the dropout mask.</summary>
internal static class ReductionOps
{
    public static IEnumerable<OpInfo> All =>
    [
        new(Op.Sum, "sum", 1, OpTable.ScalarResult, "s = Σ x over every element")
        {
            Backward = (c, node, ds) =>
            {
                var x = node.Inputs[0];
                if (c.NeedsGradient(x)) c.Accumulate(x, c.Builder.Add(Op.Broadcast, [ds], null, c.Origin, c.ShapeOf(x)));
            },
        },
        new(Op.Broadcast, "broadcast", 1, BroadcastShape, "y = s in every element of the declared shape")
        {
            Backward = (c, node, dy) =>
            {
                var s = node.Inputs[0];
                if (c.NeedsGradient(s)) c.Accumulate(s, c.Emit(Op.Sum, dy));
            },
        },
        new(Op.Reshape, "reshape", 1, ReshapeShape, "y = x with the declared shape, same elements in the same order")
        {
            Cost = (node, s, batch) => Count.Zero,
            Backward = (c, node, dy) =>
            {
                var x = node.Inputs[0];
                if (c.NeedsGradient(x)) c.Accumulate(x, c.Builder.Add(Op.Reshape, [dy], null, c.Origin, c.ShapeOf(x)));
            },
        },
        new(Op.DropoutMask, "dropout_mask", 1, OpTable.SameAsFirst, "m = 0 with probability value, else 1/(1 − value)")
        {
            IsRandom = true,
        },
        new(Op.Concat, "concat", -1, ConcatShape, "y = the inputs joined along `axis`; every other axis agrees")
        {
            Cost = (node, s, batch) => Count.Zero,
        },
    ];

    private static Shape ConcatShape(Shape[] s, OpAttributes a, Shape? declared)
    {
        if (s.Length < 2) throw new ShapeException("concat joins two or more tensors");
        var axis = a.Axis;
        if (axis < 0 || axis >= s[0].Rank) throw new ShapeException($"concat axis {axis} is outside {s[0]}");
        var total = 0;
        foreach (var shape in s)
        {
            if (shape.Rank != s[0].Rank || Enumerable.Range(0, shape.Rank).Any(i => i != axis && shape[i] != s[0][i]))
                throw new ShapeException($"concat along axis {axis} needs the other axes to agree: {s[0]} and {shape}");
            if (shape[axis].IsSymbolic) throw new ShapeException($"concat needs a fixed size along axis {axis}, got {shape}");
            total += shape[axis].Size;
        }
        return new Shape(s[0].Dims.Select((d, i) => i == axis ? Dim.Of(total) : d));
    }

    private static Shape BroadcastShape(Shape[] s, OpAttributes a, Shape? declared)
    {
        if (s[0].Rank != 0) throw new ShapeException($"broadcast takes a scalar, got {s[0]}");
        return declared ?? throw new ShapeException("broadcast needs a declared shape");
    }

    private static Shape ReshapeShape(Shape[] s, OpAttributes a, Shape? declared)
    {
        if (declared is null) throw new ShapeException("reshape needs a declared shape");
        if (!SameSize(s[0], declared)) throw new ShapeException($"cannot reshape {s[0]} to {declared}");
        return declared;
    }

    /// <summary>Equal element counts: the same symbols on both sides and the same product of fixed sizes.</summary>
    internal static bool SameSize(Shape a, Shape b)
    {
        static (long Product, string Symbols) Split(Shape s) =>
            (s.Dims.Where(d => !d.IsSymbolic).Aggregate(1L, (p, d) => p * d.Size),
             string.Join(",", s.Dims.Where(d => d.IsSymbolic).Select(d => d.Symbol).Order(StringComparer.Ordinal)));
        return Split(a) == Split(b);
    }
}
