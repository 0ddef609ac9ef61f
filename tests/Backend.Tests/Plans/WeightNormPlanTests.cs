using Dlc.Backend.Gemm;
using Dlc.Backend.Plans;
using Dlc.Compiler.Elaboration;
using Dlc.Compiler.Jobs;
using Dlc.Diagnostics;

namespace Dlc.Backend.Tests.Plans;

/// <summary>
/// Weight-normalised layers in compiled training steps against the reference interpreter, and their starting
/// point: v drawn as the plain weight would be and g as its row norms, so the model computes what it would without.
/// </summary>
public class WeightNormPlanTests
{
    private const string Source = """
        model Lm (x: Tensor[N, T] of int) : Tensor[N, T, 4] =
            x |> embedding 7 5 |> weightNorm (lstm 6) |> weightNorm (dense 4)

        model Gru (x: Tensor[N, T, 3]) : Tensor[N, T, 4] =
            x |> weightNorm (gru 5 (bidirectional = true)) |> relu |> weightNorm (dense 4 (bias = false))
        """;

    [Theory]
    [InlineData("Lm", 1)]
    [InlineData("Lm", 2)]
    [InlineData("Gru", 2)]
    public void A_training_step_through_weight_normalised_recurrent_and_dense_layers_matches_the_reference(string model, int threads)
    {
        PlanReference.SequenceStepShouldMatch(Source, model, batch: 4, steps: 5, threads, tokens: model == "Lm", $"{model}, {threads} threads", adjust: MoveLengths);
    }

    /// <summary>Lengths away from the row norms they start at, so g / ‖v‖ is not 1 and the gradients show it.</summary>
    private static void MoveLengths(ParameterStore store)
    {
        foreach (var p in store.Parameters.Where(p => p.Name.EndsWith("_g", StringComparison.Ordinal)))
        {
            var g = store.Value(p.Name);
            for (var k = 0; k < g.Length; k++) g[k] *= 0.5f + 0.25f * (k % 5);
        }
    }

    [Fact]
    public void A_weight_normalised_convolution_trains_as_the_reference_says()
    {
        var file = ProgramCompiler.Compile(new SourceText("conv.dl", """
            model C (x: Tensor[N, 2, 6, 6]) : Tensor[N, 4] =
                x |> weightNorm (conv2d 3 (kernel = 3, padding = 1)) |> relu |> flatten |> weightNorm (dense 4)
            """));
        file.Diagnostics.ShouldBeEmpty();
        var gradients = TrainingGraph.Build(file.Elaborate("C", training: true), LossKind.CrossEntropy);
        using var store = new ParameterStore(gradients.Graph.Parameters);
        store.Initialize(new Rng(3));
        MoveLengths(store);
        using var plan = ExecutionPlan.Compile(gradients.Graph, store, new PlanOptions(new Dictionary<string, int> { ["N"] = 3 }, new ManagedGemm(1)));
        new Rng(5).FillUniform(plan.Input("x"), -1, 1);
        var labels = plan.Input(TrainingGraph.TargetInput);
        for (var i = 0; i < labels.Length; i++) labels[i] = i % 4;
        plan.Run();
        PlanReference.ShouldMatch(gradients, store, plan, 3, "conv2d and dense");
    }

    [Fact]
    public void A_weight_normalised_model_starts_out_computing_what_the_plain_model_does()
    {
        var plain = Scores("x |> dense 6 |> tanh |> dense 3");
        var normalised = Scores("x |> weightNorm (dense 6) |> tanh |> weightNorm (dense 3)");
        normalised.Length.ShouldBe(plain.Length);
        for (var i = 0; i < plain.Length; i++) normalised[i].ShouldBe(plain[i], 1e-5);
    }

    private static float[] Scores(string body)
    {
        var file = ProgramCompiler.Compile(new SourceText("m.dl", $"model M (x: Tensor[N, 4]) : Tensor[N, 3] =\n    {body}\n"));
        file.Diagnostics.ShouldBeEmpty();
        var model = file.Elaborate("M", training: false);
        using var store = new ParameterStore(model.Graph.Parameters);
        store.Initialize(new Rng(9));
        using var plan = ExecutionPlan.Compile(model.Graph, store, new PlanOptions(new Dictionary<string, int> { ["N"] = 2 }, new ManagedGemm(1)));
        new Rng(1).FillUniform(plan.Input("x"), -1, 1);
        plan.Run();
        return plan.Output(model.Graph.Outputs[0].Name).ToArray();
    }
}
