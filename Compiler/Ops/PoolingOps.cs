using Dlc.Compiler.Ir;

namespace Dlc.Compiler.Ops;

/// <summary>Pooling and resampling over the spatial axes of NCL and NCHW tensors, as torch.nn's pooling layers.</summary>
internal static class PoolingOps
{
    public static IEnumerable<OpInfo> All =>
    [
        new(Op.MaxPool, "max_pool", 1, PoolShape, "y = the largest element of each window (padding counts as −∞)")
        {
            Cost = WindowCost,
            Backward = MaxPoolBackward,
        },
        // The winner of each window is found again from x rather than stored, so the forward pass keeps no indices.
        new(Op.MaxPoolGrad, "max_pool_grad", 2, (s, a, d) => s[0], "dx = dy routed to the largest element of each window (x, dy)")
        {
            Cost = (node, s, batch) => Count.Elements(s[1], batch) * node.Attributes.Kernel!.Aggregate(1L, (p, k) => p * k),
        },
        new(Op.AvgPool, "avg_pool", 1, PoolShape, "y = the mean of each window (padding counts as 0 and is counted)")
        {
            Cost = WindowCost,
            Backward = (c, node, dy) => InputGradient(c, node, dy, Op.AvgPoolGrad),
        },
        new(Op.AvgPoolGrad, "avg_pool_grad", 2, (s, a, d) => s[0], "dx = each dy spread evenly over its window (x, dy)")
        {
            Cost = (node, s, batch) => Count.Elements(s[1], batch) * node.Attributes.Kernel!.Aggregate(1L, (p, k) => p * k),
        },
        new(Op.GlobalAvgPool, "global_avg_pool", 1, GlobalShape, "y[N,C] = the mean over every spatial position")
        {
            Cost = (node, s, batch) => Count.Elements(s[0], batch),
            Backward = (c, node, dy) => InputGradient(c, node, dy, Op.GlobalAvgPoolGrad),
        },
        new(Op.GlobalAvgPoolGrad, "global_avg_pool_grad", 2, (s, a, d) => s[0], "dx[N,C,...] = dy[N,C] / positions at every position (x, dy)")
        {
            Cost = (node, s, batch) => Count.Elements(s[0], batch),
        },
        new(Op.Upsample, "upsample", 1, UpsampleShape, "y = x with each spatial axis `factor` times larger (nearest or bilinear)")
        {
            Backward = (c, node, dy) => InputGradient(c, node, dy, Op.UpsampleGrad),
        },
        new(Op.UpsampleGrad, "upsample_grad", 2, (s, a, d) => s[0], "dx = the sum of dy over the copies each input element was spread to (x, dy)"),
    ];

    private static Shape PoolShape(Shape[] s, OpAttributes a, Shape? declared)
    {
        var rank = a.Kernel!.Length;
        if (s[0].Rank != rank + 2) throw new ShapeException($"a {rank}-D pooling window needs rank {rank + 2}, got {s[0]}");
        var dims = new List<Dim> { s[0][0], s[0][1] };
        for (var i = 0; i < rank; i++)
            dims.Add(ConvolutionOps.WindowOutput(s[0][i + 2], a.Kernel[i], a.Stride![i], a.Padding![i], a.Padding![i + rank], 1));
        return new Shape(dims);
    }

    private static void MaxPoolBackward(BackwardContext c, Node node, int dy)
    {
        var x = node.Inputs[0];
        if (c.NeedsGradient(x)) c.Accumulate(x, c.Emit(Op.MaxPoolGrad, node.Attributes, x, dy));
    }

    private static void InputGradient(BackwardContext c, Node node, int dy, Op gradient)
    {
        var x = node.Inputs[0];
        if (c.NeedsGradient(x)) c.Accumulate(x, c.Emit(gradient, node.Attributes, x, dy));
    }

    private static Shape GlobalShape(Shape[] s, OpAttributes a, Shape? declared) =>
        s[0].Rank >= 3 ? new Shape(s[0][0], s[0][1]) : throw new ShapeException($"global pooling needs spatial axes, got {s[0]}");

    private static Shape UpsampleShape(Shape[] s, OpAttributes a, Shape? declared)
    {
        var rank = a.Factor!.Length;
        if (s[0].Rank != rank + 2) throw new ShapeException($"upsampling {rank} axes needs rank {rank + 2}, got {s[0]}");
        if (s[0].Dims.Skip(2).Any(d => d.IsSymbolic)) throw new ShapeException($"upsampling needs fixed spatial sizes, got {s[0]}");
        return new Shape(s[0].Dims.Select((d, i) => i < 2 ? d : Dim.Of(d.Size * a.Factor[i - 2])));
    }

    private static Count WindowCost(Node node, Shape[] s, string? batch) =>
        Count.Elements(node.Shape, batch) * node.Attributes.Kernel!.Aggregate(1L, (p, k) => p * k);
}
