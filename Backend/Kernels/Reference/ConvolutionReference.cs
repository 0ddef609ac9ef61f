using System.Numerics;

namespace Dlc.Backend.Kernels.Reference;

/// <summary>
/// Definitions of <see cref="Convolution"/> in plain loops over every output element and tap, generic over T:
/// y[n, k, i, j] = b[k] + Σ_{c, p, q} w[k, c, p, q] · x[n, g·C/G + c, i·SH − PT + p·DH, j·SW − PL + q·DW],
/// with x zero outside the image and g the group of k.
/// </summary>
public static class ConvolutionReference
{
    public static void Conv2d<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> w, ReadOnlySpan<T> bias, Span<T> y, Conv2dGeometry g)
        where T : IFloatingPointIeee754<T>
    {
        g.Check(x.Length, y.Length, nameof(x), nameof(y));
        Shapes.Same(g.WeightSize, w.Length, nameof(w));
        if (!bias.IsEmpty) Shapes.Same(g.OutChannels, bias.Length, nameof(bias));
        for (var n = 0; n < g.Batch; n++)
            for (var k = 0; k < g.OutChannels; k++)
                for (var i = 0; i < g.OutHeight; i++)
                    for (var j = 0; j < g.OutWidth; j++)
                    {
                        var sum = bias.IsEmpty ? T.Zero : bias[k];
                        foreach (var (xi, wi) in Taps(g, n, k, i, j)) sum += w[wi] * x[xi];
                        y[((n * g.OutChannels + k) * g.OutHeight + i) * g.OutWidth + j] = sum;
                    }
    }

    /// <summary>dx = Σ over the outputs each input element feeds of w · dy (overwritten).</summary>
    public static void Conv2dInputGrad<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> w, Span<T> dx, Conv2dGeometry g)
        where T : IFloatingPointIeee754<T>
    {
        g.Check(dx.Length, dy.Length, nameof(dx), nameof(dy));
        Shapes.Same(g.WeightSize, w.Length, nameof(w));
        dx.Clear();
        for (var n = 0; n < g.Batch; n++)
            for (var k = 0; k < g.OutChannels; k++)
                for (var i = 0; i < g.OutHeight; i++)
                    for (var j = 0; j < g.OutWidth; j++)
                    {
                        var d = dy[((n * g.OutChannels + k) * g.OutHeight + i) * g.OutWidth + j];
                        foreach (var (xi, wi) in Taps(g, n, k, i, j)) dx[xi] += w[wi] * d;
                    }
    }

    /// <summary>dw = Σ over N and output positions of dy · x at each tap (overwritten).</summary>
    public static void Conv2dWeightGrad<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> dy, Span<T> dw, Conv2dGeometry g)
        where T : IFloatingPointIeee754<T>
    {
        g.Check(x.Length, dy.Length, nameof(x), nameof(dy));
        Shapes.Same(g.WeightSize, dw.Length, nameof(dw));
        dw.Clear();
        for (var n = 0; n < g.Batch; n++)
            for (var k = 0; k < g.OutChannels; k++)
                for (var i = 0; i < g.OutHeight; i++)
                    for (var j = 0; j < g.OutWidth; j++)
                    {
                        var d = dy[((n * g.OutChannels + k) * g.OutHeight + i) * g.OutWidth + j];
                        foreach (var (xi, wi) in Taps(g, n, k, i, j)) dw[wi] += x[xi] * d;
                    }
    }

    /// <summary>db[k] = Σ over N and positions of dy[n, k, ·, ·] (overwritten).</summary>
    public static void Conv2dBiasGrad<T>(ReadOnlySpan<T> dy, Span<T> db, int batch, int channels, int positions)
        where T : IFloatingPointIeee754<T>
    {
        Shapes.Same(batch * channels * positions, dy.Length, nameof(dy));
        Shapes.Same(channels, db.Length, nameof(db));
        for (var k = 0; k < channels; k++)
        {
            var sum = T.Zero;
            for (var n = 0; n < batch; n++)
                for (var p = 0; p < positions; p++) sum += dy[(n * channels + k) * positions + p];
            db[k] = sum;
        }
    }

    /// <summary>The (input index, weight index) of every tap of output (n, k, i, j) that falls inside the image.</summary>
    internal static IEnumerable<(int X, int W)> Taps(Conv2dGeometry g, int n, int k, int i, int j)
    {
        var group = k / g.OutPerGroup;
        for (var c = 0; c < g.ChannelsPerGroup; c++)
            for (var p = 0; p < g.KernelH; p++)
                for (var q = 0; q < g.KernelW; q++)
                {
                    var (h, v) = (i * g.StrideH - g.PadTop + p * g.DilationH, j * g.StrideW - g.PadLeft + q * g.DilationW);
                    if (h < 0 || h >= g.Height || v < 0 || v >= g.Width) continue;
                    var channel = group * g.ChannelsPerGroup + c;
                    yield return (((n * g.Channels + channel) * g.Height + h) * g.Width + v, ((k * g.ChannelsPerGroup + c) * g.KernelH + p) * g.KernelW + q);
                }
    }
}
