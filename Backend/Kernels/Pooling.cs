namespace Dlc.Backend.Kernels;

/// <summary>
/// 2-D max pooling over NCHW float tensors. The backward pass finds each window's winner again from x rather
/// than reading indices saved by the forward pass, so the two steps share no state and allocate nothing.
/// Padding counts as −∞; ties go to the first largest element in row-major order, as in PyTorch.
/// </summary>
public static class Pooling
{
    public static void MaxPool2d(ReadOnlySpan<float> x, Span<float> y, Conv2dGeometry g)
    {
        g.Check(x.Length, y.Length, nameof(x), nameof(y));
        if (IsPlainTwoByTwo(g))
        {
            TwoByTwo(x, y, default, default, g);
            return;
        }
        var o = 0;
        for (var plane = 0; plane < g.Batch * g.Channels; plane++)
        {
            var image = x.Slice(plane * g.Height * g.Width, g.Height * g.Width);
            for (var i = 0; i < g.OutHeight; i++)
                for (var j = 0; j < g.OutWidth; j++, o++) y[o] = image[Winner(image, g, i, j)];
        }
    }

    /// <summary>
    /// dx = each dy added at its window's winner (overwritten). With <paramref name="positiveOnly"/>, only at
    /// winners above zero: the gradient of a ReLU whose output x is, applied in the same pass.
    /// </summary>
    public static void MaxPool2dBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, Conv2dGeometry g, bool positiveOnly = false)
    {
        g.Check(x.Length, dy.Length, nameof(x), nameof(dy));
        Shapes.Same(x.Length, dx.Length, nameof(dx));
        if (IsPlainTwoByTwo(g))
        {
            // With even sizes the windows tile the image and each writes its four elements; otherwise the
            // last row or column belongs to no window and stays zero.
            if (g.Height % 2 != 0 || g.Width % 2 != 0) dx.Clear();
            TwoByTwo(x, default, dy, dx, g, positiveOnly);
            return;
        }
        dx.Clear();
        var o = 0;
        var size = g.Height * g.Width;
        for (var plane = 0; plane < g.Batch * g.Channels; plane++)
        {
            var image = x.Slice(plane * size, size);
            var target = dx.Slice(plane * size, size);
            for (var i = 0; i < g.OutHeight; i++)
                for (var j = 0; j < g.OutWidth; j++, o++)
                {
                    var winner = Winner(image, g, i, j);
                    if (!positiveOnly || image[winner] > 0f) target[winner] += dy[o];
                }
        }
    }

    /// <summary>The common 2×2 window with stride 2, no padding, no dilation: windows tile the image.</summary>
    private static bool IsPlainTwoByTwo(in Conv2dGeometry g) =>
        g is { KernelH: 2, KernelW: 2, StrideH: 2, StrideW: 2, PadTop: 0, PadLeft: 0, DilationH: 1, DilationW: 1 };

    /// <summary>
    /// Forward (y) or backward (dy, dx) of the plain 2×2 case, with the window's four taps read directly.
    /// A window with a NaN goes through the general search, so NaNs and ties behave exactly as there.
    /// </summary>
    private static void TwoByTwo(ReadOnlySpan<float> x, Span<float> y, ReadOnlySpan<float> dy, Span<float> dx, Conv2dGeometry g, bool positiveOnly = false)
    {
        int w = g.Width, size = g.Height * w, outW = g.OutWidth, outSize = g.OutHeight * outW;
        var backward = !dx.IsEmpty;
        for (var plane = 0; plane < g.Batch * g.Channels; plane++)
        {
            var image = x.Slice(plane * size, size);
            var o = plane * outSize;
            for (var i = 0; i < g.OutHeight; i++)
            {
                var top = 2 * i * w;
                for (var j = 0; j < outW; j++, o++)
                {
                    var at = top + 2 * j;
                    float a = image[at], b = image[at + 1], c = image[at + w], d = image[at + w + 1];
                    int best;
                    if (float.IsNaN(a + b + c + d))
                    {
                        best = Inside(image, g, at);
                    }
                    else
                    {
                        (best, var max) = (at, a);
                        if (b > max) (best, max) = (at + 1, b);
                        if (c > max) (best, max) = (at + w, c);
                        if (d > max) best = at + w + 1;
                    }
                    if (backward)
                    {
                        // Every element of the window is written: the winner gets dy, the others 0.
                        var target = dx.Slice(plane * size + at);
                        target[0] = 0f;
                        target[1] = 0f;
                        target[w] = 0f;
                        target[w + 1] = 0f;
                        if (!positiveOnly || image[best] > 0f) target[best - at] = dy[o];
                    }
                    else y[o] = image[best];
                }
            }
        }
    }

    private static int Winner(ReadOnlySpan<float> image, Conv2dGeometry g, int i, int j)
    {
        if (g.PadTop == 0 && g.PadLeft == 0) return Inside(image, g, i * g.StrideH * g.Width + j * g.StrideW);
        return Clipped(image, g, i, j);
    }

    // Without padding every tap of every window lies inside the image (the output size guarantees it), so the
    // window is read without per-tap bounds checks: the common unpadded pooling runs at memory speed.
    private static int Inside(ReadOnlySpan<float> image, Conv2dGeometry g, int corner)
    {
        ref var start = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(image);
        var best = corner;
        var max = System.Runtime.CompilerServices.Unsafe.Add(ref start, corner);
        if (float.IsNaN(max)) return best;
        for (var p = 0; p < g.KernelH; p++)
        {
            var row = corner + p * g.DilationH * g.Width;
            for (var q = 0; q < g.KernelW; q++)
            {
                var at = row + q * g.DilationW;
                var value = System.Runtime.CompilerServices.Unsafe.Add(ref start, at);
                if (value > max) (best, max) = (at, value);
                else if (float.IsNaN(value)) return at;
            }
        }
        return best;
    }

    private static int Clipped(ReadOnlySpan<float> image, Conv2dGeometry g, int i, int j)
    {
        var best = -1;
        var max = float.NegativeInfinity;
        for (var p = 0; p < g.KernelH; p++)
        {
            var h = i * g.StrideH - g.PadTop + p * g.DilationH;
            if ((uint)h >= (uint)g.Height) continue;
            var row = h * g.Width;
            for (var q = 0; q < g.KernelW; q++)
            {
                var v = j * g.StrideW - g.PadLeft + q * g.DilationW;
                if ((uint)v >= (uint)g.Width) continue;
                var value = image[row + v];
                if (best < 0 || value > max || float.IsNaN(value))
                {
                    (best, max) = (row + v, value);
                    if (float.IsNaN(value)) return best;
                }
            }
        }
        return best >= 0 ? best : throw new ArgumentException("a pooling window lies wholly in the padding");
    }
}
