using System.Text.Json;
using Dlc.Cli.Tests.Support;

namespace Dlc.Cli.Tests;

/// <summary>
/// A language model of GPT-2 BPE tokens (`level = bpe`): trained on a small text, its tokenizer and tokens saved with the
/// checkpoint, `sample` decoding through GPT-2's table, and a checkpoint read with a record of another level refused.
/// </summary>
public class BpeLanguageModelTests : IDisposable
{
    private readonly TempFolder _folder = new();

    private string Project(string level)
    {
        var text = string.Concat(Enumerable.Range(0, 300).Select(i => $"The cat sat on the mat {i % 5}.\n"));
        _folder.Write("text.txt", text);
        return _folder.Write($"{level}.dl", $$"""
            model Lm (tokens: Tensor[N, T] of int) : Tensor[N, T, 32] =
                tokens |> embedding 32 8 |> lstm 16 |> dense 32

            train Lm {
                data      = textCorpus { path = "text.txt"; level = {{level}}; sequence = 8; validation = 0.2 }
                optimizer = adam { lr = 1e-2 }
                epochs    = 2
                batch     = 8
                seed      = 3
            }
            """);
    }

    [Fact]
    public void Training_on_bpe_tokens_reports_perplexity_and_sampling_decodes_with_the_same_tokenizer()
    {
        var dl = Project("bpe");
        var run = Shell.Run("train", dl, "--out", _folder["run"], "--json").ShouldSucceed();
        using (var summary = JsonDocument.Parse(run.Out))
        {
            var last = summary.RootElement.GetProperty("epochs")[1];
            last.GetProperty("val_perplexity").GetDouble().ShouldBe(Math.Exp(last.GetProperty("val_loss").GetDouble()), 1e-3);
            // The text uses about a dozen GPT-2 tokens and repeats itself.
            last.GetProperty("val_perplexity").GetDouble().ShouldBeLessThan(6);
            last.GetProperty("tokens_per_second").GetDouble().ShouldBeGreaterThan(0);
        }
        Shell.Run("eval", dl, "--checkpoint", _folder["run"], "--split", "validation").ShouldSucceed().Out.ShouldContain("nats/token (perplexity ");

        var sample = Shell.Run("sample", dl, "--checkpoint", _folder["run"], "--prompt", "The cat", "--length", "12", "--temperature", "0.3", "--seed", "1").ShouldSucceed();
        sample.Out.ShouldStartWith("The cat");
        sample.Out.ShouldContain(" the ");
        sample.Error.ShouldContain("tokens/s");

        var other = Project("char");
        Shell.Run("sample", other, "--checkpoint", _folder["run"], "--prompt", "The").ShouldFailWith(1,
            "was trained on text read by the `gpt2` tokenizer, but `train Lm` reads char");
    }

    [Fact]
    public void A_record_that_reads_bpe_refuses_a_checkpoint_trained_on_characters()
    {
        var chars = Project("char");
        Shell.Run("train", chars, "--out", _folder["chars"], "--epochs", "1").ShouldSucceed();
        Shell.Run("sample", Project("bpe"), "--checkpoint", _folder["chars"], "--prompt", "The").ShouldFailWith(1,
            "was not trained with the `gpt2` tokenizer that `level = bpe` reads text with");
    }

    public void Dispose() => _folder.Dispose();
}
