using Dlc.Backend.Kernels;
using Dlc.Backend.Kernels.Reference;
using Dlc.Backend.Tests.Support;

namespace Dlc.Backend.Tests.Kernels;

/// <summary>
/// Softmax family (float) against the double reference over TestData.Matrices on both math paths.
/// Tolerances: each output involves a row reduction of C terms. Recursive summation in float, in any order,
/// errs by at most C·u·Σ|terms| (u = 2^-24), so the absolute tolerance of a row is that bound (plus a few
/// ulps for exp and the final operation); indexing mistakes move values by O(1).
/// </summary>
public class SoftmaxTests
{
    public static TheoryData<string, int, int> Cases()
    {
        var data = new TheoryData<string, int, int>();
        foreach (var path in new[] { "managed", "mkl" })
            foreach (var (r, c) in TestData.Matrices) data.Add(path, r, c);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Softmax_and_its_gradient_match_the_reference(string path, int rows, int cols) => MathPath.Run(path, () =>
    {
        var x = TestData.Normal(rows * cols, 1, std: 4f);
        var dy = TestData.Normal(rows * cols, 2);
        var y = new float[x.Length];
        SoftmaxKernels.Softmax(x, y, rows, cols);
        var ry = new double[x.Length];
        SoftmaxReference.Softmax<double>(TestData.ToDouble(x), ry, rows, cols);
        // Relative to each probability: (C + 4)·u from the sum of C exps, plus up to 40·u because the float
        // shift x − max rounds by half an ulp of values up to ~40 and exp turns that into relative error.
        Close.All(y, ry, (cols + 44) * Close.U, 1e-30, "softmax");

        var dx = new float[x.Length];
        SoftmaxKernels.SoftmaxBackward(y, dy, dx, rows, cols);
        var rdx = new double[x.Length];
        SoftmaxReference.SoftmaxBackward<double>(TestData.ToDouble(y), TestData.ToDouble(dy), rdx, rows, cols);
        // Σ dy·y has Σ|dy·y| ≤ max|dy|; the result y·(dy − Σ) is then off by that bound times y ≤ 1.
        Close.All(dx, rdx, 4 * Close.U, RowBound(dy, cols, 1), "softmax backward");
    });

    [Theory]
    [MemberData(nameof(Cases))]
    public void Log_softmax_and_its_gradient_match_the_reference(string path, int rows, int cols) => MathPath.Run(path, () =>
    {
        var x = TestData.Normal(rows * cols, 3, std: 4f);
        var dy = TestData.Normal(rows * cols, 4);
        var y = new float[x.Length];
        SoftmaxKernels.LogSoftmax(x, y, rows, cols);
        var ry = new double[x.Length];
        SoftmaxReference.LogSoftmax<double>(TestData.ToDouble(x), ry, rows, cols);
        // x − (max + log Σ): the sum of exps is off by (C + 4)·u relative, so its log by that much absolute;
        // the shift and the final subtraction add half-ulps of values below 64: 4·64·u.
        Close.All(y, ry, 4 * Close.U, (cols + 4) * Close.U + 4 * 64 * Close.U, "log softmax");

        var dx = new float[x.Length];
        SoftmaxKernels.LogSoftmaxBackward(y, dy, dx, rows, cols);
        var rdx = new double[x.Length];
        SoftmaxReference.LogSoftmaxBackward<double>(TestData.ToDouble(y), TestData.ToDouble(dy), rdx, rows, cols);
        // dy − exp(y)·Σdy with Σdy off by C·u·Σ|dy| and exp(y) ≤ 1.
        Close.All(dx, rdx, 4 * Close.U, RowBound(dy, cols, 1), "log softmax backward");
    });

    [Fact]
    public void Softmax_of_a_hand_computed_row_is_exact_to_float_precision()
    {
        // softmax([0, ln 3]) = [1/4, 3/4]; log softmax = [−ln 4, ln 3 − ln 4].
        float[] x = [0f, MathF.Log(3f)];
        var y = new float[2];
        SoftmaxKernels.Softmax(x, y, 1, 2);
        Close.All(y, [0.25, 0.75], 3e-7, 0, "softmax");
        SoftmaxKernels.LogSoftmax(x, y, 1, 2);
        Close.All(y, [-Math.Log(4), Math.Log(3) - Math.Log(4)], 3e-7, 0, "log softmax");
    }

    [Fact]
    public void Huge_logits_do_not_overflow_thanks_to_the_max_shift()
    {
        float[] x = [1000f, 1000f, -1000f];
        var y = new float[3];
        SoftmaxKernels.Softmax(x, y, 1, 3);
        y.ShouldBe([0.5f, 0.5f, 0f]);
        SoftmaxKernels.LogSoftmax(x, y, 1, 3);
        // 1000 + ln 2 rounds to an ulp of 1000 (6e-5), which lands in the result as in torch.
        Close.All(y, [-Math.Log(2), -Math.Log(2), -2000 - Math.Log(2)], 0, 1e-4, "log softmax");
    }

    [Fact]
    public void Softmax_may_write_over_its_input_and_refuses_a_wrong_shape()
    {
        var x = TestData.Normal(24, 5);
        var expected = new float[24];
        SoftmaxKernels.Softmax(x, expected, 4, 6);
        SoftmaxKernels.Softmax(x, x, 4, 6);
        x.ShouldBe(expected);
        Should.Throw<ArgumentException>(() => SoftmaxKernels.Softmax(new float[24], new float[24], 5, 5));
    }

    /// <summary>Per-element absolute tolerance: (C + 4)·u·Σ_row|v|·scale for the element's row.</summary>
    internal static double[] RowBound(float[] v, int cols, double scale)
    {
        var bound = new double[v.Length];
        for (var r = 0; r < v.Length / cols; r++)
        {
            var sum = 0.0;
            for (var j = 0; j < cols; j++) sum += Math.Abs(v[r * cols + j]);
            for (var j = 0; j < cols; j++) bound[r * cols + j] = (cols + 4) * Close.U * sum * scale;
        }
        return bound;
    }
}
