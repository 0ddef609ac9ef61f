using Dlc.Runtime.Training;

namespace Dlc.Runtime.Tests.Training;

/// <summary>Clipping by the global norm, as torch.nn.utils.clip_grad_norm_ does it.</summary>
public class GradientClippingTests
{
    [Fact]
    public void Gradients_above_the_norm_are_scaled_to_it()
    {
        // Norm 13 over the buffer (5, 12 and zeros in the padding); scaled by 1 / (13 + 1e-6).
        var g = new float[20];
        g[0] = 5;
        g[17] = 12;
        GradientClipping.ClipGlobalNorm(g, 1.0).ShouldBe(13, 1e-12);
        g[0].ShouldBe((float)(5 * (1 / (13 + 1e-6))), 1e-7f);
        g[17].ShouldBe((float)(12 * (1 / (13 + 1e-6))), 1e-7f);
        Math.Sqrt(g.Sum(x => (double)x * x)).ShouldBe(1.0, 1e-6);
    }

    [Fact]
    public void Gradients_within_the_norm_are_left_alone()
    {
        float[] g = [0.3f, -0.4f, 0, 0, 0, 0, 0, 0, 0.1f];
        var before = g.ToArray();
        GradientClipping.ClipGlobalNorm(g, 1.0).ShouldBe(Math.Sqrt(0.09 + 0.16 + 0.01), 1e-7);
        g.ShouldBe(before);
    }

    [Fact]
    public void The_sum_of_squares_covers_the_vector_body_and_the_tail()
    {
        var values = Enumerable.Range(1, 19).Select(i => (float)i).ToArray();
        GradientClipping.SumOfSquares(values).ShouldBe(Enumerable.Range(1, 19).Sum(i => (double)i * i));
    }
}
