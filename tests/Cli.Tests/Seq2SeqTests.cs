using System.Text.Json;
using Dlc.Cli.Tests.Support;

namespace Dlc.Cli.Tests;

/// <summary>
/// A tiny encoder-decoder trained for one epoch on a small `dates` set: `train` reports the test split's exact match
/// by greedy decoding, `eval` on its checkpoint the same, `sample` translates a prompt, and `bench` feeds both inputs.
/// </summary>
public sealed class TrainedTranslator : IDisposable
{
    public TrainedTranslator()
    {
        DlFile = Folder.Write("dates.dl", """
            model Dates (source: Tensor[N, S] of int) (previous: Tensor[N, T] of int) : Tensor[N, T, 70] =
                let encoded = source |> embedding 70 16 (maskZero = true) |> positionalEncoding |> transformerBlock 2 (hidden = 32)
                let y = previous |> embedding 70 16 |> positionalEncoding
                let h = y + (y |> layerNorm |> multiHeadAttention 2 (causal = true))
                h + (h |> layerNorm |> multiHeadAttention 2 (memory = encoded)) |> layerNorm |> dense 70

            train Dates {
                data      = dates { samples = 600; test = 0.2; validation = 0.1 }
                optimizer = adam { lr = 1e-2 }
                epochs    = 1
                batch     = 32
                seed      = 4
            }
            """);
        Train = Shell.Run("train", DlFile, "--out", Folder["run"], "--json").ShouldSucceed();
    }

    public TempFolder Folder { get; } = new();
    public string DlFile { get; }
    public CliRun Train { get; }

    public void Dispose() => Folder.Dispose();
}

public class Seq2SeqTests(TrainedTranslator model) : IClassFixture<TrainedTranslator>
{
    [Fact]
    public void Train_and_eval_report_the_same_token_accuracy_and_exact_match_of_the_test_split()
    {
        using var summary = JsonDocument.Parse(model.Train.Out);
        var root = summary.RootElement;
        var exact = root.GetProperty("test_exact_match").GetDouble();
        exact.ShouldBeInRange(0, 1);
        (exact * 120).ShouldBe(Math.Round(exact * 120), 1e-9, "a fraction of the 120 test dates");
        var accuracy = root.GetProperty("test_accuracy").GetDouble();
        // Random scores over 70 characters would be right one time in 70; a model that trained knows the digits and dashes.
        accuracy.ShouldBeGreaterThan(0.2);

        var eval = Shell.Run("eval", model.DlFile, "--checkpoint", model.Folder["run"], "--json").ShouldSucceed();
        using var result = JsonDocument.Parse(eval.Out);
        result.RootElement.GetProperty("exact_match").GetDouble().ShouldBe(exact);
        result.RootElement.GetProperty("accuracy").GetDouble().ShouldBe(accuracy, 1e-4);
        result.RootElement.GetProperty("samples").GetInt32().ShouldBe(120);

        var text = Shell.Run("eval", model.DlFile, "--checkpoint", model.Folder["run"]).ShouldSucceed();
        text.Out.ShouldContain("Dates on test (120 samples): loss ");
        text.Out.ShouldContain($" of 120 decoded greedily, without teacher forcing)");
        text.Out.ShouldNotContain("macro:");
    }

    [Fact]
    public void Sample_translates_a_prompt_greedily_and_refuses_characters_it_was_not_trained_on()
    {
        var run = Shell.Run("sample", model.DlFile, "--checkpoint", model.Folder["run"], "--prompt", "march 12, 1998", "--json").ShouldSucceed();
        using var json = JsonDocument.Parse(run.Out);
        json.RootElement.GetProperty("decoding").GetString().ShouldBe("greedy");
        var translation = json.RootElement.GetProperty("translation").GetString()!;
        translation.Length.ShouldBeLessThanOrEqualTo(11);
        translation.ShouldAllBe(c => " ,-./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".Contains(c));
        using var again = JsonDocument.Parse(Shell.Run("sample", model.DlFile, "--checkpoint", model.Folder["run"], "--prompt", "march 12, 1998", "--json").Out);
        again.RootElement.GetProperty("translation").GetString().ShouldBe(translation, "greedy decoding draws nothing");

        Shell.Run("sample", model.DlFile, "--checkpoint", model.Folder["run"], "--prompt", "12 März 1998")
            .ShouldFailWith(ExitCodes.UserError, "--prompt: `ä` (at 5) is not a character the model was trained on");
    }

    [Fact]
    public void Bench_feeds_both_inputs_of_the_model()
    {
        var bench = Shell.Run("bench", model.DlFile, "--epochs", "1", "--json", "--gemm", "managed").ShouldSucceed();
        using var json = JsonDocument.Parse(bench.Out);
        json.RootElement.GetProperty("train_samples_per_second").GetDouble().ShouldBeGreaterThan(0);
        json.RootElement.GetProperty("inference_samples_per_second").GetDouble().ShouldBeGreaterThan(0);
    }

    [Fact]
    public void Explain_and_prune_refuse_a_model_of_two_inputs_at_the_models_name()
    {
        Shell.Run("explain", model.DlFile, "--checkpoint", model.Folder["run"], "--inputs", "test[0:2]", "--out", model.Folder["explain"])
            .ShouldFailWith(1, "error DL0409: `dlc explain` attributes a prediction to the features of one input, but `Dates` takes 2 (`source`, `previous`)",
                "dates.dl:1:7");
        Shell.Run("prune", model.DlFile, "--checkpoint", model.Folder["run"], "--sparsity", "0.5", "--out", model.Folder["pruned"])
            .ShouldFailWith(1, "error DL0406: `dlc prune` measures and fine-tunes models of one input, but `Dates` takes 2 (`source`, `previous`)");
        Directory.Exists(model.Folder["pruned"]).ShouldBeFalse();
    }
}
