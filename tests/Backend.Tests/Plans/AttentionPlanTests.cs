using Dlc.Backend.Gemm;
using Dlc.Backend.Plans;
using Dlc.Compiler.Elaboration;
using Dlc.Compiler.Jobs;
using Dlc.Diagnostics;

namespace Dlc.Backend.Tests.Plans;

/// <summary>
/// Transformer models compiled into plans: one training step against the double-precision definition (embeddings,
/// positional encoding, pre-norm blocks, attention with and without bias and mask, a block written as a function with
/// residual adds), and generation with the key/value cache against the scores of the whole sequence.
/// </summary>
public class AttentionPlanTests
{
    private const string Source = """
        let block (x: Tensor) =
            let h = x + (x |> layerNorm |> multiHeadAttention 3 (causal = true))
            h + (h |> layerNorm |> dense 20 |> gelu |> dense 12)

        model Gpt (x: Tensor[N, T] of int) : Tensor[N, T, 7] =
            x |> embedding 7 12 |> positionalEncoding |> block |> transformerBlock 2 (causal = true, hidden = 16) |> layerNorm |> dense 7

        model Classifier (x: Tensor[N, T] of int) : Tensor[N, 4] =
            x |> embedding 7 12 (maskZero = true) |> positionalEncoding |> transformerBlock 3 (hidden = 16)
              |> multiHeadAttention 2 (causal = true) |> sequenceMean |> dense 4

        model Decoder (x: Tensor[N, T] of int) : Tensor[N, T, 4] =
            let memory = x |> embedding 7 8 (maskZero = true) |> transformerBlock 2 (hidden = 8)
            let y = x |> embedding 7 12 |> positionalEncoding
            let h = y + (y |> layerNorm |> multiHeadAttention 3 (causal = true))
            let c = h + (h |> layerNorm |> multiHeadAttention 2 (memory = memory))
            c |> dense 4

        model Encoder (x: Tensor[N, T, 6]) : Tensor[N, T, 4] =
            x |> multiHeadAttention 2 (bias = false) |> transformerBlock 3 (activation = relu) |> dense 4
        """;

    [Theory]
    [InlineData("Gpt", 5, 1)]
    [InlineData("Gpt", 37, 2)]
    [InlineData("Encoder", 6, 1)]
    [InlineData("Encoder", 9, 2)]
    public void A_training_step_matches_the_reference_interpreter(string model, int steps, int threads)
    {
        PlanReference.SequenceStepShouldMatch(Source, model, batch: 3, steps, threads, tokens: model == "Gpt", $"{model}, T = {steps}, {threads} threads");
    }

    [Theory]
    [InlineData(6, 1)]
    [InlineData(37, 2)]
    public void A_padded_batch_trains_as_the_reference_with_the_padding_masked(int steps, int threads)
    {
        // Lengths of T, 1, 0 (padding only) and about half.
        PlanReference.SequenceStepShouldMatch(Source, "Classifier", batch: 4, steps, threads, tokens: true, $"Classifier, T = {steps}, {threads} threads",
            lengths: [steps, 1, 0, steps / 2 + 1]);
    }

    [Theory]
    [InlineData(5, 1)]
    [InlineData(19, 2)]
    public void A_decoder_with_cross_attention_to_a_padded_memory_trains_as_the_reference(int steps, int threads)
    {
        PlanReference.SequenceStepShouldMatch(Source, "Decoder", batch: 3, steps, threads, tokens: true, $"Decoder, T = {steps}, {threads} threads",
            lengths: [steps, 0, steps / 2 + 1]);
    }

    [Fact]
    public void A_model_with_cross_attention_refuses_to_generate_step_by_step()
    {
        var graph = ProgramCompiler.Compile(new SourceText("attention.dl", Source)).Elaborate("Decoder", training: false).Graph;
        using var store = new ParameterStore(graph.Parameters);
        using var plan = ExecutionPlan.Compile(graph, store, new PlanOptions(new Dictionary<string, int> { ["N"] = 1, ["T"] = 1 }, GemmProviders.Create("managed", 1, out _)));
        Should.Throw<InvalidOperationException>(() => plan.StartSequence(8)).Message.ShouldContain("cross-attention reads the whole memory");
        plan.SequencePosition.ShouldBeNull();
    }

    [Fact]
    public void A_sample_scores_the_same_alone_and_padded_in_a_longer_batch()
    {
        var file = ProgramCompiler.Compile(new SourceText("attention.dl", Source));
        var graph = file.Elaborate("Classifier", training: false).Graph;
        using var store = new ParameterStore(graph.Parameters);
        store.Initialize(new Rng(4));
        var gemm = GemmProviders.Create("managed", 1, out _);
        float[] Scores(int steps, float[] tokens)
        {
            using var plan = ExecutionPlan.Compile(graph, store, new PlanOptions(new Dictionary<string, int> { ["N"] = 1, ["T"] = steps }, gemm));
            tokens.CopyTo(plan.Input("x"));
            plan.Run();
            return plan.Output(ModelGraph.OutputName).ToArray();
        }
        float[] sentence = [3, 1, 4, 1, 5];
        var alone = Scores(5, sentence);
        var padded = Scores(12, [.. sentence, 0, 0, 0, 0, 0, 0, 0]);
        for (var c = 0; c < 4; c++) padded[c].ShouldBe(alone[c], 1e-5);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Generating_one_position_at_a_time_with_the_cache_gives_the_scores_of_the_whole_sequence(int threads)
    {
        var file = ProgramCompiler.Compile(new SourceText("attention.dl", Source));
        var graph = file.Elaborate("Gpt", training: false).Graph;
        const int batch = 2, steps = 9;
        using var store = new ParameterStore(graph.Parameters);
        store.Initialize(new Rng(4));
        var gemm = GemmProviders.Create("managed", threads, out _);
        using var whole = ExecutionPlan.Compile(graph, store, new PlanOptions(new Dictionary<string, int> { ["N"] = batch, ["T"] = steps }, gemm));
        using var stepwise = ExecutionPlan.Compile(graph, store, new PlanOptions(new Dictionary<string, int> { ["N"] = batch, ["T"] = 1 }, gemm));
        var tokens = Enumerable.Range(0, batch * steps).Select(i => (float)((i * 3 + 1) % 7)).ToArray();
        tokens.CopyTo(whole.Input("x"));
        whole.Run();
        var expected = whole.Output(ModelGraph.OutputName).ToArray();
        // Twice: starting a sequence again forgets the first one.
        for (var round = 0; round < 2; round++)
        {
            stepwise.StartSequence(steps);
            for (var t = 0; t < steps; t++)
            {
                stepwise.SequencePosition.ShouldBe(t);
                for (var n = 0; n < batch; n++) stepwise.Input("x")[n] = tokens[n * steps + t];
                stepwise.Run();
                var scores = stepwise.Output(ModelGraph.OutputName);
                for (var n = 0; n < batch; n++)
                    for (var c = 0; c < 7; c++)
                        scores[n * 7 + c].ShouldBe(expected[(n * steps + t) * 7 + c], 1e-4, $"sample {n}, step {t}, class {c}");
            }
            // The cache is full: one more position is refused rather than read past its end.
            Should.Throw<InvalidOperationException>(stepwise.Run);
        }
        stepwise.EndSequence();
        stepwise.SequencePosition.ShouldBeNull();
    }
}
