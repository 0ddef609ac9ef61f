using System.Text.Json;
using Dlc.Cli.Tests.Support;

namespace Dlc.Cli.Tests;

/// <summary>
/// A small part-of-speech tagger trained once on a generated corpus in the Brown Corpus's format (the folder named by
/// DLC_DATA_BROWN, which no other test of this assembly reads): sentences of their own lengths, words as tokens.
/// </summary>
public sealed class TrainedTagger : IDisposable
{
    private readonly string? _previous = Environment.GetEnvironmentVariable("DLC_DATA_BROWN");

    public TrainedTagger()
    {
        var random = new Random(5);
        var catalogue = new List<string>();
        Directory.CreateDirectory(Folder["brown"]);
        for (var d = 1; d <= 20; d++)
        {
            var id = $"ca{d:00}";
            Folder.Write(Path.Combine("brown", id), Document(random));
            catalogue.Add($"{id} news");
        }
        Folder.Write(Path.Combine("brown", "cats.txt"), string.Join("\n", catalogue) + "\n");
        Environment.SetEnvironmentVariable("DLC_DATA_BROWN", Folder["brown"]);
        DlFile = Folder.Write("tagger.dl", """
            model Tagger (tokens: Tensor[N, T] of int) : Tensor[N, T, 12] =
                tokens |> embedding 16 8 (maskZero = true) |> lstm 12 (bidirectional = true) |> dense 12

            train Tagger {
                data      = brownCorpus { task = tags; tagset = universal; lowercase = true; validation = 0.2 }
                optimizer = adam { lr = 2e-2 }
                epochs    = 3
                batch     = 8
                seed      = 3
            }
            """);
        Shell.Run("train", DlFile, "--out", Folder["run"]).ShouldSucceed();
    }

    public TempFolder Folder { get; } = new();
    public string DlFile { get; }
    public string Checkpoint => Path.Combine(Folder["run"], "model.safetensors");

    /// <summary>Sentences of 3 to 9 words: "run" is a noun after "the" and a verb after a noun.</summary>
    private static string Document(Random random)
    {
        var lines = new List<string>();
        for (var s = 0; s < 10; s++)
        {
            var words = new List<string> { "the/at", random.Next(2) == 0 ? "run/nn" : "dog/nn", random.Next(2) == 0 ? "run/vb" : "sat/vbd" };
            if (random.Next(2) == 0) words.AddRange(["on/in", "the/at", "mat/nn"]);
            if (random.Next(2) == 0) words.Add("quickly/rb");
            words.Add("./.");
            lines.Add("\n\n\t" + string.Join(" ", words));
        }
        return string.Concat(lines) + "\n";
    }

    public void Dispose()
    {
        Environment.SetEnvironmentVariable("DLC_DATA_BROWN", _previous);
        Folder.Dispose();
    }
}

public class TaggerExplainTests(TrainedTagger model) : IClassFixture<TrainedTagger>
{
    [Fact]
    public void Explain_attributes_the_tag_of_each_sentences_last_word_to_all_its_words()
    {
        var run = Shell.Run("explain", model.DlFile, "--checkpoint", model.Checkpoint, "--inputs", "test[0:4]", "--sanity",
            "--out", model.Folder["explain"], "--json").ShouldSucceed();
        using var json = JsonDocument.Parse(run.Out);
        json.RootElement.GetProperty("unit").GetString().ShouldBe("words");
        json.RootElement.GetProperty("reads_ahead").GetBoolean().ShouldBeTrue();
        json.RootElement.GetProperty("faithfulness").GetProperty("random_deletion").GetDouble().ShouldBeInRange(0, 1);
        json.RootElement.GetProperty("sanity").GetProperty("layers").GetArrayLength().ShouldBe(3);
        foreach (var input in json.RootElement.GetProperty("inputs").EnumerateArray())
        {
            var tokens = input.GetProperty("tokens").EnumerateArray().ToList();
            // Every sentence ends with its full stop, the word explained by default, tagged `.` in the universal tagset.
            input.GetProperty("position").GetInt32().ShouldBe(tokens.Count - 1);
            tokens[^1].GetProperty("text").GetString().ShouldBe(".");
            input.GetProperty("label_name").GetString().ShouldBe(".");
            input.GetProperty("text").GetString().ShouldBe(string.Join(" ", tokens.Select(t => t.GetProperty("text").GetString())));
            input.GetProperty("text").GetString().ShouldStartWith("the ");
            input.GetProperty("delta").GetDouble().ShouldBeLessThanOrEqualTo(0.005);
            tokens.Sum(t => t.GetProperty("attribution").GetDouble())
                .ShouldBe(input.GetProperty("score").GetDouble() - input.GetProperty("baseline_score").GetDouble(), 0.0051);
        }
        var csv = File.ReadAllLines(Path.Combine(model.Folder["explain"], "tokens.csv"));
        csv[0].ShouldBe("input,position,token,index,attribution,target,explained");
        csv[1].ShouldStartWith("0,0,the,");
    }

    [Fact]
    public void A_word_in_the_middle_is_explained_by_the_words_on_both_sides_of_it()
    {
        var text = Shell.Run("explain", model.DlFile, "--checkpoint", model.Checkpoint, "--text", "the dog run on the mat .", "--position", "2",
            "--out", model.Folder["text"]).ShouldSucceed();
        text.Out.ShouldContain("Tagger: 1 input of text from 0 at position 2, integrated-gradients on the embedding output, baseline padding");
        text.Out.ShouldMatch(@"\n      0  the:[+-]\d\.\d\d dog:[+-]\d\.\d\d \[run\]:[+-]\d\.\d\d on:[+-]\d\.\d\d the:[+-]\d\.\d\d mat:[+-]\d\.\d\d \.:[+-]\d\.\d\d  → VERB \d+\.\d%");

        // A word the training texts did not have reads as <unk>, as training reads it.
        var unknown = Shell.Run("explain", model.DlFile, "--checkpoint", model.Checkpoint, "--text", "the cat sat .", "--out", model.Folder["unknown"], "--json")
            .ShouldSucceed();
        using var json = JsonDocument.Parse(unknown.Out);
        json.RootElement.GetProperty("inputs")[0].GetProperty("text").GetString().ShouldBe("the <unk> sat .");
    }

    [Fact]
    public void The_target_is_a_tag_by_its_name_or_its_index_and_a_name_the_tagset_lacks_is_DL0407_with_the_nearest()
    {
        string[] Targets(string target, string folder)
        {
            var run = Shell.Run("explain", model.DlFile, "--checkpoint", model.Checkpoint, "--inputs", "test[0:2]", "--position", "1", "--target", target,
                "--out", model.Folder[folder], "--json").ShouldSucceed();
            using var json = JsonDocument.Parse(run.Out);
            return json.RootElement.GetProperty("inputs").EnumerateArray()
                .Select(i => $"{i.GetProperty("target").GetInt32()} {i.GetProperty("target_name").GetString()}").ToArray();
        }

        // The universal tagset in its order: NOUN is class 0, VERB class 1; a name matches without regard to case.
        Targets("VERB", "verb").ShouldBe(["1 VERB", "1 VERB"]);
        Targets("verb", "verb-lower").ShouldBe(["1 VERB", "1 VERB"]);
        Targets("1", "verb-index").ShouldBe(["1 VERB", "1 VERB"]);
        Shell.Run("explain", model.DlFile, "--checkpoint", model.Checkpoint, "--target", "VREB", "--out", model.Folder["bad"])
            .ShouldFailWith(1, "error DL0407: --target VREB: `Tagger` has no class named `VREB`", "help: did you mean `VERB`?");
        Shell.Run("explain", model.DlFile, "--checkpoint", model.Checkpoint, "--target", "adjective", "--out", model.Folder["bad"])
            .ShouldFailWith(1, "error DL0407: --target adjective: `Tagger` has no class named `adjective`",
                "help: the classes are `NOUN`, `VERB`, `ADJ`, `ADV`, `ADP`, `CONJ`, `DET`, `NUM`, `PRON`, `PRT`, `X`, `.`, or give an output index from 0 to 11");
        Shell.Run("explain", model.DlFile, "--checkpoint", model.Checkpoint, "--target", "12", "--out", model.Folder["bad"])
            .ShouldFailWith(1, "error DL0407: --target 12: `Tagger` has 12 classes at each position (0 to 11)");
        Directory.Exists(model.Folder["bad"]).ShouldBeFalse();
    }

    [Fact]
    public void A_position_past_a_sentences_end_is_DL0407_at_the_model_and_writes_nothing()
    {
        Shell.Run("explain", model.DlFile, "--checkpoint", model.Checkpoint, "--inputs", "test[0:2]", "--position", "40", "--out", model.Folder["bad"])
            .ShouldFailWith(1, "tagger.dl:1:7", "error DL0407: --position 40: test[0] has ");
        Directory.Exists(model.Folder["bad"]).ShouldBeFalse();
        Shell.Run("explain", model.DlFile, "--checkpoint", model.Checkpoint, "--text", "the dog sat .", "--position", "4", "--out", model.Folder["bad"])
            .ShouldFailWith(1, "tagger.dl:1:7", "error DL0407: --position 4: --text \"the dog sat .\" has 4 words (positions 0 to 3), and `Tagger` scores only those");
    }
}
