using Dlc.Backend.Gemm;
using Dlc.Backend.Plans;
using Dlc.Compiler.Elaboration;
using Dlc.Compiler.Jobs;
using Dlc.Diagnostics;
using Dlc.Runtime.Data;
using Dlc.Runtime.Training;

namespace Dlc.Runtime.Tests.Training;

/// <summary>
/// Greedy decoding with a tiny encoder-decoder (untrained: what it writes does not matter, only that it is decoded
/// one token at a time from its own choices), and exact matches counted against the targets.
/// </summary>
public class GreedyDecoderTests
{
    private const string Source = """
        model Translate (source: Tensor[N, S] of int) (previous: Tensor[N, T] of int) : Tensor[N, T, 70] =
            let encoded = source |> embedding 70 8 (maskZero = true) |> positionalEncoding |> transformerBlock 2 (hidden = 16)
            let y = previous |> embedding 70 8 |> positionalEncoding
            let h = y + (y |> layerNorm |> multiHeadAttention 2 (causal = true))
            h + (h |> layerNorm |> multiHeadAttention 2 (memory = encoded)) |> dense 70
        """;

    private static readonly Dictionary<string, int> Lengths = new() { ["S"] = DatesSpec.SourceLength, ["T"] = DatesSpec.TargetLength };

    private static (CompiledFile File, ModelRuntime Model, Dataset Data) Tiny(int count)
    {
        var file = ProgramCompiler.Compile(new SourceText("translate.dl", Source));
        file.Diagnostics.ShouldBeEmpty();
        var model = new ModelRuntime(file, "Translate", LossKind.CrossEntropy, new ManagedGemm(1), seed: 5) { Lengths = Lengths };
        return (file, model, DateFormats.Encode("dates", DateFormats.Draw(count, seed: 2)));
    }

    private static int[] DecodeAll(ModelRuntime model, Dataset data)
    {
        var indices = Enumerable.Range(0, data.Count).ToArray();
        var plan = model.InferencePlan(data.Count);
        data.GatherPair(indices, 0, plan.Input("source"), default);
        var decoded = new int[data.Count * DatesSpec.TargetLength];
        GreedyDecoder.Decode(model, plan, data.Pairs!, data.Count, decoded);
        return decoded;
    }

    [Fact]
    public void Each_token_is_the_best_next_one_given_the_source_and_the_tokens_decoded_before_it()
    {
        var (_, model, data) = Tiny(6);
        using var _ = model;
        var decoded = DecodeAll(model, data);
        const int t = DatesSpec.TargetLength;
        // Against plans of exactly the prefix's length, so no padding follows the position read.
        var source = new float[DatesSpec.SourceLength];
        for (var row = 0; row < 3; row++)
        {
            data.GatherPair([row], 0, source, default);
            var ended = false;
            for (var p = 0; p < t; p++)
            {
                if (ended)
                {
                    decoded[row * t + p].ShouldBe(0, "after the end token the row is padding");
                    continue;
                }
                using var plan = ExecutionPlan.Compile(Compiler.Passes.PassPipeline.Run(model.Eval.Graph, model.Passes), model.Parameters,
                    new PlanOptions(new Dictionary<string, int> { ["N"] = 1, ["S"] = DatesSpec.SourceLength, ["T"] = p + 1 }, model.Gemm) { Passes = model.Passes });
                source.CopyTo(plan.Input("source"));
                var prefix = plan.Input("previous");
                prefix[0] = DateFormats.Begin;
                for (var q = 1; q <= p; q++) prefix[q] = decoded[row * t + q - 1];
                plan.Run();
                var scores = plan.Output(ModelGraph.OutputName).Slice(p * 70, 70).ToArray();
                decoded[row * t + p].ShouldBe(Array.IndexOf(scores, scores.Max()), $"row {row}, position {p}");
                ended = decoded[row * t + p] == DateFormats.End;
            }
        }
    }

    [Fact]
    public void A_sample_matches_exactly_when_every_decoded_token_up_to_the_end_is_its_targets()
    {
        var (_, model, data) = Tiny(12);
        using var _ = model;
        var decoded = DecodeAll(model, data);
        GreedyDecoder.CountExactMatches(model, data).ShouldBe(0, "an untrained model writes no date");

        // The same sources with the decoded tokens as their targets: all match, then one token changed does not.
        const int s = DatesSpec.SourceLength, t = DatesSpec.TargetLength;
        var features = new float[data.Count * (s + t)];
        var indices = Enumerable.Range(0, data.Count).ToArray();
        var sources = new float[data.Count * s];
        data.GatherPair(indices, 0, sources, default);
        for (var i = 0; i < data.Count; i++) sources.AsSpan(i * s, s).CopyTo(features.AsSpan(i * (s + t), s));
        var labels = decoded.Select(d => (float)d).ToArray();
        Dataset Targets() => Dataset.FromFloats("decoded", features, [s + t], labels, 70, targetSize: t).WithPairs(data.Pairs!);
        GreedyDecoder.CountExactMatches(model, Targets(), batch: 5).ShouldBe(12);
        labels[4 * t] = labels[4 * t] == 9 ? 10 : 9;
        GreedyDecoder.CountExactMatches(model, Targets(), batch: 5).ShouldBe(11);
    }
}
