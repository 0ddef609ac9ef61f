using Dlc.Backend.Gemm;
using Dlc.Backend.Kernels;
using Dlc.Backend.Kernels.Reference;
using Dlc.Backend.Tests.Support;

namespace Dlc.Backend.Tests.Kernels;

/// <summary>
/// The im2col convolution and the max pooling kernels against their plain-loop references, over odd shapes:
/// uneven padding, strides and dilations that leave columns unread, groups, non-square windows and a 1×1
/// window, and windows of at most 16 taps. The scratch holds two samples, so a batch of three runs as two
/// chunks of different widths. Each output of a convolution is a sum of at most C/G·KH·KW products, so float
/// sums of N(0, 1) values stay within 1e-5 of the double reference; max pooling moves values and is exact.
/// </summary>
public class ConvolutionTests
{
    // N, C, H, W, K, KH, KW, SH, SW, pad top, left, bottom, right, DH, DW, groups
    private static readonly int[][] Shapes =
    [
        [2, 3, 5, 5, 4, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 1],
        [1, 2, 7, 6, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1],
        [3, 4, 9, 8, 6, 3, 2, 2, 3, 2, 0, 1, 1, 2, 1, 2],
        [2, 6, 6, 7, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 6],
        [2, 5, 4, 3, 7, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1],
        [1, 3, 11, 5, 5, 5, 3, 3, 1, 0, 2, 2, 0, 1, 2, 1],
        // At most 16 taps (a grey image's 3×3, a 2×2 over two channels, a 1×1 and a 4×4 of one channel): loops over the
        // unrolled rows, no product, four vectors of positions and four taps at a time, and what is left over.
        [3, 1, 7, 6, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1],
        [2, 2, 5, 9, 4, 2, 2, 1, 2, 0, 1, 1, 0, 1, 1, 1],
        [2, 1, 9, 9, 3, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1],
        [1, 1, 10, 10, 2, 4, 4, 1, 1, 0, 0, 0, 0, 1, 1, 1],
        // Stride 2 with AVX-512 unrolls and scatters sixteen columns at a time from the even floats of a row: rows of 13
        // columns (one part vector), of 20 (a whole one and four), and a ResNet's strided 1×1 shortcut.
        [2, 3, 26, 26, 4, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1],
        [1, 2, 12, 40, 3, 3, 3, 2, 2, 1, 1, 0, 0, 1, 1, 1],
        [2, 4, 28, 28, 6, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1, 1],
    ];

    public static TheoryData<int> ShapeIndices() => [.. Enumerable.Range(0, Shapes.Length)];

    private static Conv2dGeometry Geometry(int[] s, bool pool)
    {
        int Out(int size, int k, int stride, int pads, int dilation) => (size + pads - dilation * (k - 1) - 1) / stride + 1;
        var (oh, ow) = (Out(s[2], s[5], s[7], s[9] + s[11], s[13]), Out(s[3], s[6], s[8], s[10] + s[12], s[14]));
        return pool
            ? new(s[0], s[1], s[2], s[3], s[1], oh, ow, s[5], s[6], s[7], s[8], s[9], s[10], s[13], s[14], s[1])
            : new(s[0], s[1], s[2], s[3], s[4], oh, ow, s[5], s[6], s[7], s[8], s[9], s[10], s[13], s[14], s[15]);
    }

    public static TheoryData<int, int> ShapesAndThreads()
    {
        var data = new TheoryData<int, int>();
        foreach (var shape in Enumerable.Range(0, Shapes.Length))
            foreach (var threads in new[] { 1, 2, 3 }) data.Add(shape, threads);
        return data;
    }

    [Theory]
    [MemberData(nameof(ShapesAndThreads))]
    public unsafe void Convolution_forward_and_backward_match_the_reference(int shape, int threads)
    {
        var g = Geometry(Shapes[shape], pool: false);
        var (x, w, b, dy) = (TestData.Normal(g.InputSize, 1), TestData.Normal(g.WeightSize, 2), TestData.Normal(g.OutChannels, 3), TestData.Normal(g.OutputSize, 4));
        // NaN-filled outputs show that every kernel overwrites rather than accumulates.
        float[] Fresh(int n) => Enumerable.Repeat(float.NaN, n).ToArray();
        var (y, dx, dw, db) = (Fresh(g.OutputSize), Fresh(g.InputSize), Fresh(g.WeightSize), Fresh(g.OutChannels));
        var (columns, partials) = Conv2dKernel.ScratchLengths(g, threads);
        var (col, part) = (Fresh(columns), Fresh(Math.Max(1, partials)));
        using var parallel = new SampleParallel(threads);
        fixed (float* px = x, pw = w, pb = b, pdy = dy, py = y, pdx = dx, pdw = dw, pcol = col, ppart = part)
        {
            var kernel = new Conv2dKernel(g, new ManagedGemm(1), threads > 1 ? parallel : null, pcol, ppart);
            kernel.Forward(px, pw, pb, py);
            kernel.InputGrad(pdy, pw, pdx);
            kernel.WeightGrad(px, pdy, pdw);
        }
        Convolution.Conv2dBiasGrad(dy, db, g.Batch, g.OutChannels, g.Positions);

        var (rx, rw, rb, rdy) = (TestData.ToDouble(x), TestData.ToDouble(w), TestData.ToDouble(b), TestData.ToDouble(dy));
        var (ry, rdx, rdw, rdb) = (new double[y.Length], new double[dx.Length], new double[dw.Length], new double[db.Length]);
        ConvolutionReference.Conv2d<double>(rx, rw, rb, ry, g);
        ConvolutionReference.Conv2dInputGrad<double>(rdy, rw, rdx, g);
        ConvolutionReference.Conv2dWeightGrad<double>(rx, rdy, rdw, g);
        ConvolutionReference.Conv2dBiasGrad<double>(rdy, rdb, g.Batch, g.OutChannels, g.Positions);
        Close.All(y, ry, 1e-5, 1e-5, "y");
        Close.All(dx, rdx, 1e-5, 1e-5, "dx");
        Close.All(dw, rdw, 1e-5, 1e-4, "dw");
        Close.All(db, rdb, 1e-5, 1e-4, "db");
    }

    [Fact]
    public unsafe void Convolution_without_bias_is_the_bare_product()
    {
        var g = Geometry(Shapes[1], pool: false);
        var (x, w) = (TestData.Normal(g.InputSize, 5), TestData.Normal(g.WeightSize, 6));
        var (columns, _) = Conv2dKernel.ScratchLengths(g, 1);
        var (y, col) = (new float[g.OutputSize], new float[columns]);
        fixed (float* px = x, pw = w, py = y, pcol = col)
            new Conv2dKernel(g, new ManagedGemm(1), null, pcol, null).Forward(px, pw, null, py);
        var ry = new double[y.Length];
        ConvolutionReference.Conv2d<double>(TestData.ToDouble(x), TestData.ToDouble(w), [], ry, g);
        Close.All(y, ry, 1e-5, 1e-5, "y");
    }

    [Theory]
    [MemberData(nameof(ShapeIndices))]
    public void Max_pooling_forward_and_backward_match_the_reference_exactly(int shape)
    {
        var g = Geometry(Shapes[shape], pool: true);
        if (g.PadTop * 2 > g.KernelH || g.PadLeft * 2 > g.KernelW) return; // a window may not lie wholly in the padding
        var (x, dy) = (TestData.Normal(g.InputSize, 7), TestData.Normal(g.OutputSize, 8));
        x[0] = x[1]; // a tie: both kernels give the gradient to the first
        var (y, dx) = (new float[g.OutputSize], Enumerable.Repeat(float.NaN, g.InputSize).ToArray());
        Pooling.MaxPool2d(x, y, g);
        Pooling.MaxPool2dBackward(x, dy, dx, g);
        var (ry, rdx) = (new double[y.Length], new double[dx.Length]);
        PoolingReference.MaxPool2d<double>(TestData.ToDouble(x), ry, g);
        PoolingReference.MaxPool2dBackward<double>(TestData.ToDouble(x), TestData.ToDouble(dy), rdx, g);
        Close.All(y, ry, 0, 0, "y");
        Close.All(dx, rdx, 1e-6, 1e-6, "dx");
    }

    [Theory]
    [InlineData(6, 8, false)]
    [InlineData(7, 5, false)]
    [InlineData(6, 34, false)] // rows of 17 windows: eight (or sixteen) at a time, the last group overlapping
    [InlineData(5, 17, false)]
    [InlineData(6, 34, true)]
    [InlineData(7, 5, true)]
    [InlineData(6, 28, false)] // 14 windows: one group of sixteen with AVX-512, lanes past the row masked off
    [InlineData(4, 66, true)] // 33 windows: sixteen at a time, the last sixteen overlapping
    public void Plain_two_by_two_pooling_matches_the_reference_with_ties_and_a_nan(int height, int width, bool positiveOnly)
    {
        // [2, 3, H, W] pooled 2×2 with stride 2: the common case has a path of its own.
        var g = new Conv2dGeometry(2, 3, height, width, 3, height / 2, width / 2, 2, 2, 2, 2, 0, 0, 1, 1, 3);
        var (x, dy) = (TestData.Normal(g.InputSize, 9), TestData.Normal(g.OutputSize, 10));
        x[0] = x[1] = x[width] = x[width + 1]; // a four-way tie goes to the first tap
        x[g.InputSize - width - 2] = float.NaN;  // a NaN wins its window, as in PyTorch
        // dx starts as NaN: the kernel must write every element, those of no window's winner included.
        var (y, dx) = (new float[g.OutputSize], Enumerable.Repeat(float.NaN, g.InputSize).ToArray());
        Pooling.MaxPool2d(x, y, g);
        Pooling.MaxPool2dBackward(x, dy, dx, g, positiveOnly);
        var (ry, rdx) = (new double[y.Length], new double[dx.Length]);
        PoolingReference.MaxPool2d<double>(TestData.ToDouble(x), ry, g);
        PoolingReference.MaxPool2dBackward<double>(TestData.ToDouble(x), TestData.ToDouble(dy), rdx, g);
        // The fused ReLU gradient: only winners above zero pass dy on.
        if (positiveOnly) for (var k = 0; k < rdx.Length; k++) rdx[k] = x[k] > 0f ? rdx[k] : 0.0;
        for (var k = 0; k < y.Length; k++)
        {
            if (double.IsNaN(ry[k])) float.IsNaN(y[k]).ShouldBeTrue($"y[{k}]");
            else ((double)y[k]).ShouldBe(ry[k], $"y[{k}]");
        }
        Close.All(dx, rdx, 1e-6, 1e-6, "dx");
    }
}
