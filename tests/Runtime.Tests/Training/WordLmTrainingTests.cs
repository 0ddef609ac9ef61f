using Dlc.Backend.Gemm;
using Dlc.Compiler.Elaboration;
using Dlc.Diagnostics;
using Dlc.Runtime.Checkpoints;
using Dlc.Runtime.Data;
using Dlc.Runtime.Training;

namespace Dlc.Runtime.Tests.Training;

/// <summary>
/// A word-level language model end to end on a small generated corpus in the Brown Corpus's format: the vocabulary of
/// the training texts with &lt;eos&gt; and &lt;unk&gt;, windows and their next words, training (through a weight-normalised
/// LSTM), the vocabulary saved with the checkpoint, and sampling words.
/// </summary>
public class WordLmTrainingTests
{
    private const string Source = """
        model WordLm (tokens: Tensor[N, T] of int) : Tensor[N, T, 16] =
            tokens |> embedding 16 12 |> weightNorm (lstm 24) |> dense 16

        train WordLm {
            data      = brownCorpus { level = word; sequence = 6; lowercase = true; validation = 0.2 }
            optimizer = adam { lr = 2e-2 }
            epochs    = 6
            batch     = 8
            seed      = 3
        }
        """;

    /// <summary>Sentences "the dog runs quickly ." and the like: after "the" comes an animal, after an animal a verb.</summary>
    private static string Document(Random random)
    {
        var lines = new List<string>();
        for (var s = 0; s < 20; s++)
        {
            var animal = random.Next(3) switch { 0 => "dog", 1 => "cat", _ => "bird" };
            var verb = animal == "bird" ? "flies" : random.Next(2) == 0 ? "runs" : "sleeps";
            var words = new List<string> { "The/at", $"{animal}/nn", $"{verb}/vbz" };
            if (random.Next(2) == 0) words.Add("quickly/rb");
            words.Add("./.");
            lines.Add("\n\n\t" + string.Join(" ", words));
        }
        return string.Concat(lines) + "\n";
    }

    private static (CompiledFile File, TempDirectory Folder) Corpus()
    {
        var folder = new TempDirectory();
        var random = new Random(5);
        var catalogue = new List<string>();
        for (var d = 1; d <= 10; d++)
        {
            folder.Write($"ca{d:00}", Document(random));
            catalogue.Add($"ca{d:00} news");
        }
        folder.Write("cats.txt", string.Join("\n", catalogue) + "\n");
        var file = ProgramCompiler.Compile(new SourceText(folder.File("wordlm.dl"), Source));
        file.HasErrors.ShouldBeFalse(string.Join("\n", file.Diagnostics.Select(d => d.Message)));
        return (file, folder);
    }

    [Fact]
    public void The_training_texts_give_the_vocabulary_and_each_window_is_followed_by_its_next_words()
    {
        var (file, folder) = Corpus();
        using var _ = folder;
        var spec = file.Trains.Single();
        var data = WordLmData.Load(spec.Data, p => p, spec.Seed, null, folder.Path);
        data.TokenUnit.ShouldBe(TokenUnit.Word);
        data.Words!.Words.ShouldBe(["<eos>", "the", ".", "dog", "cat", "bird", "runs", "sleeps", "flies", "quickly"], ignoreOrder: true);
        data.Words.Encode("The").ShouldBe(data.Words.Encode("the"));
        data.Words.Encode("horse").ShouldBe(WordVocabulary.Unknown);
        data.Validation.ShouldNotBeNull();
        var train = data.Train;
        train.SampleShape.ShouldBe([6]);
        train.TargetSize.ShouldBe(6);
        var x = new float[2 * 6];
        var y = new float[2 * 6];
        train.Gather([0, 1], x, y);
        // Windows follow each other, and each target is the word after its input.
        for (var i = 0; i < 11; i++) y[i].ShouldBe(x[i + 1]);
        data.Words.Decode((int)x[0]).ShouldBe("the");
        data.Words.Decode((int)x[5]).ShouldBeOneOf(".", "<eos>", "quickly");
    }

    [Fact]
    public void A_word_lm_learns_the_grammar_keeps_its_vocabulary_and_samples_words()
    {
        var (file, folder) = Corpus();
        using var _ = folder;
        var spec = file.Trains.Single();
        var data = WordLmData.Load(spec.Data, p => p, spec.Seed, null, folder.Path);
        using var model = new ModelRuntime(file, spec.Model, spec.Loss, new ManagedGemm(1), spec.Seed)
        {
            Lengths = new Dictionary<string, int> { ["T"] = 6 },
        };
        WordLmData.CheckFits(file.Source, spec.Data, model.Train, data.Words!);
        var run = new RunContext(folder.File("run"), "hash", new Dictionary<string, string>(), () => 0);
        Directory.CreateDirectory(run.Directory);
        var result = Trainer.Run(model, spec, data, run, new Silent());
        result.Epochs[^1].Unit.ShouldBe(TokenUnit.Word);
        result.Epochs[^1].TokensPerSample.ShouldBe(6);
        // Uniform guessing over the 12 words in use is perplexity 12; the grammar leaves about 2 choices a word.
        EpochMetrics.Perplexity(result.Epochs[^1].Validation!.Loss).ShouldBeLessThan(3.5);

        var saved = WordVocabulary.Deserialize(Checkpoint.LoadWords(run.Directory)!);
        saved.Words.ShouldBe(data.Words!.Words);
        using var sampling = new ModelRuntime(file, spec.Model, spec.Loss, new ManagedGemm(1), spec.Seed)
        {
            Lengths = new Dictionary<string, int> { ["T"] = 1 },
        };
        model.Parameters.Values.Span.CopyTo(sampling.Parameters.Values.Span);
        var sample = Sampler.Generate(sampling, new WordCodec(saved), new SampleOptions("The", 30, 0.5, null, 7) { Context = 6 });
        sample.Tokens.ShouldBe(31);
        sample.Text.ShouldStartWith("The ");
        var words = sample.Text.Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
        words.Skip(1).ShouldAllBe(w => saved.Words.Contains(w));
        // After "the" the model has learnt that an animal comes.
        words[1].ShouldBeOneOf("dog", "cat", "bird");
    }

    [Fact]
    public void A_model_that_scores_fewer_words_than_the_vocabulary_is_reported_at_the_data_field()
    {
        var file = ProgramCompiler.Compile(new SourceText("wordlm.dl", Source.Replace("Tensor[N, T, 16]", "Tensor[N, T, 8]").Replace("dense 16", "dense 8")));
        var spec = file.Trains.Single();
        using var model = new ModelRuntime(file, spec.Model, spec.Loss, new ManagedGemm(1), spec.Seed);
        var words = new WordVocabulary(["<eos>", "the", "dog", "runs", ".", "cat", "bird", "flies"], lowercase: true);
        var error = Should.Throw<DiagnosticException>(() => WordLmData.CheckFits(file.Source, spec.Data, model.Train, words));
        error.Diagnostics[0].Code.ShouldBe("DL0405");
        error.Diagnostics[0].Message.ShouldBe("the vocabulary of the training text has 10 word indices with padding and unknown, but `WordLm` takes 8");
    }

    [Fact]
    public void Generated_words_are_joined_by_spaces_and_an_end_of_sentence_starts_a_line()
    {
        var words = new WordVocabulary(["<eos>", "the", "dog", "runs"], lowercase: true);
        var codec = new WordCodec(words);
        codec.Encode("The  dog").ShouldBe([3, 4]);
        codec.Encode("").ShouldBe([2]);
        codec.Decode("The", [4, 5, 2, 3, 4]).ShouldBe(" dog runs\nthe dog");
        codec.Decode("", [3, 1]).ShouldBe("the <unk>");
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
