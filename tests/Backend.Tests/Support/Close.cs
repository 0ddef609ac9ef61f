namespace Dlc.Backend.Tests.Support;

/// <summary>
/// numpy.allclose-style checks, |actual − expected| ≤ atol + rtol·|expected| element by element, failing with
/// the worst element, its index and how many elements missed.
/// </summary>
internal static class Close
{
    /// <summary>Unit roundoff of float, 2^-24: the relative error of one correctly rounded operation.</summary>
    public const double U = 1.0 / (1 << 24);

    public static void All(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected, double rtol, double atol, string what) =>
        All(actual, expected, rtol, _ => atol, what);

    /// <summary>With an absolute tolerance per element (e.g. a bound that depends on the element's row).</summary>
    public static void All(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected, double rtol, double[] atol, string what) =>
        All(actual, expected, rtol, i => atol[i], what);

    private static void All(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected, double rtol, Func<int, double> atolOf, string what)
    {
        actual.Length.ShouldBe(expected.Length, $"{what}: length");
        var worst = -1;
        var worstExcess = 0.0;
        var misses = 0;
        for (var i = 0; i < actual.Length; i++)
        {
            var a = (double)actual[i];
            var e = expected[i];
            if (double.IsNaN(e) && double.IsNaN(a)) continue;
            if (a == e) continue; // also covers equal infinities
            var excess = Math.Abs(a - e) - (atolOf(i) + rtol * Math.Abs(e));
            if (excess > 0 || double.IsNaN(excess))
            {
                misses++;
                if (worst < 0 || excess > worstExcess || double.IsNaN(excess)) (worst, worstExcess) = (i, excess);
            }
        }
        if (misses > 0)
            throw new ShouldAssertException(
                $"{what}: {misses} of {actual.Length} elements outside atol {atolOf(worst):G3} + rtol {rtol:G3}; worst at [{worst}]: actual {actual[worst]:G9}, expected {expected[worst]:G17}");
    }

    public static void All(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected, double rtol, double atol, string what) =>
        All(actual, TestData.ToDouble(expected), rtol, atol, what);

    public static void Scalar(double actual, double expected, double rtol, double atol, string what)
    {
        if (Math.Abs(actual - expected) > atol + rtol * Math.Abs(expected))
            throw new ShouldAssertException($"{what}: actual {actual:G9}, expected {expected:G17} (atol {atol:G3}, rtol {rtol:G3})");
    }
}
