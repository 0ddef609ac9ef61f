using Dlc.Backend.Gemm;
using Dlc.Backend.Tests.Support;

namespace Dlc.Backend.Tests.Gemm;

/// <summary>
/// Two few-rows products chained in one hand-off (<see cref="ManagedGemm.SgemmChain"/>: the first split by columns, the
/// second over the same range of its depth, the parts' sums added by the caller) against the reference in double:
/// h = relu(A·op(B₁) + b₁), y = tanh(h·op(B₂) + b₂).
/// </summary>
public class GemmChainTests
{
    /// <summary>
    /// B₁ of 8.4M floats or more, so the first product splits whether or not the workers are awake: one row and three, both
    /// layouts of each B, an odd second width, and four threads over 80 columns (five groups of 16: the last part gets
    /// none and contributes zeros). The small case runs the two products one after the other.
    /// </summary>
    [Theory]
    [InlineData(1, 2050, 4099, 37, true, true, 2)]
    [InlineData(3, 2050, 4099, 300, false, false, 2)]
    [InlineData(2, 2048, 4100, 17, true, false, 2)]
    [InlineData(1, 105_000, 80, 20, false, true, 4)]
    [InlineData(2, 30, 40, 10, false, true, 2)]
    public unsafe void Chained_products_match_the_reference(int m, int k, int n1, int n2, bool transB1, bool transB2, int threads)
    {
        var a = TestData.Normal(m * k, 1);
        var b1 = TestData.Normal(k * n1, 2, std: 1f / MathF.Sqrt(k));
        var bias1 = TestData.Normal(n1, 3, std: 0.1f);
        var b2 = TestData.Normal(n1 * n2, 4, std: 1f / MathF.Sqrt(n1));
        var bias2 = TestData.Normal(n2, 5, std: 0.1f);
        var h = new float[m * n1];
        var y = new float[m * n2];
        // NaN where the products write: a value not written shows.
        Array.Fill(h, float.NaN);
        Array.Fill(y, float.NaN);
        var (ldb1, ldb2) = (transB1 ? k : n1, transB2 ? n1 : n2);

        using var gemm = new ManagedGemm(threads);
        fixed (float* pa = a, pb1 = b1, pbias1 = bias1, pb2 = b2, pbias2 = bias2, ph = h, py = y)
        {
            gemm.SgemmChain(m, k, pa, k, transB1, n1, pb1, ldb1, ph, GemmEpilogue.Forward(pbias1, GemmActivation.Relu),
                transB2, n2, pb2, ldb2, py, GemmEpilogue.Forward(pbias2, GemmActivation.Tanh));
        }

        var expectedH = new double[m * n1];
        ReferenceGemm.GemmFused(false, transB1, m, n1, k, 1.0, TestData.ToDouble(a), k, TestData.ToDouble(b1), ldb1, 0.0, expectedH, n1,
            TestData.ToDouble(bias1), GemmActivation.Relu, false, [], 0);
        var expectedY = new double[m * n2];
        ReferenceGemm.GemmFused(false, transB2, m, n2, n1, 1.0, expectedH, n1, TestData.ToDouble(b2), ldb2, 0.0, expectedY, n2,
            TestData.ToDouble(bias2), GemmActivation.Tanh, false, [], 0);
        // Values are O(1) sums of k products of O(1/√k): float rounding stays near 1e-5; an index slip moves them by O(0.1).
        for (var i = 0; i < h.Length; i++) Math.Abs(h[i] - expectedH[i]).ShouldBeLessThan(1e-3, $"h[{i}]");
        for (var i = 0; i < y.Length; i++) Math.Abs(y[i] - expectedY[i]).ShouldBeLessThan(1e-3, $"y[{i}]");
    }
}
