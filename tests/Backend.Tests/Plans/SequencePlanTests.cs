using Dlc.Backend.Gemm;
using Dlc.Backend.Plans;
using Dlc.Compiler.Autodiff;
using Dlc.Compiler.Elaboration;
using Dlc.Compiler.Jobs;
using Dlc.Diagnostics;

namespace Dlc.Backend.Tests.Plans;

/// <summary>
/// Sequence models compiled into plans, one training step against the double-precision definition: embeddings,
/// every recurrent cell (hidden sizes that leave a remainder after the eight-wide vectors), stacked layers, both
/// directions, the last state, and a dense layer and cross-entropy over every position.
/// </summary>
public class SequencePlanTests
{
    private const string Source = """
        model Lm (x: Tensor[N, T] of int) : Tensor[N, T, 7] =
            x |> embedding 7 5 |> lstm 12 |> gru 9 (bidirectional = true) |> rnn 3 (layers = 2) |> dense 7

        model Cls (x: Tensor[N, T, 3]) : Tensor[N, 4] =
            x |> rnn 4 (nonlinearity = relu) |> lstm 10 (returnSequences = false, bidirectional = true, bias = false) |> dense 4

        model Last (x: Tensor[N, T, 3]) : Tensor[N, 4] =
            x |> gru 8 (returnSequences = false, layers = 2) |> dense 4
        """;

    [Theory]
    [InlineData("Lm", 1)]
    [InlineData("Lm", 2)]
    [InlineData("Cls", 1)]
    [InlineData("Cls", 2)]
    [InlineData("Last", 2)]
    public void A_training_step_matches_the_reference_interpreter(string model, int threads)
    {
        var file = ProgramCompiler.Compile(new SourceText("seq.dl", Source));
        file.Diagnostics.ShouldBeEmpty();
        var gradients = TrainingGraph.Build(file.Elaborate(model, training: true), LossKind.CrossEntropy);
        const int batch = 5, steps = 6;
        var symbols = new Dictionary<string, int> { ["N"] = batch, ["T"] = steps };
        using var store = new ParameterStore(gradients.Graph.Parameters);
        store.Initialize(new Rng(3));
        using var plan = ExecutionPlan.Compile(gradients.Graph, store, new PlanOptions(symbols, GemmProviders.Create("managed", threads, out _)));
        var x = plan.Input("x");
        if (model == "Lm")
        {
            for (var i = 0; i < x.Length; i++) x[i] = (i * 5 + 2) % 7;
        }
        else
        {
            new Rng(5).FillUniform(x, -1, 1);
        }
        var labels = plan.Input(TrainingGraph.TargetInput);
        for (var i = 0; i < labels.Length; i++) labels[i] = (i * 3 + 1) % 4;
        plan.Run();
        PlanReference.ShouldMatch(gradients, store, plan, batch, $"{model}, {threads} threads", symbols);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Running_one_step_at_a_time_with_carried_state_gives_the_scores_of_the_whole_sequence(int threads)
    {
        const string source = """
            model Gen (x: Tensor[N, T] of int) : Tensor[N, T, 7] =
                x |> embedding 7 5 |> lstm 12 |> gru 9 |> rnn 3 (layers = 2) |> dense 7
            """;
        var file = ProgramCompiler.Compile(new SourceText("gen.dl", source));
        file.Diagnostics.ShouldBeEmpty();
        var graph = file.Elaborate("Gen", training: false).Graph;
        const int batch = 3, steps = 5;
        using var store = new ParameterStore(graph.Parameters);
        store.Initialize(new Rng(4));
        var gemm = GemmProviders.Create("managed", threads, out _);
        using var whole = ExecutionPlan.Compile(graph, store, new PlanOptions(new Dictionary<string, int> { ["N"] = batch, ["T"] = steps }, gemm));
        using var stepwise = ExecutionPlan.Compile(graph, store, new PlanOptions(new Dictionary<string, int> { ["N"] = batch, ["T"] = 1 }, gemm));
        var tokens = Enumerable.Range(0, batch * steps).Select(i => (float)((i * 3 + 1) % 7)).ToArray();
        tokens.CopyTo(whole.Input("x"));
        whole.Run();
        var expected = whole.Output(ModelGraph.OutputName).ToArray();
        stepwise.StartSequence(steps);
        for (var t = 0; t < steps; t++)
        {
            for (var n = 0; n < batch; n++) stepwise.Input("x")[n] = tokens[n * steps + t];
            stepwise.Run();
            var scores = stepwise.Output(ModelGraph.OutputName);
            for (var n = 0; n < batch; n++)
                for (var c = 0; c < 7; c++)
                    scores[n * 7 + c].ShouldBe(expected[(n * steps + t) * 7 + c], 1e-5, $"sample {n}, step {t}, class {c}");
        }
    }
}
