using Dlc.Backend.Gemm;
using Dlc.Backend.Kernels;
using Dlc.Backend.Kernels.Reference;
using Dlc.Backend.Tests.Support;

namespace Dlc.Backend.Tests.Kernels;

/// <summary>
/// Winograd's F(2×2, 3×3) convolution against the plain-loop reference: odd sizes that leave half tiles at
/// the bottom and right, padding 0, 1 and 2 (uneven too), a batch that splits into products of different
/// widths, and 1–3 threads. The transforms add and halve a few values before and after each product, so the
/// tolerance is a few times the im2col kernel's.
/// </summary>
public class WinogradConvolutionTests
{
    // N, C, H, W, K, pad top, left, bottom, right
    private static readonly int[][] Shapes =
    [
        [2, 8, 6, 6, 8, 1, 1, 1, 1],
        [5, 9, 17, 17, 10, 1, 1, 1, 1],
        [3, 12, 7, 9, 8, 0, 0, 0, 0],
        [2, 8, 5, 8, 11, 2, 1, 0, 2],
        [1, 16, 3, 4, 8, 2, 2, 2, 2],
        [3, 8, 10, 7, 16, 1, 0, 2, 1],
        // 16 tiles a sample: groups of 8 samples (whole 32-column panels) where 9 fit, then a group of 1.
        [9, 8, 7, 7, 8, 1, 1, 1, 1],
    ];

    public static TheoryData<int, int> ShapesAndThreads()
    {
        var data = new TheoryData<int, int>();
        foreach (var shape in Enumerable.Range(0, Shapes.Length))
            foreach (var threads in new[] { 1, 2, 3 }) data.Add(shape, threads);
        return data;
    }

    private static Conv2dGeometry Geometry(int[] s) =>
        new(s[0], s[1], s[2], s[3], s[4], s[2] + s[5] + s[7] - 2, s[3] + s[6] + s[8] - 2, 3, 3, 1, 1, s[5], s[6], 1, 1, 1);

    [Theory]
    [MemberData(nameof(ShapesAndThreads))]
    public unsafe void Forward_and_both_gradients_match_the_reference(int shape, int threads)
    {
        var g = Geometry(Shapes[shape]);
        WinogradConvolution.Applies(g).ShouldBeTrue();
        var (x, w, b, dy) = (TestData.Normal(g.InputSize, 11), TestData.Normal(g.WeightSize, 12), TestData.Normal(g.OutChannels, 13), TestData.Normal(g.OutputSize, 14));
        float[] Fresh(int n) => Enumerable.Repeat(float.NaN, n).ToArray();
        var (y, dx, dw) = (Fresh(g.OutputSize), Fresh(g.InputSize), Fresh(g.WeightSize));
        var (scratch, partials) = Conv2dKernel.ScratchLengths(g, threads);
        var (s, p) = (Fresh(scratch), Fresh(Math.Max(1, partials)));
        using var parallel = new SampleParallel(threads);
        fixed (float* px = x, pw = w, pb = b, pdy = dy, py = y, pdx = dx, pdw = dw, ps = s, pp = p)
        {
            var kernel = new Conv2dKernel(g, new ManagedGemm(1), threads > 1 ? parallel : null, ps, pp);
            kernel.Algorithm.ShouldBe("winograd");
            kernel.Forward(px, pw, pb, py);
            kernel.InputGrad(pdy, pw, pdx);
            kernel.WeightGrad(px, pdy, pdw);
            // A second weight gradient overwrites rather than adds to the first.
            kernel.WeightGrad(px, pdy, pdw);
        }

        var (rx, rw, rb, rdy) = (TestData.ToDouble(x), TestData.ToDouble(w), TestData.ToDouble(b), TestData.ToDouble(dy));
        var (ry, rdx, rdw) = (new double[y.Length], new double[dx.Length], new double[dw.Length]);
        ConvolutionReference.Conv2d<double>(rx, rw, rb, ry, g);
        ConvolutionReference.Conv2dInputGrad<double>(rdy, rw, rdx, g);
        ConvolutionReference.Conv2dWeightGrad<double>(rx, rdy, rdw, g);
        Close.All(y, ry, 1e-4, 1e-4, "y");
        Close.All(dx, rdx, 1e-4, 1e-4, "dx");
        Close.All(dw, rdw, 1e-4, 1e-3, "dw");
    }

    [Fact]
    public unsafe void Asking_for_im2col_runs_im2col_and_both_agree()
    {
        var g = Geometry(Shapes[1]);
        var (x, w) = (TestData.Normal(g.InputSize, 15), TestData.Normal(g.WeightSize, 16));
        var (winograd, im2col) = (new float[g.OutputSize], new float[g.OutputSize]);
        foreach (var (useWinograd, y) in new[] { (true, winograd), (false, im2col) })
        {
            var (scratch, _) = Conv2dKernel.ScratchLengths(g, 1, useWinograd);
            var s = new float[scratch];
            fixed (float* px = x, pw = w, py = y, ps = s)
            {
                var kernel = new Conv2dKernel(g, new ManagedGemm(1), null, ps, null, useWinograd);
                kernel.Algorithm.ShouldBe(useWinograd ? "winograd" : "im2col");
                kernel.Forward(px, pw, null, py);
            }
        }
        Close.All(winograd, TestData.ToDouble(im2col), 1e-4, 1e-4, "y");
    }

    [Theory]
    [InlineData(3, 3, 2, 1, 1, 8)] // stride 2
    [InlineData(3, 3, 1, 2, 1, 8)] // dilation 2
    [InlineData(5, 5, 1, 1, 1, 8)] // 5×5 window
    [InlineData(1, 3, 1, 1, 1, 8)] // 1×3 window (a 1-D convolution)
    [InlineData(3, 3, 1, 1, 2, 8)] // two groups
    [InlineData(3, 3, 1, 1, 1, 1)] // one input channel: nothing to gain from the transforms
    public void Other_geometries_are_left_to_im2col(int kh, int kw, int stride, int dilation, int groups, int channels)
    {
        var g = new Conv2dGeometry(2, channels, 12, 12, 8, 12 / stride, 12 / stride, kh, kw, stride, stride, 1, 1, dilation, dilation, groups);
        WinogradConvolution.Applies(g).ShouldBeFalse();
    }
}
