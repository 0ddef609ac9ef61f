using Dlc.Backend.Gemm;
using Dlc.Backend.Plans;
using Dlc.Compiler.Autodiff;
using Dlc.Compiler.Elaboration;
using Dlc.Compiler.Jobs;
using Dlc.Diagnostics;

namespace Dlc.Backend.Tests.Plans;

/// <summary>
/// An encoder-decoder of two inputs, a padded source [N, S] and the decoder's input [N, T] with S ≠ T, compiled into a
/// training plan: one teacher-forced step against the double-precision reference interpreter.
/// </summary>
public class Seq2SeqPlanTests
{
    private const string Source = """
        let decode (memory: Tensor) (previous: Tensor) =
            let y = previous |> embedding 9 8 |> positionalEncoding
            let h = y + (y |> layerNorm |> multiHeadAttention 2 (causal = true))
            let c = h + (h |> layerNorm |> multiHeadAttention 2 (memory = memory))
            c + (c |> layerNorm |> dense 12 |> relu |> dense 8)

        model Translate (source: Tensor[N, S] of int) (previous: Tensor[N, T] of int) : Tensor[N, T, 9] =
            let encoded = source |> embedding 9 8 (maskZero = true) |> positionalEncoding |> transformerBlock 2 (hidden = 12)
            decode encoded previous |> layerNorm |> dense 9
        """;

    [Theory]
    [InlineData(7, 4, 1)]
    [InlineData(13, 5, 2)]
    public void A_teacher_forced_step_of_two_inputs_matches_the_reference_interpreter(int sourceLength, int targetLength, int threads)
    {
        const int batch = 3;
        var file = ProgramCompiler.Compile(new SourceText("seq2seq.dl", Source));
        file.Diagnostics.ShouldBeEmpty();
        var gradients = TrainingGraph.Build(file.Elaborate("Translate", training: true), LossKind.CrossEntropy);
        var symbols = new Dictionary<string, int> { ["N"] = batch, ["S"] = sourceLength, ["T"] = targetLength };
        using var store = new ParameterStore(gradients.Graph.Parameters);
        store.Initialize(new Rng(3));
        using var plan = ExecutionPlan.Compile(gradients.Graph, store, new PlanOptions(symbols, GemmProviders.Create("managed", threads, out _)));
        // Sources of lengths S, 1 and about half, padded with 0; the decoder reads 1 (begin) and then the target.
        int[] lengths = [sourceLength, 1, sourceLength / 2 + 1];
        var source = plan.Input("source");
        for (var i = 0; i < source.Length; i++) source[i] = i % sourceLength < lengths[i / sourceLength] ? 3 + (i * 5 + 2) % 6 : 0;
        var previous = plan.Input("previous");
        var labels = plan.Input(TrainingGraph.TargetInput);
        for (var i = 0; i < labels.Length; i++) labels[i] = 3 + (i * 3 + 1) % 6;
        for (var i = 0; i < previous.Length; i++) previous[i] = i % targetLength == 0 ? 1 : labels[i - 1];
        labels[targetLength - 1] = 2;
        plan.Run();
        PlanReference.ShouldMatch(gradients, store, plan, batch, $"S = {sourceLength}, T = {targetLength}, {threads} threads", symbols);
    }
}
