using Dlc.Backend;
using Dlc.Runtime.Training;

namespace Dlc.Runtime.Tests.Training;

/// <summary>Drawing the next character: temperature, top-k and nucleus (top-p) sampling.</summary>
public class SamplerTests
{
    [Fact]
    public void The_nucleus_keeps_the_fewest_most_likely_classes_whose_mass_reaches_p()
    {
        double[] p = [0.05, 0.5, 0.15, 0.3];
        Sampler.Nucleus(p, 1.0, 0.7).ShouldBe(0.8, 1e-12);
        p.ShouldBe([0, 0.5, 0, 0.3]);
        // Always at least the most likely one, however small p is.
        double[] q = [0.2, 0.6, 0.2];
        Sampler.Nucleus(q, 1.0, 1e-9).ShouldBe(0.6, 1e-12);
        q.ShouldBe([0, 0.6, 0]);
    }

    [Fact]
    public void A_small_top_p_always_draws_the_most_likely_class_and_p_of_one_draws_them_all()
    {
        float[] scores = [1f, 3f, 2.5f, 0f];
        var probabilities = new double[4];
        var rng = new Rng(1);
        var greedy = new SampleOptions("", 1, 1.0, null, 1) { TopP = 0.01 };
        Enumerable.Range(0, 50).Select(_ => Sampler.Draw(scores, probabilities, greedy, rng)).Distinct().ShouldBe([1]);
        var all = new SampleOptions("", 1, 1.0, null, 1) { TopP = 1.0 };
        Enumerable.Range(0, 2000).Select(_ => Sampler.Draw(scores, probabilities, all, rng)).Distinct().Order().ShouldBe([0, 1, 2, 3]);
    }
}
