using System.Text.Json;
using Dlc.Cli.Tests.Support;

namespace Dlc.Cli.Tests;

/// <summary>A character-level language model on a small text: `train` in bits per character, `eval`, and `sample`.</summary>
public class LanguageModelTests : IDisposable
{
    private readonly TempFolder _folder = new();

    private string Project(int vocabulary = 32)
    {
        // A text whose next character is mostly predictable, long enough for several blocks to hold out.
        var text = string.Concat(Enumerable.Range(0, 400).Select(i => $"the cat sat on mat {i % 7}.\n"));
        _folder.Write("text.txt", text);
        return _folder.Write("lm.dl", $$"""
            model Lm (tokens: Tensor[N, T] of int) : Tensor[N, T, {{vocabulary}}] =
                tokens |> embedding {{vocabulary}} 8 |> lstm 16 |> dense {{vocabulary}}

            train Lm {
                data      = textCorpus { path = "text.txt"; sequence = 16; validation = 0.2 }
                optimizer = adam { lr = 1e-2 }
                clip      = 1.0
                epochs    = 2
                batch     = 16
                seed      = 3
            }
            """);
    }

    [Fact]
    public void Training_reports_bits_per_character_and_sampling_continues_the_prompt_deterministically()
    {
        var dl = Project();
        var run = Shell.Run("train", dl, "--out", _folder["run"], "--json").ShouldSucceed();
        using var summary = JsonDocument.Parse(run.Out);
        var last = summary.RootElement.GetProperty("epochs")[1];
        var valLoss = last.GetProperty("val_loss").GetDouble();
        last.GetProperty("val_bits_per_char").GetDouble().ShouldBe(valLoss / Math.Log(2), 1e-5);
        // The text repeats, so two epochs already beat guessing among its 19 characters (4.25 bits).
        last.GetProperty("val_bits_per_char").GetDouble().ShouldBeLessThan(3.5);

        var eval = Shell.Run("eval", dl, "--checkpoint", _folder["run"], "--split", "validation").ShouldSucceed();
        eval.Out.ShouldContain("nats/char (");
        eval.Out.ShouldContain(" bits/char)");

        string[] sample = ["sample", dl, "--checkpoint", _folder["run"], "--prompt", "the ", "--length", "40", "--temperature", "0.5", "--seed", "1"];
        var text = Shell.Run(sample).ShouldSucceed().Out;
        text.Length.ShouldBe("the ".Length + 40 + 1);
        text.ShouldStartWith("the ");
        Shell.Run(sample).ShouldSucceed().Out.ShouldBe(text);
        Shell.Run([.. sample, "--top-k", "1"]).ShouldSucceed().Out.ShouldStartWith("the ");
    }

    [Fact]
    public void Bench_reports_characters_per_second_by_epoch_and_at_the_median_step()
    {
        var dl = Project();
        var run = Shell.Run("bench", dl, "--epochs", "2", "--json", "--gemm", "managed").ShouldSucceed();
        using var json = JsonDocument.Parse(run.Out);
        var root = json.RootElement;
        root.GetProperty("tokens_per_sample").GetInt32().ShouldBe(16);
        var (samples, tokens) = (root.GetProperty("train_median_step_samples_per_second").GetDouble(), root.GetProperty("train_median_step_tokens_per_second").GetDouble());
        samples.ShouldBeGreaterThan(0);
        tokens.ShouldBe(16 * samples, 1e-6 * tokens);
        root.GetProperty("train_tokens_per_second").GetDouble().ShouldBeGreaterThan(0);
    }

    [Fact]
    public void Explain_attributes_the_prediction_at_a_position_to_the_characters_before_it()
    {
        var dl = Project();
        Shell.Run("train", dl, "--out", _folder["run"]).ShouldSucceed();
        var run = Shell.Run("explain", dl, "--checkpoint", _folder["run"], "--inputs", "validation[0:3]", "--position", "9", "--out", _folder["explain"], "--json")
            .ShouldSucceed();
        using var json = JsonDocument.Parse(run.Out);
        json.RootElement.GetProperty("position").GetInt32().ShouldBe(9);
        json.RootElement.GetProperty("faithfulness").GetProperty("random_deletion").GetDouble().ShouldBeInRange(0, 1);
        foreach (var input in json.RootElement.GetProperty("inputs").EnumerateArray())
        {
            var tokens = input.GetProperty("tokens").EnumerateArray().ToList();
            tokens.Select(t => t.GetProperty("position").GetInt32()).ShouldBe(Enumerable.Range(0, 10));
            input.GetProperty("delta").GetDouble().ShouldBeLessThanOrEqualTo(0.005);
            tokens.Sum(t => t.GetProperty("attribution").GetDouble())
                .ShouldBe(input.GetProperty("score").GetDouble() - input.GetProperty("baseline_score").GetDouble(), 0.0051);
            // The explained class is a character; the label is the one that came next in the text.
            input.GetProperty("target_name").GetString()!.Length.ShouldBe(1);
            input.GetProperty("label_name").GetString()!.Length.ShouldBe(1);
            input.GetProperty("probability").GetDouble().ShouldBeInRange(0, 1);
        }
        var text = Shell.Run("explain", dl, "--checkpoint", _folder["run"], "--inputs", "validation[0:1]", "--out", _folder["last"]).ShouldSucceed();
        text.Out.ShouldContain("1 input of validation from 0 at position 15, integrated-gradients on the embedding output");
        // A prompt from the command line ends at the last position: the character after it is explained.
        var prompt = Shell.Run("explain", dl, "--checkpoint", _folder["run"], "--text", "the cat s", "--out", _folder["prompt"], "--json").ShouldSucceed();
        using var promptJson = JsonDocument.Parse(prompt.Out);
        var only = promptJson.RootElement.GetProperty("inputs")[0];
        only.GetProperty("text").GetString().ShouldBe("the cat s");
        only.GetProperty("tokens").EnumerateArray().Select(t => t.GetProperty("position").GetInt32()).ShouldBe(Enumerable.Range(7, 9));

        Shell.Run("explain", dl, "--checkpoint", _folder["run"], "--position", "16", "--out", _folder["x"])
            .ShouldFailWith(1, "lm.dl:1:7", "error DL0407: --position 16: `Lm` scores 16 positions of each sequence (0 to 15)");

        // A language model's classes are its characters: --target names one, and one it never saw lists them.
        var named = Shell.Run("explain", dl, "--checkpoint", _folder["run"], "--text", "the cat s", "--target", "a", "--out", _folder["target"], "--json")
            .ShouldSucceed();
        using var namedJson = JsonDocument.Parse(named.Out);
        namedJson.RootElement.GetProperty("inputs")[0].GetProperty("target_name").GetString().ShouldBe("a");
        Shell.Run("explain", dl, "--checkpoint", _folder["run"], "--text", "the cat s", "--target", "Q", "--out", _folder["x"])
            .ShouldFailWith(1, "error DL0407: --target Q: `Lm` predicts no character `Q`", "help: its characters are ");
    }

    [Fact]
    public void A_transformer_samples_the_same_text_with_the_key_value_cache_as_without_it()
    {
        var text = string.Concat(Enumerable.Range(0, 400).Select(i => $"the cat sat on mat {i % 7}.\n"));
        _folder.Write("text.txt", text);
        var dl = _folder.Write("gpt.dl", """
            model Gpt (tokens: Tensor[N, T] of int) : Tensor[N, T, 32] =
                tokens |> embedding 32 8 |> positionalEncoding |> transformerBlock 2 (causal = true, hidden = 16) |> layerNorm |> dense 32

            train Gpt {
                data      = textCorpus { path = "text.txt"; sequence = 16; validation = 0.2 }
                optimizer = adam { lr = 1e-2 }
                epochs    = 1
                batch     = 16
                seed      = 3
            }
            """);
        Shell.Run("train", dl, "--out", _folder["run"]).ShouldSucceed();
        // 4 + 11 characters fit the context of 16, so both ways see the same characters at every step.
        string[] sample = ["sample", dl, "--checkpoint", _folder["run"], "--prompt", "the ", "--length", "11", "--seed", "2"];
        var cached = Shell.Run(sample).ShouldSucceed();
        cached.Out.Length.ShouldBe("the ".Length + 11 + 1);
        cached.Error.ShouldContain("characters/s, one step each");
        var uncached = Shell.Run([.. sample, "--no-cache"]).ShouldSucceed();
        uncached.Out.ShouldBe(cached.Out);
        uncached.Error.ShouldContain("characters/s, the window of the last 16 each");

        // Longer than the context: the cache starts again from the last half of the window.
        var json = Shell.Run("sample", dl, "--checkpoint", _folder["run"], "--length", "60", "--top-p", "0.9", "--json").ShouldSucceed();
        using var document = JsonDocument.Parse(json.Out);
        document.RootElement.GetProperty("text").GetString()!.Length.ShouldBe(60);
        document.RootElement.GetProperty("characters_per_second").GetDouble().ShouldBeGreaterThan(0);
        Shell.Run("sample", dl, "--checkpoint", _folder["run"], "--top-p", "1.5").ShouldFailWith(ExitCodes.UserError, "--top-p");
    }

    [Fact]
    public void A_model_with_fewer_classes_than_the_text_has_characters_is_an_error_at_the_data_field()
    {
        var run = Shell.Run("train", Project(vocabulary: 10), "--out", _folder["run"]);
        run.ShouldFailWith(1, "error DL0405: the training text has 19 different characters, so 20 token indices with the unknown one, but `Lm` takes 10",
            "lm.dl:5:17");
    }

    [Fact]
    public void Sampling_needs_a_checkpoint_with_a_vocabulary()
    {
        var dl = Project();
        Shell.Run("train", dl, "--out", _folder["run"], "--epochs", "1").ShouldSucceed();
        var weights = Path.Combine(_folder["run"], "model.safetensors");
        var bare = _folder["bare.safetensors"];
        // The same tensors without the metadata: as a checkpoint written by another tool would be.
        var bytes = File.ReadAllBytes(weights);
        var headerLength = BitConverter.ToInt64(bytes, 0);
        var header = JsonDocument.Parse(bytes.AsMemory(8, (int)headerLength));
        var stripped = JsonSerializer.SerializeToUtf8Bytes(header.RootElement.EnumerateObject().Where(p => p.Name != "__metadata__")
            .ToDictionary(p => p.Name, p => p.Value));
        var padded = stripped.Concat(Enumerable.Repeat((byte)' ', (8 - stripped.Length % 8) % 8)).ToArray();
        File.WriteAllBytes(bare, [.. BitConverter.GetBytes((long)padded.Length), .. padded, .. bytes.AsSpan(8 + (int)headerLength)]);
        Shell.Run("sample", dl, "--checkpoint", bare).ShouldFailWith(1, "has no vocabulary, so its token indices cannot be turned into text");
    }

    public void Dispose() => _folder.Dispose();
}
