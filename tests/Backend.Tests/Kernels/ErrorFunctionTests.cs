using Dlc.Backend.Kernels;
using Dlc.Backend.Native;
using Dlc.Backend.Tests.Support;

namespace Dlc.Backend.Tests.Kernels;

public class ErrorFunctionTests
{
    /// <summary>erf(x) = 2/√π·e^(−x²)·Σ 2ⁿx^(2n+1)/(1·3·…·(2n+1)): all terms positive, so summing it in double
    /// loses nothing to cancellation and gives an independent check of Cody's fractions.</summary>
    private static double Series(double x)
    {
        double term = x, sum = x;
        for (var n = 1; n < 500 && term > 1e-19 * sum; n++)
        {
            term *= 2 * x * x / (2 * n + 1);
            sum += term;
        }
        return 2 / Math.Sqrt(Math.PI) * Math.Exp(-x * x) * sum;
    }

    [Fact]
    public void Double_erf_matches_an_independent_series_to_a_few_ulps()
    {
        // Both carry rounding of a few ulps (the series mostly from exp and the long sum): 4e-15 relative.
        for (var x = 1e-4; x <= 4.0; x += 0.00137)
        {
            Close.Scalar(ErrorFunction.Erf(x), Series(x), 4e-15, 0, $"erf({x})");
            Close.Scalar(ErrorFunction.Erf(-x), -Series(x), 4e-15, 0, $"erf({-x})");
        }
    }

    [Fact]
    public void Double_erf_and_erfc_reproduce_tabulated_values()
    {
        // Values correct to 17 significant digits (high-precision evaluations).
        Close.Scalar(ErrorFunction.Erf(0.5), 0.52049987781304654, 2e-16, 0, "erf(0.5)");
        Close.Scalar(ErrorFunction.Erf(1.0), 0.84270079294971487, 2e-16, 0, "erf(1)");
        Close.Scalar(ErrorFunction.Erf(2.0), 0.99532226501895273, 2e-16, 0, "erf(2)");
        Close.Scalar(ErrorFunction.Erfc(3.0), 2.2090496998585441e-05, 1e-14, 0, "erfc(3)");
        Close.Scalar(ErrorFunction.Erfc(5.0), 1.5374597944280349e-12, 1e-14, 0, "erfc(5)");
        Close.Scalar(ErrorFunction.Erfc(10.0), 2.0884875837625448e-45, 1e-14, 0, "erfc(10)");
        ErrorFunction.Erf(0.0).ShouldBe(0.0);
        ErrorFunction.Erf(double.PositiveInfinity).ShouldBe(1.0);
        ErrorFunction.Erf(double.NegativeInfinity).ShouldBe(-1.0);
        double.IsNaN(ErrorFunction.Erf(double.NaN)).ShouldBeTrue();
    }

    [Fact]
    public void Double_erf_agrees_with_mkl_vd_erf_when_mkl_is_present()
    {
        if (!MklGate.Available()) return;
        var x = Enumerable.Range(0, 12001).Select(i => -6.0 + i * 0.001).Where(v => v != 0).ToArray();
        var mkl = new double[x.Length];
        Mkl.Erf(x, mkl);
        for (var i = 0; i < x.Length; i++) Close.Scalar(ErrorFunction.Erf(x[i]), mkl[i], 2e-15, 0, $"erf({x[i]})");
    }

    [Fact]
    public void Float_erf_is_within_1_2e_minus_7_relative_everywhere()
    {
        // Half a float ulp is at most 6e-8 relative; the double-lane evaluation adds next to nothing, so
        // 1.2e-7 (one ulp) bounds both the scalar and the vectorised form, including tiny and huge x.
        var x = new List<float> { 0f, 1e-30f, -1e-20f, 1e-8f, 3.9f, 4f, 4.1f, 10f, -1e30f, float.PositiveInfinity };
        for (var i = -60000; i <= 60000; i++) x.Add(i * 1e-4f);
        var xs = x.ToArray();
        var vector = new float[xs.Length];
        ErrorFunction.Erf(xs, vector);
        var expected = xs.Select(v => ErrorFunction.Erf((double)v)).ToArray();
        Close.All(vector, expected, 1.2e-7, 0, "vectorised float erf");
        Close.All(xs.Select(ErrorFunction.Erf).ToArray(), expected, 1.2e-7, 0, "scalar float erf");
        float.IsNaN(ErrorFunction.Erf(float.NaN)).ShouldBeTrue();
        var nan = new[] { float.NaN, 1f, float.NaN, 2f, 3f, 4f, 5f, 6f, 7f };
        ErrorFunction.Erf(nan, nan);
        float.IsNaN(nan[0]).ShouldBeTrue();
        float.IsNaN(nan[2]).ShouldBeTrue();
    }
}
