using Dlc.Backend.Kernels;
using Dlc.Backend.Kernels.Reference;
using Dlc.Backend.Tests.Support;

namespace Dlc.Backend.Tests.Kernels;

/// <summary>
/// Two steps of SGD and Adam on w = [1, −2] with gradients g1 = [0.5, 0.1], g2 = [−0.3, 0.4], against values
/// worked out by hand from torch.optim's update rules (in double). The float kernels carry a few ulps of
/// values near 2 (ulp 2.4e-7), so they are compared to 1e-6; the double references to 1e-12.
/// </summary>
public class OptimizerTests
{
    private static readonly float[][] Grads = [[0.5f, 0.1f], [-0.3f, 0.4f]];

    // lr 0.1, momentum 0.9, weight decay 0.01:
    //   step 1: d = g1 + 0.01·w = [0.51, 0.08]; buf = d (torch's first step); w = w − 0.1·buf = [0.949, −2.008]
    //   step 2: d = g2 + 0.01·w = [−0.29051, 0.37992]; buf = 0.9·buf + d = [0.16849, 0.45192];
    //           w = [0.932151, −2.053192]
    // Nesterov uses d + 0.9·buf instead of buf: w1 = [0.9031, −2.0152], w2 = [0.91707411, −2.09385112].
    // Dampening 0.5 (no decay, no Nesterov): buf1 = g1 (undamped), buf2 = 0.9·g1 + 0.5·g2 = [0.3, 0.29]:
    //   w1 = [0.95, −2.01], w2 = [0.92, −2.039].
    [Theory]
    [InlineData(0.0, false, 0.01, 0.949, -2.008, 0.932151, -2.053192)]
    [InlineData(0.0, true, 0.01, 0.9031, -2.0152, 0.91707411, -2.09385112)]
    [InlineData(0.5, false, 0.0, 0.95, -2.01, 0.92, -2.039)]
    public void Sgd_takes_two_hand_computed_steps(double dampening, bool nesterov, double decay,
        double w1a, double w1b, double w2a, double w2b)
    {
        float[] w = [1f, -2f];
        var velocity = new float[2];
        double[] rw = [1, -2];
        var rvelocity = new double[2];
        double[][] expected = [[w1a, w1b], [w2a, w2b]];
        for (var step = 0; step < 2; step++)
        {
            Optimizers.Sgd(w, Grads[step], velocity, 0.1, 0.9, dampening, nesterov, decay, firstStep: step == 0);
            OptimizersReference.Sgd<double>(rw, TestData.ToDouble(Grads[step]), rvelocity, 0.1, 0.9, dampening, nesterov, decay, step == 0);
            Close.All(w, expected[step], 0, 1e-6, $"sgd step {step + 1}");
            Close.All(rw.Select(v => (float)v).ToArray(), expected[step], 0, 1e-6, $"reference sgd step {step + 1}");
            // The gradients enter as floats (−0.3f ≠ −0.3), which moves the double result by ~1e-9.
            for (var i = 0; i < 2; i++) Math.Abs(rw[i] - expected[step][i]).ShouldBeLessThan(1e-8);
        }
    }

    // lr 0.01, betas (0.9, 0.999), eps 1e-8:
    //   step 1: m = 0.1·g1 = [0.05, 0.01]; v = 0.001·g1² = [2.5e-4, 1e-5]; m̂ = m/0.1 = g1; √v̂ = |g1|;
    //           w −= 0.01·m̂/(√v̂ + 1e-8) → [0.9900000002, −2.009999999]
    //   step 2: m = 0.9·m + 0.1·g2 = [0.015, 0.049]; v = 0.999·v + 0.001·g2² = [3.3975e-4, 1.6999e-4];
    //           m̂ = m/0.19, √v̂ = √(v/0.001999) → w = [0.98808501989, −2.01884376360]
    // AdamW, weight decay 0.1: w ·= 1 − 0.001 before each step, the moments are unchanged:
    //           w1 = [0.9890000002, −2.007999999], w2 = [0.98609601989, −2.01483576360]
    // Adam, weight decay 0.1: g += 0.1·w, so g1' = [0.6, −0.1], g2' = g2 + 0.1·w1 = [−0.201, 0.201]:
    //           w1 = [0.99000000017, −1.990000001], w2 = [0.98601158616, −1.99367958955]
    [Theory]
    [InlineData(false, 0.0, 0.9900000002, -2.009999999, 0.9880850198941775, -2.0188437636024883)]
    [InlineData(true, 0.1, 0.9890000002, -2.007999999, 0.9860960198939775, -2.014835763603488)]
    [InlineData(false, 0.1, 0.9900000001666667, -1.9900000009999999, 0.9860115861622782, -1.993679589550735)]
    public void Adam_takes_two_hand_computed_steps(bool decoupled, double decay, double w1a, double w1b, double w2a, double w2b)
    {
        float[] w = [1f, -2f];
        float[] m = new float[2], v = new float[2];
        double[] rw = [1, -2];
        double[] rm = new double[2], rv = new double[2];
        double[][] expected = [[w1a, w1b], [w2a, w2b]];
        for (var step = 1; step <= 2; step++)
        {
            Optimizers.Adam(w, Grads[step - 1], m, v, 0.01, 0.9, 0.999, 1e-8, decay, step, decoupled);
            OptimizersReference.Adam<double>(rw, TestData.ToDouble(Grads[step - 1]), rm, rv, 0.01, 0.9, 0.999, 1e-8, decay, step, decoupled);
            Close.All(w, expected[step - 1], 0, 1e-6, $"adam step {step}");
            for (var i = 0; i < 2; i++)
            {
                // The gradients enter as floats (0.1f ≠ 0.1), which moves the double result by ~1e-9.
                Math.Abs(rw[i] - expected[step - 1][i]).ShouldBeLessThan(1e-8, $"reference adam step {step}");
            }
        }
    }

    public static TheoryData<int> Sizes() => TestData.SizeData();

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Fused_updates_match_the_reference_over_every_size(int n)
    {
        var g = TestData.Normal(n, 2);
        var w = TestData.Normal(n, 1);
        var rw = TestData.ToDouble(w);
        var (vel, rvel) = (new float[n], new double[n]);
        for (var step = 0; step < 3; step++)
        {
            Optimizers.Sgd(w, g, vel, 0.05, 0.9, 0.1, false, 1e-3, step == 0);
            OptimizersReference.Sgd<double>(rw, TestData.ToDouble(g), rvel, 0.05, 0.9, 0.1, false, 1e-3, step == 0);
        }
        Close.All(w, rw, 1e-6, 1e-6, "sgd");

        var (m, v, rm, rv) = (new float[n], new float[n], new double[n], new double[n]);
        for (var step = 1; step <= 3; step++)
        {
            Optimizers.Adam(w, g, m, v, 1e-3, 0.9, 0.999, 1e-8, 0.01, step, true);
            OptimizersReference.Adam<double>(rw, TestData.ToDouble(g), rm, rv, 1e-3, 0.9, 0.999, 1e-8, 0.01, step, true);
        }
        Close.All(w, rw, 1e-6, 1e-6, "adamw");
    }

    /// <summary>
    /// Momentum whose gradient stays zero decays into float's subnormal range, where lerp's rounding would hold it for
    /// good (and each step would cost an Intel core microcode assists): the kernels store it as zero instead. Sizes 19
    /// and 3 cover the vector loop and the scalar tail.
    /// </summary>
    [Theory]
    [InlineData(19)]
    [InlineData(3)]
    public void Momentum_that_decays_below_the_smallest_normal_float_becomes_zero(int n)
    {
        var (w, g) = (new float[n], new float[n]);
        var (m, v, velocity) = (new float[n], new float[n], new float[n]);
        Array.Fill(m, 1e-3f);
        Array.Fill(v, 1e-30f);
        Array.Fill(velocity, 1e-3f);
        // 0.9^850 · 1e-3 ≈ 1e-42 and 0.999^850 · 1e-30 ≈ 4e-31: m crosses into the subnormal range, v stays normal.
        for (var step = 1; step <= 850; step++)
        {
            Optimizers.Adam(w, g, m, v, 1e-3, 0.9, 0.999, 1e-8, 0, step, false);
            Optimizers.Sgd(w, g, velocity, 1e-3, 0.9, 0, false, 0, firstStep: false);
        }
        m.ShouldAllBe(x => x == 0f);
        velocity.ShouldAllBe(x => x == 0f);
        v.ShouldAllBe(x => x > 1e-31f && x < 1e-30f);
    }

    [Fact]
    public void Nesterov_without_momentum_is_refused_as_in_torch()
    {
        Should.Throw<ArgumentException>(() => Optimizers.Sgd(new float[2], new float[2], new float[2], 0.1, 0, 0, true, 0, true));
        Should.Throw<ArgumentException>(() => Optimizers.Sgd(new float[2], new float[2], new float[2], 0.1, 0.9, 0.1, true, 0, true));
    }

    [Fact]
    public void Plain_sgd_needs_no_velocity_buffer()
    {
        float[] w = [1f, 2f];
        Optimizers.Sgd(w, [1f, -1f], Span<float>.Empty, 0.5, 0, 0, false, 0, true);
        w.ShouldBe([0.5f, 2.5f]);
    }
}
