using Dlc.Cli.Tests.Support;
using Dlc.Runtime.Checkpoints;

namespace Dlc.Cli.Tests;

/// <summary>`dlc prune` on a trained tiny model: masks that hold through fine-tuning, a smaller model that checks, evaluates and trains, and bad options.</summary>
public class PruneCommandTests : IDisposable
{
    private readonly TinyProject _project = new();

    public void Dispose() => _project.Dispose();

    private string Trained()
    {
        Shell.Run("train", _project.DlFile, "--out", _project["run"], "--json").ShouldSucceed();
        return Path.Combine(_project["run"], "model.safetensors");
    }

    [Fact]
    public void Magnitude_pruning_keeps_the_pruned_weights_at_zero_through_fine_tuning_and_writes_a_checkpoint_eval_reads()
    {
        var checkpoint = Trained();
        var output = _project["pruned"];
        var run = Shell.Run("prune", _project.DlFile, "--checkpoint", checkpoint, "--sparsity", "0.75", "--steps", "2",
            "--finetune-epochs", "1", "--scope", "layer", "--out", output).ShouldSucceed();
        run.Out.ShouldStartWith("magnitude pruning of Tiny (per layer): 75% of weights in 2 step(s), 1 fine-tuning epoch(s) after each\n");
        run.Out.ShouldContain("  step 2: fine-tuned              25.00%");
        File.Exists(Path.Combine(output, "prune-report.txt")).ShouldBeTrue();
        var tensors = SafeTensorsFile.Read(Path.Combine(output, "model.safetensors")).Tensors().ToDictionary(t => t.Name);
        // 16×64 and 4×16 weights, each three quarters zero after the last fine-tuning epoch; the biases are whole.
        tensors["Tiny.dense1.weight"].Data.ToArray().Count(v => v == 0).ShouldBe(768);
        tensors["Tiny.dense2.weight"].Data.ToArray().Count(v => v == 0).ShouldBe(48);
        tensors["Tiny.dense1.bias"].Data.ToArray().ShouldAllBe(v => v != 0);
        Shell.Run("eval", _project.DlFile, "--checkpoint", output).ShouldSucceed().Out.ShouldStartWith("Tiny on test (64 samples)");
    }

    [Fact]
    public void Structured_pruning_writes_a_smaller_model_that_checks_evaluates_and_trains_from_its_weights()
    {
        var checkpoint = Trained();
        var output = _project["small"];
        var run = Shell.Run("prune", _project.DlFile, "--checkpoint", checkpoint, "--structured", "--keep", "0.5", "--finetune-epochs", "1",
            "--out", output).ShouldSucceed();
        run.Out.ShouldContain("channels: 8 of 16 kept in the pruned layers\n");
        run.Out.ShouldContain("  kept whole: Tiny.dense2.weight (4): it is the model's output `output`\n");
        var dl = Path.Combine(output, "tiny.dl");
        var text = File.ReadAllText(dl);
        text.ShouldStartWith("// Pruned from tiny.dl by `dlc prune --structured --keep 0.5`: 8 of 16 neurons and channels kept.\n");
        text.ShouldContain("    |> dense 8 |> relu\n");
        text.ShouldContain("images = \"../train-images.idx\"");
        Shell.Run("check", dl).ShouldSucceed();
        var tensors = SafeTensorsFile.Read(Path.Combine(output, "model.safetensors")).Tensors().ToDictionary(t => t.Name);
        tensors["Tiny.dense1.weight"].Shape.ShouldBe([8, 64]);
        tensors["Tiny.dense2.weight"].Shape.ShouldBe([4, 8]);
        Shell.Run("eval", dl, "--checkpoint", output).ShouldSucceed();
        Shell.Run("train", dl, "--checkpoint", output, "--epochs", "1", "--out", _project["again"]).ShouldSucceed();
        // The original model does not load the smaller weights.
        Shell.Run("eval", _project.DlFile, "--checkpoint", output).ShouldFailWith(ExitCodes.UserError, "DL0904");
    }

    [Theory]
    [InlineData("give --sparsity (magnitude pruning) or --structured --keep (whole channels)")]
    [InlineData("--sparsity must be above 0 and below 1", "--sparsity", "1.5")]
    [InlineData("--sparsity must be a number, not 'most'", "--sparsity", "most")]
    [InlineData("--keep applies to --structured pruning", "--keep", "0.5")]
    [InlineData("--structured needs --keep", "--structured")]
    [InlineData("--sparsity is for magnitude pruning and --structured removes channels", "--structured", "--keep", "0.5", "--sparsity", "0.5")]
    [InlineData("--scope must be global or layer", "--sparsity", "0.5", "--scope", "row")]
    public void Options_that_do_not_make_sense_exit_with_1_and_say_why(string message, params string[] options) =>
        Shell.Run(["prune", _project.DlFile, "--checkpoint", "x.safetensors", .. options]).ShouldFailWith(ExitCodes.UserError, message);

    [Fact]
    public void A_missing_checkpoint_exits_with_1_naming_it() =>
        Shell.Run("prune", _project.DlFile, "--checkpoint", _project["none.safetensors"], "--sparsity", "0.5", "--out", _project["p"])
            .ShouldFailWith(ExitCodes.UserError, "none.safetensors");

    [Fact]
    public void Train_refuses_resume_and_checkpoint_together() =>
        Shell.Run("train", _project.DlFile, "--resume", "a", "--checkpoint", "b").ShouldFailWith(ExitCodes.UserError, "give one of them");
}
