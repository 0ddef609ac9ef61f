using System.Text.Json;
using Dlc.Cli.Tests.Support;

namespace Dlc.Cli.Tests;

/// <summary>`dlc check --summary`: forward FLOPs and activation memory per sample, and what `check` accepts of the wider language.</summary>
public class CheckSummaryTests : IDisposable
{
    private readonly TempFolder _folder = new();

    [Fact]
    public void The_summary_adds_flops_and_activations_per_layer_and_in_total()
    {
        var path = _folder.Write("tiny.dl", TinyProject.Source());
        Shell.Run("check", path, "--summary").ShouldSucceed().Out.ShouldStartWith("""
            model Tiny (image: Tensor[N, 64]) : Tensor[N, 4]
              name         layer     output         parameters  FLOPs  activations  line
              Tiny.dense1  dense 16  Tensor[N, 16]       1,040  2,064         64 B     3
              relu         relu      Tensor[N, 16]           0     16         64 B     3
              Tiny.dense2  dense 4   Tensor[N, 4]           68    132         16 B     4
              total: 1,108 parameters (4.3 KiB); per sample: 2,212 FLOPs forward, 144 B of activations
            """);
    }

    [Fact]
    public void The_json_summary_has_the_costs_as_numbers()
    {
        var run = Shell.Run("check", _folder.Write("tiny.dl", TinyProject.Source()), "--json", "--summary").ShouldSucceed();
        using var json = JsonDocument.Parse(run.Out);
        var model = json.RootElement.GetProperty("models")[0];
        model.GetProperty("flops_per_sample").GetInt64().ShouldBe(2212);
        model.GetProperty("activation_bytes_per_sample").GetInt64().ShouldBe(144);
        model.GetProperty("layers")[0].GetProperty("flops_per_sample").GetInt64().ShouldBe(2064);
    }

    [Fact]
    public void Without_summary_the_json_has_no_costs()
    {
        var run = Shell.Run("check", _folder.Write("tiny.dl", TinyProject.Source()), "--json").ShouldSucceed();
        run.Out.ShouldNotContain("flops");
    }

    [Fact]
    public void A_sequence_model_shows_costs_that_grow_with_its_length()
    {
        var path = _folder.Write("lm.dl", "model Lm (tokens: Tensor[N, T] of int) : Tensor[N, T, 8] =\n    tokens |> embedding 8 4 |> gru 4 |> dense 8\n");
        var run = Shell.Run("check", path, "--summary").ShouldSucceed();
        run.Out.ShouldContain("model Lm (tokens: Tensor[N, T] of int) : Tensor[N, T, 8]");
        run.Out.ShouldContain("per sample: ");
        run.Out.ShouldContain("·T FLOPs forward");
    }

    [Fact]
    public void A_cnn_with_a_full_train_record_checks_and_shows_its_recipe()
    {
        var run = Shell.Run("check", Path.Combine(Repository.Root, "examples", "fashion_cnn.dl")).ShouldSucceed();
        run.Out.ShouldContain("  FashionCnn.convBlock1.conv2d     conv2d 32  Tensor[N, 32, 28, 28]         320    13\n");
        run.Out.ShouldContain("total: 421,834 parameters (1.6 MiB); 194 running statistics are saved with them\n");
        run.Out.ShouldContain(", schedule cosine warmup=1 minLr=0, clip 1, crop padding=2, flip\n");
    }

    [Fact]
    public void A_layer_of_an_imported_file_shows_that_file_in_the_line_column()
    {
        Directory.CreateDirectory(_folder["lib"]);
        _folder.Write("lib/blocks.dl", "let block (units: int) = dense units >> relu\n");
        var path = _folder.Write("main.dl", "import \"lib/blocks.dl\"\n\nmodel M (x: Tensor[N, 4]) : Tensor[N, 2] =\n    x |> block 3 |> dense 2\n");
        var run = Shell.Run("check", path).ShouldSucceed();
        run.Out.ShouldContain("  M.block.dense  dense 3  Tensor[N, 3]          15  blocks.dl:1\n");
    }

    [Fact]
    public void An_import_cycle_is_an_error_of_check()
    {
        _folder.Write("a.dl", "import \"b.dl\"\n");
        _folder.Write("b.dl", "import \"a.dl\"\n");
        Shell.Run("check", _folder["a.dl"]).ShouldFailWith(ExitCodes.UserError, "error DL0207: import cycle: a.dl → b.dl → a.dl", "/b.dl:1:8");
    }

    [Fact]
    public void An_agent_record_is_listed_after_the_train_records()
    {
        var path = _folder.Write("agent.dl", "model Q (s: Tensor[N, 4]) : Tensor[N, 2] =\n    s |> dense 2\n\nagent A { network = Q; env = cartPole }\n");
        var run = Shell.Run("check", path).ShouldSucceed();
        run.Out.ShouldContain("agent A: dqn on cartPole, network Q, gamma 0.99, replay 100,000 (batch 64); not trainable by this version yet\n");
        run.Out.ShouldEndWith("(1 model, 0 train records, 1 agent)\n");
    }

    public void Dispose() => _folder.Dispose();
}
