using System.Numerics;

namespace Dlc.Backend.Kernels.Reference;

/// <summary>
/// Definitions of <see cref="Pooling"/> in plain loops, generic over T. Padding counts as −∞, and the gradient
/// of each window goes to its first largest element in row-major order, as PyTorch's CPU kernel chooses.
/// </summary>
public static class PoolingReference
{
    public static void MaxPool2d<T>(ReadOnlySpan<T> x, Span<T> y, Conv2dGeometry g) where T : IFloatingPointIeee754<T>
    {
        g.Check(x.Length, y.Length, nameof(x), nameof(y));
        for (var o = 0; o < g.OutputSize; o++) y[o] = x[Winner(x, g, o)];
    }

    /// <summary>dx = each dy added at its window's winner, found again from x (overwritten).</summary>
    public static void MaxPool2dBackward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> dy, Span<T> dx, Conv2dGeometry g)
        where T : IFloatingPointIeee754<T>
    {
        g.Check(x.Length, dy.Length, nameof(x), nameof(dy));
        Shapes.Same(x.Length, dx.Length, nameof(dx));
        dx.Clear();
        for (var o = 0; o < g.OutputSize; o++) dx[Winner(x, g, o)] += dy[o];
    }

    /// <summary>The input index of the largest element in the window of output element <paramref name="o"/>.</summary>
    private static int Winner<T>(ReadOnlySpan<T> x, Conv2dGeometry g, int o) where T : IFloatingPointIeee754<T>
    {
        var j = o % g.OutWidth;
        var i = o / g.OutWidth % g.OutHeight;
        var plane = o / g.Positions;
        var best = -1;
        for (var p = 0; p < g.KernelH; p++)
            for (var q = 0; q < g.KernelW; q++)
            {
                var (h, v) = (i * g.StrideH - g.PadTop + p * g.DilationH, j * g.StrideW - g.PadLeft + q * g.DilationW);
                if (h < 0 || h >= g.Height || v < 0 || v >= g.Width) continue;
                var at = (plane * g.Height + h) * g.Width + v;
                if (best < 0 || x[at] > x[best] || (T.IsNaN(x[at]) && !T.IsNaN(x[best]))) best = at;
            }
        return best >= 0 ? best : throw new ArgumentException("a pooling window lies wholly in the padding");
    }
}
