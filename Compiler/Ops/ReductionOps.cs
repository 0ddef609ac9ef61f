using Dlc.Compiler.Ir;

namespace Dlc.Compiler.Ops;

/// <summary>Sums, broadcasts, reshapes and the dropout mask.</summary>
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
    ];

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
