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

    /// <summary>
    /// y = the mean of each window; padding counts as 0 and is counted (PyTorch's count_include_pad), so every
    /// window divides by KH·KW. Plain loops serve as the plan's kernel too: average pooling is rarely hot.
    /// </summary>
    public static void AvgPool2d<T>(ReadOnlySpan<T> x, Span<T> y, Conv2dGeometry g) where T : IFloatingPointIeee754<T>
    {
        g.Check(x.Length, y.Length, nameof(x), nameof(y));
        var area = T.CreateChecked(g.KernelH * g.KernelW);
        for (var o = 0; o < g.OutputSize; o++)
        {
            var sum = T.Zero;
            var (plane, i, j) = (o / g.Positions, o / g.OutWidth % g.OutHeight, o % g.OutWidth);
            for (var p = 0; p < g.KernelH; p++)
                for (var q = 0; q < g.KernelW; q++)
                {
                    var (h, v) = (i * g.StrideH - g.PadTop + p * g.DilationH, j * g.StrideW - g.PadLeft + q * g.DilationW);
                    if (h >= 0 && h < g.Height && v >= 0 && v < g.Width) sum += x[(plane * g.Height + h) * g.Width + v];
                }
            y[o] = sum / area;
        }
    }

    /// <summary>dx = each dy / (KH·KW) added to every element of its window (overwritten).</summary>
    public static void AvgPool2dBackward<T>(ReadOnlySpan<T> dy, Span<T> dx, Conv2dGeometry g) where T : IFloatingPointIeee754<T>
    {
        Shapes.Same(g.OutputSize, dy.Length, nameof(dy));
        Shapes.Same(g.InputSize, dx.Length, nameof(dx));
        dx.Clear();
        var area = T.CreateChecked(g.KernelH * g.KernelW);
        for (var o = 0; o < g.OutputSize; o++)
        {
            var share = dy[o] / area;
            var (plane, i, j) = (o / g.Positions, o / g.OutWidth % g.OutHeight, o % g.OutWidth);
            for (var p = 0; p < g.KernelH; p++)
                for (var q = 0; q < g.KernelW; q++)
                {
                    var (h, v) = (i * g.StrideH - g.PadTop + p * g.DilationH, j * g.StrideW - g.PadLeft + q * g.DilationW);
                    if (h >= 0 && h < g.Height && v >= 0 && v < g.Width) dx[(plane * g.Height + h) * g.Width + v] += share;
                }
        }
    }

    /// <summary>y[plane] = the mean of the plane's <paramref name="positions"/> values.</summary>
    public static void GlobalAvgPool<T>(ReadOnlySpan<T> x, Span<T> y, int planes, int positions) where T : IFloatingPointIeee754<T>
    {
        Shapes.Same(planes * positions, x.Length, nameof(x));
        Shapes.Same(planes, y.Length, nameof(y));
        var n = T.CreateChecked(positions);
        for (var p = 0; p < planes; p++)
        {
            var sum = T.Zero;
            foreach (var v in x.Slice(p * positions, positions)) sum += v;
            y[p] = sum / n;
        }
    }

    public static void GlobalAvgPoolBackward<T>(ReadOnlySpan<T> dy, Span<T> dx, int planes, int positions) where T : IFloatingPointIeee754<T>
    {
        Shapes.Same(planes, dy.Length, nameof(dy));
        Shapes.Same(planes * positions, dx.Length, nameof(dx));
        var n = T.CreateChecked(positions);
        for (var p = 0; p < planes; p++) dx.Slice(p * positions, positions).Fill(dy[p] / n);
    }

    /// <summary>Nearest upsampling of [planes, H, W] by (fh, fw): y[i, j] = x[i / fh, j / fw].</summary>
    public static void UpsampleNearest<T>(ReadOnlySpan<T> x, Span<T> y, int planes, int height, int width, int fh, int fw)
        where T : IFloatingPointIeee754<T>
    {
        Shapes.Same(planes * height * width, x.Length, nameof(x));
        Shapes.Same(x.Length * fh * fw, y.Length, nameof(y));
        var (outH, outW) = (height * fh, width * fw);
        for (var p = 0; p < planes; p++)
            for (var i = 0; i < outH; i++)
                for (var j = 0; j < outW; j++)
                    y[(p * outH + i) * outW + j] = x[(p * height + i / fh) * width + j / fw];
    }

    /// <summary>dx[i, j] = the sum of dy over the fh×fw copies of x[i, j] (overwritten).</summary>
    public static void UpsampleNearestBackward<T>(ReadOnlySpan<T> dy, Span<T> dx, int planes, int height, int width, int fh, int fw)
        where T : IFloatingPointIeee754<T>
    {
        Shapes.Same(planes * height * width, dx.Length, nameof(dx));
        Shapes.Same(dx.Length * fh * fw, dy.Length, nameof(dy));
        dx.Clear();
        var (outH, outW) = (height * fh, width * fw);
        for (var p = 0; p < planes; p++)
            for (var i = 0; i < outH; i++)
                for (var j = 0; j < outW; j++)
                    dx[(p * height + i / fh) * width + j / fw] += dy[(p * outH + i) * outW + j];
    }
}
