using Dlc.Backend.Kernels;
using Dlc.Backend.Kernels.Reference;
using Dlc.Backend.Tests.Support;

namespace Dlc.Backend.Tests.Kernels;

/// <summary>
/// Bias helpers and element-wise arithmetic against the references. Single operations are correctly rounded,
/// so they match the double reference to half an ulp (rtol u); column sums of R rows err by at most
/// (R + 4)·u·Σ|dy| (recursive summation bound).
/// </summary>
public class LinearTests
{
    public static TheoryData<int, int> Matrices() => TestData.MatrixData();

    public static TheoryData<int> Sizes() => TestData.SizeData();

    [Theory]
    [MemberData(nameof(Matrices))]
    public void Bias_add_and_bias_backward_match_the_reference(int rows, int cols)
    {
        var x = TestData.Normal(rows * cols, 1);
        var bias = TestData.Normal(cols, 2);
        var y = new float[x.Length];
        Linear.BiasAdd(x, bias, y, rows, cols);
        var ry = new double[x.Length];
        LinearReference.BiasAdd<double>(TestData.ToDouble(x), TestData.ToDouble(bias), ry, rows, cols);
        Close.All(y, ry, Close.U, 0, "bias add");

        var dbias = Enumerable.Repeat(float.NaN, cols).ToArray(); // overwritten, never accumulated into
        Linear.BiasBackward(x, dbias, rows, cols);
        var rdbias = new double[cols];
        LinearReference.BiasBackward<double>(TestData.ToDouble(x), rdbias, rows, cols);
        var bound = new double[cols];
        for (var c = 0; c < cols; c++)
            for (var r = 0; r < rows; r++) bound[c] += (rows + 4) * Close.U * Math.Abs(x[r * cols + c]);
        Close.All(dbias, rdbias, 0, bound, "bias backward");
    }

    // 75 columns: one 64-wide strip, one 8-wide strip and three single columns.
    [Theory]
    [InlineData(5, 75)]
    [InlineData(128, 256)]
    [InlineData(0, 9)]
    public void Bias_backward_adds_the_rows_in_order_so_it_equals_the_float_reference_exactly(int rows, int cols)
    {
        var dy = TestData.Normal(rows * cols, 5);
        var dbias = Enumerable.Repeat(float.NaN, cols).ToArray();
        Linear.BiasBackward(dy, dbias, rows, cols);
        var expected = new float[cols];
        LinearReference.BiasBackward<float>(dy, expected, rows, cols);
        dbias.ShouldBe(expected);

        // Column ranges of whole strips, as a plan splits them over threads, give the same sums.
        var split = Enumerable.Repeat(float.NaN, cols).ToArray();
        for (var c0 = 0; c0 < cols; c0 += Linear.BiasColumnBlock)
            Linear.BiasBackward(dy, split, rows, cols, c0, Math.Min(cols, c0 + Linear.BiasColumnBlock));
        split.ShouldBe(expected);
    }

    [Fact]
    public void Bias_add_may_write_over_its_input()
    {
        var x = new float[] { 1, 2, 3, 4, 5, 6 };
        Linear.BiasAdd(x, [10f, 20f, 30f], x, 2, 3);
        x.ShouldBe([11f, 22f, 33f, 14f, 25f, 36f]);
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Elementwise_arithmetic_matches_the_reference(int n)
    {
        var a = TestData.Normal(n, 3);
        var b = TestData.Normal(n, 4);
        var da = TestData.ToDouble(a);
        var db = TestData.ToDouble(b);
        var y = new float[n];
        var ry = new double[n];

        Elementwise.Add(a, b, y);
        ElementwiseReference.Add<double>(da, db, ry);
        Close.All(y, ry, Close.U, 0, "add");

        Elementwise.Subtract(a, b, y);
        ElementwiseReference.Subtract<double>(da, db, ry);
        Close.All(y, ry, Close.U, 0, "subtract");

        Elementwise.Multiply(a, b, y);
        ElementwiseReference.Multiply<double>(da, db, ry);
        Close.All(y, ry, Close.U, 0, "multiply");

        Elementwise.Scale(a, -2.5f, y);
        ElementwiseReference.Scale<double>(da, -2.5, ry);
        Close.All(y, ry, Close.U, 0, "scale");

        var acc = (float[])a.Clone();
        Elementwise.AddInPlace(acc, b);
        var racc = (double[])da.Clone();
        ElementwiseReference.AddInPlace<double>(racc, db);
        Close.All(acc, racc, Close.U, 0, "add in place");
    }

    [Fact]
    public void Elementwise_refuses_mismatched_lengths()
    {
        Should.Throw<ArgumentException>(() => Elementwise.Add(new float[2], new float[3], new float[2]));
        Should.Throw<ArgumentException>(() => Elementwise.AddInPlace(new float[2], new float[1]));
    }
}
