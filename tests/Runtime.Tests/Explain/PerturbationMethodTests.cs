using Dlc.Compiler.Jobs;
using Dlc.Runtime.Explain;

namespace Dlc.Runtime.Tests.Explain;

/// <summary>Occlusion, feature ablation and permutation importance on models whose answer is known.</summary>
public class PerturbationMethodTests
{
    /// <summary>An image model that reads one pixel, (1, 2) of a 4×4 image, with weight 2.</summary>
    private static Runtime.Training.ModelRuntime OnePixel()
    {
        var runtime = ExplainModels.Compile("""
            model Pixel (image: Tensor[N, 1, 4, 4]) : Tensor[N, 1] =
                image |> flatten |> dense 1
            """, "Pixel", LossKind.Mse);
        var w = runtime.Parameters.Value("Pixel.dense.weight");
        w.Clear();
        w[1 * 4 + 2] = 2f;
        runtime.Parameters.Value("Pixel.dense.bias")[0] = 0.5f;
        return runtime;
    }

    [Fact]
    public void Occlusion_credits_only_the_patches_over_the_pixel_the_model_reads()
    {
        using var runtime = OnePixel();
        using var model = new AttributionModel(runtime);
        var x = Enumerable.Range(0, 16).Select(i => 1f + i).ToArray();
        var single = PerturbationMethods.Occlusion(model, x, new float[16], [0], new ExplainSettings { Patch = 1, Stride = 1 });
        for (var j = 0; j < 16; j++) single.Values[j].ShouldBe(j == 6 ? 2f * x[6] : 0f, 1e-5);

        // 2×2 patches with stride 2: the one patch covering (1, 2) is rows 0-1, columns 2-3; each of its pixels gets the full drop.
        var patches = PerturbationMethods.Occlusion(model, x, new float[16], [0], new ExplainSettings { Patch = 2, Stride = 2 });
        var covered = new[] { 2, 3, 6, 7 };
        for (var j = 0; j < 16; j++) patches.Values[j].ShouldBe(covered.Contains(j) ? 2f * x[6] : 0f, 1e-5);
    }

    [Fact]
    public void Feature_ablation_of_a_linear_model_is_w_times_x_minus_the_baseline()
    {
        float[] w = [1f, -1f, 0f, 3f];
        using var runtime = ExplainModels.Linear(w, 1f);
        using var model = new AttributionModel(runtime);
        var x = ExplainModels.Values(8, seed: 11);
        var baseline = ExplainModels.Values(8, seed: 12);
        var a = PerturbationMethods.FeatureAblation(model, x, baseline, [0, 0]);
        for (var i = 0; i < 8; i++) a.Values[i].ShouldBe(w[i % 4] * (x[i] - baseline[i]), 1e-5);
    }

    [Fact]
    public void Permutation_importance_of_a_feature_the_model_does_not_use_is_zero()
    {
        // The target is the model's own output plus a little noise, so R² starts near 1.
        float[] w = [2f, 0f, -1f, 0.5f];
        using var runtime = ExplainModels.Linear(w, 0f);
        using var model = new AttributionModel(runtime);
        var x = ExplainModels.Values(200 * 4, seed: 13);
        var noise = ExplainModels.Values(200, seed: 14);
        var y = Enumerable.Range(0, 200).Select(i => w[0] * x[4 * i] + w[2] * x[4 * i + 2] + w[3] * x[4 * i + 3] + 0.05f * noise[i]).ToArray();
        var importance = PerturbationMethods.Permutation(model, x, y, new ExplainSettings { Repeats = 4 });
        importance.Metric.ShouldBe("r2");
        importance.Baseline.ShouldBeGreaterThan(0.99);
        importance.Mean[1].ShouldBe(0, 1e-9);
        importance.Std[1].ShouldBe(0, 1e-9);
        // The larger the weight, the larger the drop: feature 0 (|w| = 2) above 2 (1) above 3 (0.5).
        importance.Mean[0].ShouldBeGreaterThan(importance.Mean[2]);
        importance.Mean[2].ShouldBeGreaterThan(importance.Mean[3]);
        importance.Mean[3].ShouldBeGreaterThan(0.01);
    }

    [Fact]
    public void The_blurred_baseline_keeps_a_flat_image_and_spreads_a_point()
    {
        var flat = Enumerable.Repeat(0.25f, 2 * 8 * 8).ToArray();
        Baselines.For(BaselineKind.Blurred, flat, [2, 8, 8], null).ShouldAllBe(v => Math.Abs(v - 0.25f) < 1e-6);
        var point = new float[64];
        point[3 * 8 + 3] = 1f;
        var blurred = Baselines.For(BaselineKind.Blurred, point, [1, 8, 8], null);
        blurred.Sum().ShouldBe(1f, 0.05f);
        blurred[3 * 8 + 3].ShouldBeLessThan(0.2f);
        blurred[3 * 8 + 4].ShouldBeGreaterThan(0f);
    }

    [Fact]
    public void The_mean_baseline_repeats_the_data_sets_mean_sample_for_every_input()
    {
        var mean = Baselines.Mean([1f, 2f, 3f, 4f], size: 2);
        mean.ShouldBe([2f, 3f]);
        Baselines.For(BaselineKind.Mean, new float[6], [2], mean).ShouldBe([2f, 3f, 2f, 3f, 2f, 3f]);
    }
}
