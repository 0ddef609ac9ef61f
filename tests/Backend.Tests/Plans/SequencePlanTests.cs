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
        PlanReference.SequenceStepShouldMatch(Source, model, batch: 5, steps: 6, threads, tokens: model == "Lm", $"{model}, {threads} threads");
    }

    private const string Embedded = """
        model EmbLstm (x: Tensor[N, T] of int) : Tensor[N, T, 7] =
            x |> embedding 7 5 |> lstm 6 (bidirectional = true) |> dense 7

        model EmbGru (x: Tensor[N, T] of int) : Tensor[N, T, 7] =
            x |> embedding 7 5 |> gru 6 |> dense 7

        model EmbRnn (x: Tensor[N, T] of int) : Tensor[N, T, 7] =
            x |> embedding 7 5 |> rnn 6 (bias = false) |> dense 7

        model Shared (x: Tensor[N, T] of int) : Tensor[N, T, 7] =
            let e = x |> embedding 7 6
            let h = (e |> lstm 6) + e
            h |> dense 7
        """;

    [Theory]
    [InlineData("EmbLstm", 1)]
    [InlineData("EmbLstm", 2)]
    [InlineData("EmbGru", 2)]
    [InlineData("EmbRnn", 1)]
    [InlineData("Shared", 2)]
    public void A_layer_reading_an_embedding_takes_its_input_side_from_the_table_and_trains_as_the_reference(string model, int threads)
    {
        // 30 rows of 7 tokens: the table's rows through w_ih are fewer products than x's. `Shared` also reads the
        // embedding elsewhere, so the layer's dx is still computed and added to the other gradient.
        PlanReference.SequenceStepShouldMatch(Embedded, model, batch: 5, steps: 6, threads, tokens: true, $"{model}, {threads} threads",
            inspect: plan => plan.RecurrentKernels.Single().Vocabulary.ShouldBe(7));
        // One sequence of 6 rows is fewer than the 7 tokens: the layer multiplies x.
        PlanReference.SequenceStepShouldMatch(Embedded, model, batch: 1, steps: 6, threads, tokens: true, $"{model}, one sequence",
            inspect: plan => plan.RecurrentKernels.Single().Vocabulary.ShouldBe(0));
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

    private const string Packed = """
        model Tagger (x: Tensor[N, T] of int) : Tensor[N, T, 4] =
            x |> embedding 7 5 (maskZero = true) |> lstm 6 (bidirectional = true) |> dense 4

        model Stack (x: Tensor[N, T] of int) : Tensor[N, T, 4] =
            x |> embedding 7 5 (maskZero = true) |> gru 5 (bidirectional = true, layers = 2) |> rnn 3 |> dense 4

        model Last (x: Tensor[N, T] of int) : Tensor[N, 4] =
            x |> embedding 7 5 (maskZero = true) |> lstm 6 (bidirectional = true, returnSequences = false) |> dense 4
        """;

    // Lengths of the seven samples: full, empty, one token, and others, so the parts of two threads hold mixed lengths.
    private static readonly int[] Lengths = [6, 0, 1, 4, 6, 2, 3];

    private static float[] PaddedTokens(int steps)
    {
        var tokens = new float[Lengths.Length * steps];
        for (var n = 0; n < Lengths.Length; n++)
            for (var t = 0; t < Lengths[n]; t++) tokens[n * steps + t] = 1 + (n * 5 + t * 3) % 6;
        return tokens;
    }

    [Theory]
    [InlineData("Tagger", 1, "managed")]
    [InlineData("Tagger", 2, "managed")]
    [InlineData("Tagger", 2, "mkl")]
    [InlineData("Stack", 2, "managed")]
    [InlineData("Last", 1, "managed")]
    [InlineData("Last", 2, "mkl")]
    public void A_packed_training_step_with_padding_ignored_matches_the_reference_interpreter(string model, int threads, string provider)
    {
        // MKL has no packed-panel products, so it runs the packed layer's other path (plain products over the running prefix).
        if (provider == "mkl" && !Support.MklGate.Available()) return;
        var file = ProgramCompiler.Compile(new SourceText("packed.dl", Packed));
        file.Diagnostics.ShouldBeEmpty();
        var gradients = TrainingGraph.Build(file.Elaborate(model, training: true), LossKind.CrossEntropy);
        const int steps = 6;
        var batch = Lengths.Length;
        var symbols = new Dictionary<string, int> { ["N"] = batch, ["T"] = steps };
        using var store = new ParameterStore(gradients.Graph.Parameters);
        store.Initialize(new Rng(8));
        using var plan = ExecutionPlan.Compile(gradients.Graph, store, new PlanOptions(symbols, GemmProviders.Create(provider, threads, out _)));
        PaddedTokens(steps).CopyTo(plan.Input("x"));
        var labels = plan.Input(TrainingGraph.TargetInput);
        for (var i = 0; i < labels.Length; i++)
        {
            // Per position: padding is labelled −1; per sample: the empty one too.
            var (n, t) = model == "Last" ? (i, 0) : (i / steps, i % steps);
            labels[i] = t < Lengths[n] ? (i * 3 + 1) % 4 : Dlc.Backend.Kernels.Losses.IgnoreLabel;
        }
        plan.Run();
        PlanReference.ShouldMatch(gradients, store, plan, batch, $"{model}, {threads} threads, {provider}", symbols);
    }

    [Theory]
    [InlineData("Tagger", 1)]
    [InlineData("Tagger", 2)]
    [InlineData("Stack", 2)]
    [InlineData("Last", 2)]
    public void A_padded_sequence_scores_as_the_sequence_alone_and_zero_padding_reaches_nothing(string model, int threads)
    {
        // The packed semantics: a sample's scores do not depend on how much padding follows it (the reverse direction
        // starts at its last token, not at the padding), so a batch padded to 9 steps agrees with each sample run alone.
        var file = ProgramCompiler.Compile(new SourceText("packed.dl", Packed));
        var graph = file.Elaborate(model, training: false).Graph;
        using var store = new ParameterStore(graph.Parameters);
        store.Initialize(new Rng(9));
        var gemm = GemmProviders.Create("managed", threads, out _);
        const int steps = 9;
        using var padded = ExecutionPlan.Compile(graph, store, new PlanOptions(new Dictionary<string, int> { ["N"] = Lengths.Length, ["T"] = steps }, gemm));
        PaddedTokens(steps).CopyTo(padded.Input("x"));
        padded.Run();
        var scores = padded.Output(ModelGraph.OutputName).ToArray();
        var perSample = model == "Last" ? 4 : steps * 4;
        for (var n = 0; n < Lengths.Length; n++)
        {
            if (Lengths[n] == 0) continue;
            using var alone = ExecutionPlan.Compile(graph, store, new PlanOptions(new Dictionary<string, int> { ["N"] = 1, ["T"] = Lengths[n] }, gemm));
            PaddedTokens(steps).AsSpan(n * steps, Lengths[n]).CopyTo(alone.Input("x"));
            alone.Run();
            var own = alone.Output(ModelGraph.OutputName).ToArray();
            for (var i = 0; i < own.Length; i++)
                scores[n * perSample + i].ShouldBe(own[i], 1e-5, $"{model}: sample {n}, score {i}");
        }
    }

    [Fact]
    public void Without_mask_zero_the_padding_is_read_as_tokens()
    {
        // The contrast that shows the test above is not vacuous: an unmasked bidirectional layer reads the padding.
        const string source = """
            model Plain (x: Tensor[N, T] of int) : Tensor[N, T, 4] =
                x |> embedding 7 5 |> lstm 6 (bidirectional = true) |> dense 4
            """;
        var graph = ProgramCompiler.Compile(new SourceText("plain.dl", source)).Elaborate("Plain", training: false).Graph;
        using var store = new ParameterStore(graph.Parameters);
        store.Initialize(new Rng(9));
        var gemm = GemmProviders.Create("managed", 1, out _);
        using var padded = ExecutionPlan.Compile(graph, store, new PlanOptions(new Dictionary<string, int> { ["N"] = 1, ["T"] = 5 }, gemm));
        using var alone = ExecutionPlan.Compile(graph, store, new PlanOptions(new Dictionary<string, int> { ["N"] = 1, ["T"] = 3 }, gemm));
        float[] tokens = [3, 1, 4, 0, 0];
        tokens.CopyTo(padded.Input("x"));
        tokens.AsSpan(0, 3).CopyTo(alone.Input("x"));
        padded.Run();
        alone.Run();
        Math.Abs(padded.Output(ModelGraph.OutputName)[0] - alone.Output(ModelGraph.OutputName)[0]).ShouldBeGreaterThan(1e-4f);
    }
}
