using Dlc.Compiler.Jobs;
using Dlc.Runtime.Explain;

namespace Dlc.Runtime.Tests.Explain;

/// <summary>The cascading randomisation test, Spearman's ρ, and the deletion/insertion scores.</summary>
public class SanityCheckTests
{
    [Fact]
    public void Spearman_is_one_for_the_same_order_minus_one_reversed_and_averages_ties()
    {
        SanityCheck.Spearman([1f, 2f, 3f, 4f], [10f, 20f, 30f, 40f]).ShouldBe(1, 1e-12);
        SanityCheck.Spearman([1f, 2f, 3f, 4f], [4f, 3f, 2f, 1f]).ShouldBe(-1, 1e-12);
        // Ranks (0.5, 0.5, 2, 3) against (0, 1, 2, 3): ρ = 0.9487
        SanityCheck.Spearman([1f, 1f, 2f, 3f], [1f, 2f, 3f, 4f]).ShouldBe(0.9487, 1e-4);
        SanityCheck.Spearman([1f, 1f, 1f], [1f, 2f, 3f]).ShouldBe(0);
    }

    [Fact]
    public void Saliency_of_a_trained_network_changes_when_its_layers_are_randomised_and_the_weights_come_back()
    {
        // Only features 0 and 1 decide the class; after training, the gradient points at them.
        using var runtime = ExplainModels.Compile("""
            model Mlp (x: Tensor[N, 16]) : Tensor[N, 2] =
                x |> dense 32 |> relu |> dense 2
            """, "Mlp", LossKind.CrossEntropy, seed: 4);
        var (x, y) = Data(256, seed: 15);
        TrainBriefly(runtime, x, y);
        var trained = runtime.Parameters.Values.Span.ToArray();
        using var model = new AttributionModel(runtime);
        var inputs = x.Take(16 * 16).ToArray();
        int[] targets = [.. y.Take(16).Select(v => (int)v)];
        var original = GradientMethods.Saliency(model, inputs, targets);
        var result = SanityCheck.Cascading(model, original, () => GradientMethods.Saliency(model, inputs, targets), seed: 1);

        result.Steps.Select(s => s.Layer).ShouldBe(["Mlp.dense2", "Mlp.dense1"]);
        result.Final.ShouldBeLessThan(SanityCheck.PassBelow);
        result.Passed.ShouldBeTrue();
        runtime.Parameters.Values.Span.ToArray().ShouldBe(trained);
    }

    [Fact]
    public void Deleting_the_features_a_linear_model_weighs_most_drops_its_output_first()
    {
        float[] w = [4f, 1f, 0.5f, 0.1f];
        using var runtime = ExplainModels.Linear(w, 0f);
        using var model = new AttributionModel(runtime);
        float[] x = [1f, 1f, 1f, 1f];
        var good = GradientMethods.GradientTimesInput(model, x, [0]);
        var reversed = good with { Values = good.Values.Select(v => -v).ToArray() };
        var zeros = new float[4];
        var faithful = Faithfulness.Measure(model, good, x, zeros, 4);
        var unfaithful = Faithfulness.Measure(model, reversed, x, zeros, 4);
        faithful.Deletion.ShouldBeLessThan(unfaithful.Deletion);
        faithful.Insertion.ShouldBeGreaterThan(unfaithful.Insertion);
        faithful.DeletionCurve[0].ShouldBe(5.6, 1e-5);
        faithful.DeletionCurve[^1].ShouldBe(0, 1e-6);
    }

    private static (float[] X, float[] Y) Data(int count, int seed)
    {
        var x = ExplainModels.Values(count * 16, seed);
        var y = Enumerable.Range(0, count).Select(i => x[i * 16] + x[i * 16 + 1] > 0 ? 1f : 0f).ToArray();
        return (x, y);
    }

    /// <summary>Plain gradient descent on the training plan, full batch: enough to learn a linear rule.</summary>
    private static void TrainBriefly(Runtime.Training.ModelRuntime runtime, float[] x, float[] y)
    {
        var plan = runtime.TrainingPlan(y.Length);
        for (var step = 0; step < 300; step++)
        {
            x.CopyTo(plan.Input(runtime.Input.Name));
            y.CopyTo(plan.Input(TrainingGraph.TargetInput));
            plan.Run();
            var values = runtime.Parameters.Values.Span;
            var gradients = runtime.Parameters.Gradients.Span;
            for (var i = 0; i < runtime.Parameters.TrainableLength; i++) values[i] -= 0.5f * gradients[i];
        }
    }
}
