using Dlc.Backend.Gemm;
using Dlc.Compiler.Elaboration;
using Dlc.Diagnostics;
using Dlc.Runtime.Training;

namespace Dlc.Runtime.Tests.Training;

/// <summary>`dlc bench` on sentences to tag: batches padded per length as in training, speeds in sentences and their words.</summary>
public class TaggerBenchmarkTests
{
    private const string Source = """
        model Tagger (tokens: Tensor[N, T] of int) : Tensor[N, T, 12] =
            tokens |> embedding 20 8 (maskZero = true) |> lstm 8 (bidirectional = true) |> dense 12

        train Tagger {
            data      = brownCorpus { task = tags; tagset = universal; lowercase = true }
            optimizer = adam { lr = 1e-2 }
            batch     = 4
            seed      = 3
        }
        """;

    [Fact]
    public void Tagging_is_benchmarked_in_sentences_and_words_per_second()
    {
        using var folder = new TempDirectory();
        var catalogue = new List<string>();
        for (var d = 1; d <= 20; d++)
        {
            // Sentences of 4, 3 and 9 words, so batches pad to different lengths.
            folder.Write($"ca{d:00}", "\n\n\tThe/at dog/nn runs/vbz ./.\n\n\tDogs/nns run/vb ./.\n\n\tThe/at dog/nn and/cc the/at cat/nn run/vb very/ql quickly/rb ./.\n");
            catalogue.Add($"ca{d:00} news");
        }
        folder.Write("cats.txt", string.Join("\n", catalogue) + "\n");
        var file = ProgramCompiler.Compile(new SourceText(folder.File("tagger.dl"), Source));
        file.HasErrors.ShouldBeFalse();
        var spec = file.Trains.Single();
        var data = TagData.Load(spec.Data, spec.Seed, null, folder.Path);
        using var model = new ModelRuntime(file, spec.Model, spec.Loss, new ManagedGemm(1), spec.Seed);
        var messages = new List<string>();
        var result = Benchmark.Run(model, spec, data, 1, 1, () => 0, messages.Add);

        result.TokenUnit.ShouldBe("words");
        result.EpochSamplesPerSecond.Count.ShouldBe(1);
        // Words are counted without the padding: 16 in every 3 sentences, however the batches pad them.
        (result.TrainTokensPerSecond!.Value / result.TrainSamplesPerSecond).ShouldBe(16.0 / 3, 1e-9);
        (result.InferenceTokensPerSecond!.Value / result.InferenceSamplesPerSecond).ShouldBe(16.0 / 3, 1e-9);
        result.InferenceBatch.ShouldBe(64);
        result.LatencyTokens.ShouldBe(4);
        result.LatencyMicroseconds.ShouldBeGreaterThan(0);
        messages[0].ShouldStartWith("warm-up epoch: ");
        messages[0].ShouldEndWith(" words/s");
    }
}
