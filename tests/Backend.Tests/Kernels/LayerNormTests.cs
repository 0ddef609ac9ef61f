using Dlc.Backend.Kernels;
using Dlc.Backend.Kernels.Reference;
using Dlc.Backend.Tests.Support;

namespace Dlc.Backend.Tests.Kernels;

/// <summary>
/// Layer norm's float kernels against the double reference: rows shorter than a vector, with and without a ragged
/// tail, a mean far from zero (where a sum of squares would cancel), more rows than one group of the row kernels (with a
/// ragged last group), and the row ranges a plan splits over threads.
/// </summary>
public class LayerNormTests
{
    private const float Eps = 1e-5f;

    [Theory]
    [InlineData(3, 5, 0f)]
    [InlineData(4, 8, 0f)]
    [InlineData(7, 37, 0f)]
    [InlineData(5, 128, 0f)]
    [InlineData(6, 24, 50f)]
    [InlineData(19, 40, 0f)]
    [InlineData(17, 128, 3f)]
    public void Forward_and_both_gradients_match_the_reference(int rows, int cols, float mean)
    {
        var x = TestData.Normal(rows * cols, 1, std: 2f, mean: mean);
        var w = TestData.Normal(cols, 2, mean: 1f);
        var b = TestData.Normal(cols, 3);
        var dy = TestData.Normal(rows * cols, 4);
        var (y, dx, dw) = WholeMatrix(x, w, b, dy, rows, cols);

        var (xd, wd, bd, dyd) = (TestData.ToDouble(x), TestData.ToDouble(w), TestData.ToDouble(b), TestData.ToDouble(dy));
        var (ry, rdx, rdw) = (new double[x.Length], new double[x.Length], new double[cols]);
        NormalizationReference.LayerNorm<double>(xd, wd, bd, ry, rows, cols, Eps);
        NormalizationReference.LayerNormInputGrad<double>(xd, wd, dyd, rdx, rows, cols, Eps);
        NormalizationReference.LayerNormWeightGrad<double>(xd, dyd, rdw, rows, cols, Eps);
        Close.All(y, ry, 1e-5, 1e-5, "y");
        Close.All(dx, rdx, 1e-4, 1e-5, "dx");
        Close.All(dw, rdw, 1e-5, 1e-5, "dw");
    }

    [Fact]
    public void Row_ranges_together_give_the_whole_result()
    {
        const int rows = 9, cols = 20;
        var x = TestData.Normal(rows * cols, 5);
        var w = TestData.Normal(cols, 6);
        var b = TestData.Normal(cols, 7);
        var dy = TestData.Normal(rows * cols, 8);
        var (y, dx, dw) = WholeMatrix(x, w, b, dy, rows, cols);

        var (ys, dxs, dws) = (new float[x.Length], new float[x.Length], new float[cols]);
        foreach (var (r0, r1) in new[] { (0, 4), (4, 9) })
        {
            Normalization.LayerNorm(x, w, b, ys, rows, cols, Eps, r0, r1);
            Normalization.LayerNormInputGrad(x, w, dy, dxs, rows, cols, Eps, r0, r1);
            Normalization.LayerNormWeightGrad(x, dy, dws, rows, cols, Eps, r0, r1);
        }
        ys.ShouldBe(y);
        dxs.ShouldBe(dx);
        Close.All(dws, TestData.ToDouble(dw), 1e-6, 1e-6, "dw");
    }

    /// <summary>y, dx and dw of the whole matrix, each kernel called once.</summary>
    private static (float[] Y, float[] Dx, float[] Dw) WholeMatrix(float[] x, float[] w, float[] b, float[] dy, int rows, int cols)
    {
        var (y, dx, dw) = (new float[x.Length], new float[x.Length], new float[cols]);
        Normalization.LayerNorm(x, w, b, y, rows, cols, Eps);
        Normalization.LayerNormInputGrad(x, w, dy, dx, rows, cols, Eps);
        Normalization.LayerNormWeightGrad(x, dy, dw, rows, cols, Eps);
        return (y, dx, dw);
    }
}
