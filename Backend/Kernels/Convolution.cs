using Dlc.Backend.Gemm;

namespace Dlc.Backend.Kernels;

/// <summary>
/// Where a convolution works: an im2col matrix [C/G·KH·KW, S·OH·OW] for a chunk of S samples, and a matrix
/// [K/G, S·OH·OW] holding the chunk's output or output gradient with samples side by side. Unrolling several
/// samples at once makes each product wide enough to run near the GEMM's speed; the chunk is bounded so the
/// scratch stays a few MiB. The plan allocates both once, <see cref="Lengths"/> long.
/// </summary>
public readonly unsafe struct Conv2dScratch(float* columns, float* rows, int samples)
{
    /// <summary>Floats of im2col matrix per chunk this size aims for (4 MiB).</summary>
    public const int Target = 1 << 20;

    public float* Columns { get; } = columns;
    public float* Rows { get; } = rows;
    public int Samples { get; } = samples;

    /// <summary>The chunk of samples and the lengths of the two matrices for a geometry.</summary>
    public static (int Samples, int Columns, int Rows) Lengths(Conv2dGeometry g)
    {
        var perSample = Math.Max(1, g.Patch * g.Positions);
        var samples = Math.Clamp(Target / perSample, 1, Math.Max(1, g.Batch));
        return (samples, g.Patch * g.Positions * samples, g.OutPerGroup * g.Positions * samples);
    }
}

/// <summary>
/// 2-D convolution over NCHW float tensors as matrix products over chunks of samples (see
/// <see cref="Conv2dScratch"/>): y = w · col, dcol = wᵀ · dy scattered back by col2im, and dw = Σ dy · colᵀ.
/// Nothing is allocated per call.
/// </summary>
public static unsafe class Convolution
{
    /// <summary>y = conv(x, w) + bias; <paramref name="bias"/> may be null.</summary>
    public static void Conv2d(float* x, float* w, float* bias, float* y, Conv2dScratch scratch, Conv2dGeometry g, IGemm gemm)
    {
        var (patch, positions, kg) = (g.Patch, g.Positions, g.OutPerGroup);
        for (var n0 = 0; n0 < g.Batch; n0 += scratch.Samples)
        {
            var s = Math.Min(scratch.Samples, g.Batch - n0);
            var ld = s * positions;
            for (var group = 0; group < g.Groups; group++)
            {
                for (var i = 0; i < s; i++) Unroll(x, scratch.Columns + (long)i * positions, ld, g, n0 + i, group);
                gemm.Sgemm(false, false, kg, ld, patch, 1f, w + (long)group * kg * patch, patch, scratch.Columns, ld, 0f, scratch.Rows, ld);
                for (var i = 0; i < s; i++)
                    for (var k = 0; k < kg; k++)
                    {
                        var channel = group * kg + k;
                        var from = new ReadOnlySpan<float>(scratch.Rows + (long)k * ld + i * positions, positions);
                        var to = new Span<float>(y + ((long)(n0 + i) * g.OutChannels + channel) * positions, positions);
                        if (bias is null) from.CopyTo(to);
                        else System.Numerics.Tensors.TensorPrimitives.Add(from, bias[channel], to);
                    }
            }
        }
    }

    /// <summary>dx = the transposed convolution of dy with w (overwritten).</summary>
    public static void Conv2dInputGrad(float* dy, float* w, float* dx, Conv2dScratch scratch, Conv2dGeometry g, IGemm gemm)
    {
        var (patch, positions, kg) = (g.Patch, g.Positions, g.OutPerGroup);
        new Span<float>(dx, g.InputSize).Clear();
        for (var n0 = 0; n0 < g.Batch; n0 += scratch.Samples)
        {
            var s = Math.Min(scratch.Samples, g.Batch - n0);
            var ld = s * positions;
            for (var group = 0; group < g.Groups; group++)
            {
                Gather(dy, scratch.Rows, g, n0, s, group);
                gemm.Sgemm(true, false, patch, ld, kg, 1f, w + (long)group * kg * patch, patch, scratch.Rows, ld, 0f, scratch.Columns, ld);
                for (var i = 0; i < s; i++)
                    Roll(scratch.Columns + (long)i * positions, ld, dx + ((long)(n0 + i) * g.Channels + group * g.ChannelsPerGroup) * g.Height * g.Width, g);
            }
        }
    }

    /// <summary>dw = Σ over the batch of dy · colᵀ (overwritten).</summary>
    public static void Conv2dWeightGrad(float* x, float* dy, float* dw, Conv2dScratch scratch, Conv2dGeometry g, IGemm gemm)
    {
        var (patch, positions, kg) = (g.Patch, g.Positions, g.OutPerGroup);
        for (var n0 = 0; n0 < g.Batch; n0 += scratch.Samples)
        {
            var s = Math.Min(scratch.Samples, g.Batch - n0);
            var ld = s * positions;
            for (var group = 0; group < g.Groups; group++)
            {
                for (var i = 0; i < s; i++) Unroll(x, scratch.Columns + (long)i * positions, ld, g, n0 + i, group);
                Gather(dy, scratch.Rows, g, n0, s, group);
                gemm.Sgemm(false, true, kg, patch, ld, 1f, scratch.Rows, ld, scratch.Columns, ld, n0 == 0 ? 0f : 1f,
                    dw + (long)group * kg * patch, patch);
            }
        }
    }

    /// <summary>The group's channels of dy for samples n0..n0+s, side by side: rows[k, i·P + p] = dy[n0 + i, g·K/G + k, p].</summary>
    private static void Gather(float* dy, float* rows, Conv2dGeometry g, int n0, int s, int group)
    {
        var (positions, kg) = (g.Positions, g.OutPerGroup);
        for (var i = 0; i < s; i++)
            for (var k = 0; k < kg; k++)
                new ReadOnlySpan<float>(dy + ((long)(n0 + i) * g.OutChannels + group * kg + k) * positions, positions)
                    .CopyTo(new Span<float>(rows + (long)k * s * positions + i * positions, positions));
    }

    /// <summary>db[k] = Σ over N and positions of dy[n, k] (overwritten).</summary>
    public static void Conv2dBiasGrad(ReadOnlySpan<float> dy, Span<float> db, int batch, int channels, int positions)
    {
        Shapes.Same(batch * channels * positions, dy.Length, nameof(dy));
        Shapes.Same(channels, db.Length, nameof(db));
        for (var k = 0; k < channels; k++)
        {
            var sum = 0f;
            for (var n = 0; n < batch; n++) sum += System.Numerics.Tensors.TensorPrimitives.Sum(dy.Slice((n * channels + k) * positions, positions));
            db[k] = sum;
        }
    }

    /// <summary>im2col of sample n, group g into the columns of one sample; rows are <paramref name="ld"/> apart.</summary>
    private static void Unroll(float* x, float* col, int ld, Conv2dGeometry g, int n, int group)
    {
        var image = x + ((long)n * g.Channels + group * g.ChannelsPerGroup) * g.Height * g.Width;
        var row = col;
        for (var c = 0; c < g.ChannelsPerGroup; c++)
            for (var p = 0; p < g.KernelH; p++)
                for (var q = 0; q < g.KernelW; q++, row += ld)
                    Columns(image + (long)c * g.Height * g.Width, row, g, p, q, scatter: false);
    }

    /// <summary>col2im: every tap's row of one sample's columns added back into the image it was read from.</summary>
    private static void Roll(float* col, int ld, float* image, Conv2dGeometry g)
    {
        var row = col;
        for (var c = 0; c < g.ChannelsPerGroup; c++)
            for (var p = 0; p < g.KernelH; p++)
                for (var q = 0; q < g.KernelW; q++, row += ld)
                    Columns(image + (long)c * g.Height * g.Width, row, g, p, q, scatter: true);
    }

    /// <summary>
    /// One tap (p, q) of one channel plane: gathers the plane into a row of OH·OW (zeros in the padding) or
    /// scatters the row back by adding. Only the output columns whose tap lands inside the image are touched.
    /// </summary>
    private static void Columns(float* plane, float* row, Conv2dGeometry g, int p, int q, bool scatter)
    {
        var offset = q * g.DilationW - g.PadLeft;
        // Output columns j with 0 ≤ j·SW + offset < W.
        var first = offset >= 0 ? 0 : (-offset + g.StrideW - 1) / g.StrideW;
        var last = Math.Min(g.OutWidth, g.Width - offset <= 0 ? 0 : (g.Width - offset - 1) / g.StrideW + 1);
        for (var i = 0; i < g.OutHeight; i++)
        {
            var r = row + (long)i * g.OutWidth;
            var h = i * g.StrideH - g.PadTop + p * g.DilationH;
            if (h < 0 || h >= g.Height || first >= last)
            {
                if (!scatter) new Span<float>(r, g.OutWidth).Clear();
                continue;
            }
            var src = plane + (long)h * g.Width + offset;
            if (scatter)
            {
                if (g.StrideW == 1)
                {
                    var to = new Span<float>(src + first, last - first);
                    System.Numerics.Tensors.TensorPrimitives.Add(to, new ReadOnlySpan<float>(r + first, last - first), to);
                }
                else
                {
                    for (var j = first; j < last; j++) src[j * g.StrideW] += r[j];
                }
                continue;
            }
            for (var j = 0; j < first; j++) r[j] = 0f;
            if (g.StrideW == 1) new ReadOnlySpan<float>(src + first, last - first).CopyTo(new Span<float>(r + first, last - first));
            else for (var j = first; j < last; j++) r[j] = src[j * g.StrideW];
            for (var j = last; j < g.OutWidth; j++) r[j] = 0f;
        }
    }
}
