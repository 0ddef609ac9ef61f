using System.Globalization;
using System.Text.Json;
using Dlc.Cli.Tests.Support;

namespace Dlc.Cli.Tests;

/// <summary>
/// A small language identifier trained once on 300 words each of Debian's English and Spanish word lists (bin/setup
/// installs them): `train`, `eval` with per-class scores, and `explain` of its words token by token.
/// </summary>
public sealed class TrainedLanguageId : IDisposable
{
    public TrainedLanguageId()
    {
        DlFile = Folder.Write("langid.dl", """
            model Lang (word: Tensor[N, 10] of int) : Tensor[N, 2] =
                word |> embedding 64 8 |> gru 16 (returnSequences = false) |> dense 2

            train Lang {
                data      = wordLists { languages = ["english"; "spanish"]; length = 10; perLanguage = 300; validation = 0.1; test = 0.2 }
                optimizer = adam { lr = 1e-2 }
                epochs    = 3
                batch     = 32
                seed      = 2
            }
            """);
        Train = Shell.Run("train", DlFile, "--out", Folder["run"], "--json").ShouldSucceed();
    }

    public TempFolder Folder { get; } = new();
    public string DlFile { get; }
    public CliRun Train { get; }
    public string Checkpoint => Path.Combine(Folder["run"], "model.safetensors");

    public void Dispose() => Folder.Dispose();
}

public class LanguageIdTests(TrainedLanguageId model) : IClassFixture<TrainedLanguageId>
{
    [Fact]
    public void Training_reports_macro_f1_and_eval_prints_each_languages_precision_recall_and_f1()
    {
        using var summary = JsonDocument.Parse(model.Train.Out);
        var perClass = summary.RootElement.GetProperty("test_per_class").EnumerateArray().ToList();
        perClass.Select(c => c.GetProperty("class").GetString()).ShouldBe(["english", "spanish"]);
        perClass.Select(c => c.GetProperty("support").GetInt32()).ShouldBe([60, 60]);
        var macro = summary.RootElement.GetProperty("test_macro_f1").GetDouble();
        macro.ShouldBe(perClass.Average(c => c.GetProperty("f1").GetDouble()), 1e-9);

        var eval = Shell.Run("eval", model.DlFile, "--checkpoint", model.Folder["run"]).ShouldSucceed();
        eval.Out.ShouldContain("Lang on test (120 samples): loss ");
        eval.Out.ShouldContain("  class    precision  recall      F1    support\n");
        eval.Out.ShouldMatch(@"  english     0\.\d{4}  0\.\d{4}  0\.\d{4}         60\n");
        eval.Out.ShouldContain($"  macro: precision ");
        eval.Out.ShouldContain($"F1 {macro.ToString("0.0000", CultureInfo.InvariantCulture)} (2 classes)");
        eval.Out.ShouldNotContain("bits/char");
    }

    [Fact]
    public void Explain_attributes_each_word_to_its_characters_with_a_completeness_delta_within_0_005()
    {
        var run = Shell.Run("explain", model.DlFile, "--checkpoint", model.Checkpoint, "--inputs", "test[0:6]", "--out", model.Folder["explain"], "--json")
            .ShouldSucceed();
        using var json = JsonDocument.Parse(run.Out);
        json.RootElement.GetProperty("baseline").GetString().ShouldBe("padding");
        var inputs = json.RootElement.GetProperty("inputs").EnumerateArray().ToList();
        inputs.Count.ShouldBe(6);
        foreach (var input in inputs)
        {
            var tokens = input.GetProperty("tokens").EnumerateArray().ToList();
            string.Concat(tokens.Select(t => t.GetProperty("text").GetString())).ShouldBe(input.GetProperty("text").GetString());
            input.GetProperty("delta").GetDouble().ShouldBeLessThanOrEqualTo(0.005);
            tokens.Sum(t => t.GetProperty("attribution").GetDouble())
                .ShouldBe(input.GetProperty("score").GetDouble() - input.GetProperty("baseline_score").GetDouble(), 0.0051);
            input.GetProperty("target_name").GetString().ShouldBeOneOf("english", "spanish");
        }
        var csv = File.ReadAllLines(Path.Combine(model.Folder["explain"], "tokens.csv"));
        csv[0].ShouldBe("input,position,token,index,attribution,target,explained");
        csv.Length.ShouldBe(1 + inputs.Sum(i => i.GetProperty("tokens").GetArrayLength()));
        File.ReadAllText(Path.Combine(model.Folder["explain"], "tokens.html")).ShouldContain("<span class=\"t\" style=\"background:rgb(");

        var text = Shell.Run("explain", model.DlFile, "--checkpoint", model.Checkpoint, "--inputs", "test[0:2]", "--out", model.Folder["plain"]).ShouldSucceed();
        text.Out.ShouldContain("integrated-gradients on the embedding output, baseline padding");
        text.Out.ShouldMatch(@"\n      0  (\w:[+-]\d\.\d\d ?)+  → (english|spanish) \d+\.\d%");
    }

    [Fact]
    public void Explain_scores_token_deletion_against_random_orders_and_runs_the_randomisation_test_layer_by_layer()
    {
        var run = Shell.Run("explain", model.DlFile, "--checkpoint", model.Checkpoint, "--inputs", "test[0:8]", "--sanity", "--out", model.Folder["sanity"], "--json")
            .ShouldSucceed();
        using var json = JsonDocument.Parse(run.Out);
        var faithfulness = json.RootElement.GetProperty("faithfulness");
        foreach (var name in new[] { "deletion", "insertion", "random_deletion", "random_insertion" })
            faithfulness.GetProperty(name).GetDouble().ShouldBeInRange(0, 1);
        faithfulness.GetProperty("deletion_curve").GetArrayLength().ShouldBe(21);
        faithfulness.GetProperty("random_insertion_curve").GetArrayLength().ShouldBe(21);
        var sanity = json.RootElement.GetProperty("sanity");
        sanity.GetProperty("layers").EnumerateArray().Select(l => l.GetProperty("layer").GetString()).ShouldBe(["Lang.dense", "Lang.gru", "Lang.embedding"]);
        foreach (var layer in sanity.GetProperty("layers").EnumerateArray()) layer.GetProperty("correlation").GetDouble().ShouldBeInRange(-1, 1);
        sanity.GetProperty("passed").GetBoolean().ShouldBe(sanity.GetProperty("final").GetDouble() < 0.5);

        var text = Shell.Run("explain", model.DlFile, "--checkpoint", model.Checkpoint, "--inputs", "test[0:2]", "--sanity", "--out", model.Folder["sanity-text"]).ShouldSucceed();
        text.Out.ShouldMatch(@"  deletion AUC \d\.\d{4} \(random order \d\.\d{4}, lower is better\)  insertion AUC \d\.\d{4} \(random order \d\.\d{4}, higher is better\)\n");
        text.Out.ShouldMatch(@"  randomisation test: (pass|FAIL) \(passes when the rank correlation with every layer randomised is below 0\.5\)\n");
        text.Out.ShouldContain("    randomised down to Lang.embedding: rank correlation ");
    }

    [Fact]
    public void Explain_takes_words_from_the_command_line_padded_in_front_and_rejects_characters_the_model_never_saw()
    {
        var run = Shell.Run("explain", model.DlFile, "--checkpoint", model.Checkpoint, "--text", "casa", "--text", "house", "--out", model.Folder["text"], "--json")
            .ShouldSucceed();
        using var json = JsonDocument.Parse(run.Out);
        json.RootElement.GetProperty("split").GetString().ShouldBe("text");
        var inputs = json.RootElement.GetProperty("inputs").EnumerateArray().ToList();
        inputs.Select(i => i.GetProperty("text").GetString()).ShouldBe(["casa", "house"]);
        inputs[0].GetProperty("tokens").EnumerateArray().Select(t => t.GetProperty("position").GetInt32()).ShouldBe([6, 7, 8, 9]);
        inputs[0].TryGetProperty("label_name", out _).ShouldBeFalse();
        inputs.ShouldAllBe(i => i.GetProperty("delta").GetDouble() <= 0.005);

        Shell.Run("explain", model.DlFile, "--checkpoint", model.Checkpoint, "--text", "casa!", "--out", model.Folder["x"])
            .ShouldFailWith(1, "error DL0407: --text \"casa!\": `!` is not among the ");
        Shell.Run("explain", model.DlFile, "--checkpoint", model.Checkpoint, "--text", "abcdefghijk", "--out", model.Folder["x"])
            .ShouldFailWith(1, "error DL0407: --text \"abcdefghijk\": `Lang` reads 1 to 10 characters, and this text has 11");
        Shell.Run("explain", model.DlFile, "--checkpoint", model.Checkpoint, "--text", "casa", "--inputs", "test[0:2]", "--out", model.Folder["x"])
            .ShouldFailWith(1, "error DL0407: --text and --inputs both choose what to explain");
    }

    [Fact]
    public void A_position_asked_of_a_classifier_is_DL0409_at_the_model()
    {
        Shell.Run("explain", model.DlFile, "--checkpoint", model.Checkpoint, "--position", "3", "--out", model.Folder["x"])
            .ShouldFailWith(1, "langid.dl:1:7", "error DL0409: --position 3: `Lang` returns Tensor[N, 2], one prediction per sequence, not one per position");
    }

    [Fact]
    public void Methods_and_baselines_that_do_not_fit_token_sequences_are_DL0409()
    {
        Shell.Run("explain", model.DlFile, "--checkpoint", model.Checkpoint, "--method", "grad-cam", "--out", model.Folder["x"])
            .ShouldFailWith(1, "error DL0409: `grad-cam` does not explain token sequences: `word` is Tensor[N, 10] of int");
        Shell.Run("explain", model.DlFile, "--checkpoint", model.Checkpoint, "--baseline", "blurred", "--out", model.Folder["x"])
            .ShouldFailWith(1, "error DL0409: --baseline blurred: a token sequence starts from `padding` (every token index 0) or `zeros` (zero embeddings)");
    }
}

/// <summary>A forecaster on a generated series: chronological splits and errors in the series' units next to the naive forecast's.</summary>
public class TimeSeriesTests : IDisposable
{
    private readonly TempFolder _folder = new();

    [Fact]
    public void Eval_reports_the_mae_in_the_series_units_next_to_the_naive_last_value_forecast()
    {
        // A sine of period 12 around 50: the naive forecast is off by the slope, a trained model by much less.
        var rows = Enumerable.Range(0, 240).Select(t => $"{t},{(50 + 20 * Math.Sin(2 * Math.PI * t / 12)).ToString("0.###", CultureInfo.InvariantCulture)}");
        _folder.Write("wave.csv", "t,value\n" + string.Join("\n", rows) + "\n");
        var dl = _folder.Write("wave.dl", """
            model Wave (past: Tensor[N, 12, 1]) : Tensor[N, 1] =
                past |> flatten |> dense 1

            train Wave {
                data      = timeSeries { path = "wave.csv"; column = "value"; window = 12; test = 0.25 }
                loss      = mse
                optimizer = adam { lr = 3e-2 }
                epochs    = 40
                batch     = 16
                seed      = 1
            }
            """);
        Shell.Run("train", dl, "--out", _folder["run"]).ShouldSucceed().Out.ShouldContain("test (wave/test, 57 samples)");
        var eval = Shell.Run("eval", dl, "--checkpoint", _folder["run"], "--json").ShouldSucceed();
        using var json = JsonDocument.Parse(eval.Out);
        var naive = json.RootElement.GetProperty("naive_mae").GetDouble();
        // |x(t+1) − x(t)| of this sine averages 20 · 2 sin(π/12) · 2/π ≈ 6.6 over whole periods.
        naive.ShouldBe(6.6, 0.3);
        json.RootElement.GetProperty("mae").GetDouble().ShouldBeLessThan(naive / 3);
        Shell.Run("eval", dl, "--checkpoint", _folder["run"]).ShouldSucceed().Out.ShouldMatch(@"  MAE [\d.]+ \(naive last value: [\d.]+, [\d.]+×\)");
    }

    public void Dispose() => _folder.Dispose();
}
