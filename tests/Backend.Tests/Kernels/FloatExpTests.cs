using System.Runtime.Intrinsics;
using Dlc.Backend.Kernels;
using Dlc.Backend.Tests.Support;

namespace Dlc.Backend.Tests.Kernels;

public class FloatExpTests
{
    [Fact]
    public void Vector_exponential_keeps_float_relative_accuracy_over_its_whole_range()
    {
        if (!Vector256.IsHardwareAccelerated) return;
        // Every 0.001 from the lower clamp to the upper one, and the points where the rounding of x·log2 e to n turns.
        var x = new List<float> { 0f, -0f, 1e-30f, -1e-30f, 0.3465736f, -0.3465736f, 0.3465737f, -87.3f, 88.3f };
        for (var v = -87.3; v < 88.3; v += 0.001) x.Add((float)v);
        for (var n = -125; n <= 126; n++) x.Add((float)((n + 0.5) / 1.4426950408889634));
        while (x.Count % 8 != 0) x.Add(1f);
        var xs = x.ToArray();
        var actual = new float[xs.Length];
        for (var i = 0; i < xs.Length; i += 8) FloatExp.Exp8(Vector256.Create(xs, i)).CopyTo(actual, i);
        var expected = xs.Select(v => Math.Exp(v)).ToArray();
        // The polynomial's 1.6e-7, plus what rounding x·log2 e to a float costs: 2^t moves by ln 2·|δt|, up to 9e-8·|x|.
        var fromScaling = xs.Select((v, i) => 1e-7 * Math.Abs(v) * expected[i]).ToArray();
        Close.All(actual, expected, 2e-7, fromScaling, "Exp8");
        FloatExp.Exp8(Vector256<float>.Zero).ShouldBe(Vector256<float>.One);
        // Saturated, never infinite: a sigmoid of −100 is then 1/(1 + 2.2e38), not 1/∞.
        var huge = FloatExp.Exp8(Vector256.Create(100f)).GetElement(0);
        float.IsFinite(huge).ShouldBeTrue();
        huge.ShouldBe((float)Math.Exp(88.3f), 2e-7 * huge + 1e-7 * 88.3 * huge);
    }
}
