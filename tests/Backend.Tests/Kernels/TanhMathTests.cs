using Dlc.Backend.Kernels;
using Dlc.Backend.Tests.Support;

namespace Dlc.Backend.Tests.Kernels;

public class TanhMathTests
{
    [Fact]
    public void Managed_tanh_keeps_float_relative_accuracy_from_tiny_to_saturated_inputs()
    {
        // Rounded once from double: within an ulp (1.2e-7 relative) everywhere, including near zero where
        // a float evaluation of (e^2x − 1)/(e^2x + 1) loses all its digits.
        var x = new List<float> { 0f, -0f, 1e-38f, -3.57e-11f, 1e-6f, 2.44e-4f, -2.45e-4f, 0.01f, 9f, -9f, 30f, -1e30f, float.PositiveInfinity, float.NegativeInfinity };
        var rng = new Rng(2);
        for (var i = 0; i < 20000; i++) x.Add((rng.NextFloat() - 0.5f) * MathF.Pow(10, -rng.NextInt(9)) * 20);
        var xs = x.ToArray();
        var vector = new float[xs.Length];
        TanhMath.Tanh(xs, vector);
        var expected = xs.Select(v => Math.Tanh(v)).ToArray();
        Close.All(vector, expected, 1.2e-7, 0, "vectorised tanh");
        Close.All(xs.Select(TanhMath.Tanh).ToArray(), expected, 1.2e-7, 0, "scalar tanh");
        var nan = new[] { float.NaN, 1f, 2f, 3f, 4f, 5f, 6f, 7f, float.NaN };
        TanhMath.Tanh(nan, nan);
        float.IsNaN(nan[0]).ShouldBeTrue();
        float.IsNaN(nan[8]).ShouldBeTrue();
    }
}
