using Dlc.Compiler.Jobs;
using Dlc.Runtime.Explain;

namespace Dlc.Runtime.Tests.Explain;

/// <summary>Gradient-based attributions against answers known in closed form.</summary>
public class GradientMethodTests
{
    private static readonly float[] W = [0.5f, -2f, 1.5f, 0.25f];

    [Fact]
    public void Gradient_times_input_of_a_linear_model_is_w_times_x()
    {
        using var runtime = ExplainModels.Linear(W, 0.3f);
        using var model = new AttributionModel(runtime);
        var x = ExplainModels.Values(3 * 4, seed: 5);
        var a = GradientMethods.GradientTimesInput(model, x, [0, 0, 0]);
        for (var i = 0; i < x.Length; i++) a.Values[i].ShouldBe(W[i % 4] * x[i], 1e-6);
    }

    [Fact]
    public void Saliency_of_a_linear_model_is_the_absolute_weight()
    {
        using var runtime = ExplainModels.Linear(W, 0.3f);
        using var model = new AttributionModel(runtime);
        var a = GradientMethods.Saliency(model, ExplainModels.Values(2 * 4, seed: 6), [0, 0]);
        a.Values.ShouldBe([0.5f, 2f, 1.5f, 0.25f, 0.5f, 2f, 1.5f, 0.25f]);
    }

    [Fact]
    public void Integrated_gradients_of_a_linear_model_are_w_times_x_minus_the_baseline_exactly()
    {
        using var runtime = ExplainModels.Linear(W, 0.3f);
        using var model = new AttributionModel(runtime);
        var x = ExplainModels.Values(2 * 4, seed: 7);
        var baseline = ExplainModels.Values(2 * 4, seed: 8);
        var a = IntegratedGradients.Compute(model, x, baseline, [0, 0], new ExplainSettings { Steps = 8 });
        for (var i = 0; i < x.Length; i++) a.Values[i].ShouldBe(W[i % 4] * (x[i] - baseline[i]), 1e-5);
        a.Deltas!.ShouldAllBe(d => d < 1e-5);
    }

    [Fact]
    public void Integrated_gradients_of_a_relu_network_add_up_to_the_change_of_the_score()
    {
        using var runtime = ExplainModels.Compile("""
            model Mlp (x: Tensor[N, 6]) : Tensor[N, 3] =
                x |> dense 16 |> relu |> dense 16 |> relu |> dense 3
            """, "Mlp", LossKind.CrossEntropy, seed: 3);
        using var model = new AttributionModel(runtime);
        var x = ExplainModels.Values(4 * 6, seed: 9).Select(v => 3 * v).ToArray();
        var zeros = new float[x.Length];
        var a = IntegratedGradients.Compute(model, x, zeros, [0, 1, 2, 1], new ExplainSettings());
        var scores = model.Scores(x, [0, 1, 2, 1]);
        var atZero = model.Scores(zeros, [0, 1, 2, 1]);
        for (var i = 0; i < 4; i++)
        {
            var sum = a.Values.Skip(i * 6).Take(6).Sum(v => (double)v);
            sum.ShouldBe(scores[i] - atZero[i], 0.005);
            a.Deltas![i].ShouldBeLessThan(0.005);
        }
    }

    [Fact]
    public void Smoothgrad_of_a_linear_model_is_its_weight_and_vargrad_is_zero()
    {
        using var runtime = ExplainModels.Linear(W, 0f);
        using var model = new AttributionModel(runtime);
        var x = ExplainModels.Values(4, seed: 10);
        var smooth = GradientMethods.NoisyGradients(model, x, [0], new ExplainSettings { Samples = 8 }, variance: false);
        var variance = GradientMethods.NoisyGradients(model, x, [0], new ExplainSettings { Samples = 8 }, variance: true);
        for (var j = 0; j < 4; j++)
        {
            smooth.Values[j].ShouldBe(W[j], 1e-6);
            variance.Values[j].ShouldBe(0f, 1e-9);
        }
    }

    [Fact]
    public void The_gauss_legendre_rule_integrates_polynomials_of_degree_2n_minus_1_exactly()
    {
        var (nodes, weights) = GaussLegendre.Rule(4);
        weights.Sum().ShouldBe(1, 1e-14);
        // ∫₀¹ t^7 dt = 1/8
        nodes.Select((t, k) => weights[k] * Math.Pow(t, 7)).Sum().ShouldBe(1.0 / 8, 1e-14);
        nodes.ShouldBe(nodes.Order().ToArray());
    }

    [Fact]
    public void Grad_cam_weighs_the_feature_maps_by_their_mean_gradient_and_keeps_the_positive_part()
    {
        // One 1×1 convolution with weight 1 copies the image; a dense layer reads it. The map is then x · mean(w),
        // upsampled from the same size (an identity), with the negative part cut.
        using var runtime = ExplainModels.Compile("""
            model Cam (image: Tensor[N, 1, 2, 2]) : Tensor[N, 1] =
                image |> conv2d 1 (kernel = 1) |> flatten |> dense 1
            """, "Cam", LossKind.Mse);
        runtime.Parameters.Value("Cam.conv2d.weight")[0] = 1f;
        runtime.Parameters.Value("Cam.conv2d.bias")[0] = 0f;
        new[] { 1f, 2f, 3f, 6f }.CopyTo(runtime.Parameters.Value("Cam.dense.weight"));
        var layer = AttributionGraph.FindLayer(runtime.Eval, "conv2d");
        using var model = new AttributionModel(runtime, layer);
        var a = GradientMethods.GradCam(model, [1f, -1f, 2f, 0.5f], [0], layer.Name);
        // mean gradient 3: cam = ReLU(3 · x).
        a.Values.ShouldBe([3f, 0f, 6f, 1.5f], tolerance: 1e-5f);
    }

    [Fact]
    public void More_inputs_than_a_block_are_explained_block_by_block_with_the_same_results()
    {
        using var runtime = ExplainModels.Linear(W, 0.3f);
        using var explainer = new Explainer(runtime, new ExplainSettings(), meanSample: null);
        var count = Explainer.BlockSize + 5;
        var x = ExplainModels.Values(count * 4, seed: 16);
        var targets = new int[count];
        var zeros = new float[x.Length];
        var ig = explainer.Attribute(MethodKind.IntegratedGradients, x, zeros, targets);
        ig.Count.ShouldBe(count);
        ig.Deltas!.Length.ShouldBe(count);
        ig.Steps!.Length.ShouldBe(count);
        for (var i = 0; i < x.Length; i++) ig.Values[i].ShouldBe(W[i % 4] * x[i], 1e-5);
        ig.Scores[count - 1].ShouldBe(W.Select((w, j) => w * x[(count - 1) * 4 + j]).Sum() + 0.3f, 1e-5);
    }
}
