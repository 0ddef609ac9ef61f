using Dlc.Backend.Gemm;
using Dlc.Compiler.Elaboration;
using Dlc.Diagnostics;
using Dlc.Runtime.Checkpoints;
using Dlc.Runtime.Data;
using Dlc.Runtime.Training;

namespace Dlc.Runtime.Tests.Training;

/// <summary>
/// A part-of-speech tagger trained end to end on a small generated corpus in the Brown Corpus's format: word
/// vocabulary, the universal tags, sentences padded per batch, the packed BiLSTM and the masked loss together.
/// </summary>
public class TaggerTrainingTests
{
    private const string Source = """
        model Tagger (tokens: Tensor[N, T] of int) : Tensor[N, T, 12] =
            tokens |> embedding 40 12 (maskZero = true) |> lstm 16 (bidirectional = true) |> dense 12

        train Tagger {
            data      = brownCorpus { task = tags; tagset = universal; lowercase = true; validation = 0.2 }
            optimizer = adam { lr = 1e-2 }
            epochs    = 4
            batch     = 8
            seed      = 3
        }
        """;

    /// <summary>
    /// Sentences of 2 to 9 words. "run" and "fish" are nouns after "the" and verbs after a noun, so a word's tag can
    /// need its left neighbour; "that" is a determiner before a noun and a conjunction before "the", so it can need
    /// its right neighbour, which only the reverse direction sees.
    /// </summary>
    private static string Document(Random random)
    {
        var lines = new List<string>();
        for (var s = 0; s < 12; s++)
        {
            var words = new List<string>();
            var clauses = random.Next(1, 3);
            for (var c = 0; c < clauses; c++)
            {
                if (c > 0) words.Add("that/cs");
                if (random.Next(2) == 0) words.Add("that/dt");
                else words.Add("the/at");
                words.Add(random.Next(3) switch { 0 => "run/nn", 1 => "fish/nn", _ => "dog/nn" });
                words.Add(random.Next(2) == 0 ? "fish/vb" : "run/vb");
                if (random.Next(2) == 0) words.Add("quickly/rb");
            }
            words.Add("./.");
            lines.Add("\n\n\t" + string.Join(" ", words));
        }
        return string.Concat(lines) + "\n";
    }

    [Fact]
    public void A_packed_bilstm_learns_tags_that_depend_on_both_neighbours_and_its_checkpoint_keeps_the_vocabulary()
    {
        using var folder = new TempDirectory();
        var random = new Random(11);
        var catalogue = new List<string>();
        for (var d = 1; d <= 30; d++)
        {
            var id = $"ca{d:00}";
            folder.Write(id, Document(random));
            catalogue.Add($"{id} news");
        }
        folder.Write("cats.txt", string.Join("\n", catalogue) + "\n");

        var file = ProgramCompiler.Compile(new SourceText(folder.File("tagger.dl"), Source));
        file.HasErrors.ShouldBeFalse(string.Join("\n", file.Diagnostics.Select(d => d.Message)));
        var spec = file.Trains.Single();
        var data = TagData.Load(spec.Data, spec.Seed, null, folder.Path);
        data.Words!.Words.ShouldBe([".", "the", "that", "run", "fish", "dog", "quickly"], ignoreOrder: true);
        data.Test!.Count.ShouldBe(3 * 12);
        using var model = new ModelRuntime(file, spec.Model, spec.Loss, new ManagedGemm(2), spec.Seed);
        TagData.CheckFits(file.Source, spec.Data, model.Train, data.Words);

        var run = new RunContext(folder.File("run"), "hash", new Dictionary<string, string>(), () => 0);
        Directory.CreateDirectory(run.Directory);
        var result = Trainer.Run(model, spec, data, run, new Silent());
        result.Epochs[^1].TrainLoss.ShouldBeLessThan(result.Epochs[0].TrainLoss);
        result.Test!.Accuracy!.Value.ShouldBeGreaterThan(0.99);
        // Every word is scored once: the padding of the batches is not counted.
        result.Test.Positions.ShouldBe(data.Test.Labels.Count(l => l >= 0));

        var saved = WordVocabulary.Deserialize(Checkpoint.LoadWords(run.Directory)!);
        saved.Words.ShouldBe(data.Words.Words);
        var again = TagData.Load(spec.Data, spec.Seed, saved, folder.Path);
        Evaluator.Evaluate(model, again.Test!).Accuracy.ShouldBe(result.Test.Accuracy);
    }

    [Fact]
    public void A_model_whose_embedding_is_smaller_than_the_vocabulary_is_reported_at_the_data_field()
    {
        var source = Source.Replace("embedding 40 12", "embedding 5 12", StringComparison.Ordinal);
        var file = ProgramCompiler.Compile(new SourceText("tagger.dl", source));
        var spec = file.Trains.Single();
        var words = new WordVocabulary(["the", "dog", "runs", "."], lowercase: true);
        using var model = new ModelRuntime(file, spec.Model, spec.Loss, new ManagedGemm(1), spec.Seed);
        var error = Should.Throw<DiagnosticException>(() => TagData.CheckFits(file.Source, spec.Data, model.Train, words));
        error.Diagnostics[0].Code.ShouldBe("DL0405");
        error.Diagnostics[0].Message.ShouldBe("the vocabulary of the training documents has 6 word indices with padding and unknown, but `Tagger`'s embedding holds 5");
    }

    private sealed class Silent : ITrainingObserver
    {
        public void Started(TrainStart start)
        {
        }

        public void BatchDone(int epoch, int batch, int batches, double loss)
        {
        }

        public void EpochDone(EpochMetrics metrics)
        {
        }
    }
}
