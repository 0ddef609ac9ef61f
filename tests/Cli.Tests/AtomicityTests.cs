using Dlc.Cli.Tests.Support;

namespace Dlc.Cli.Tests;

/// <summary>A run that fails or is interrupted leaves the folder's last good checkpoint whole, and no temporary files.</summary>
public class AtomicityTests : IDisposable
{
    private readonly TinyProject _project = new();

    private string Run => _project["run"];

    private byte[] Model() => File.ReadAllBytes(Path.Combine(Run, "model.safetensors"));

    private void ShouldHaveNoTemporaryFiles() =>
        _project.Folder.Files("run").ShouldBe(["metrics.csv", "model.safetensors", "model.state.safetensors", "summary.yaml"]);

    [Fact]
    public void A_diverging_run_exits_1_with_a_clear_message_and_keeps_the_previous_checkpoint()
    {
        Shell.Run("train", _project.DlFile, "--epochs", "2", "--out", Run).ShouldSucceed();
        var before = Model();
        var state = File.ReadAllBytes(Path.Combine(Run, "model.state.safetensors"));

        var run = Shell.Run("train", _project.DlFile, "--epochs", "2", "--lr", "1e30", "--out", Run).ShouldFailWith(ExitCodes.UserError,
            "error DL0402: the loss became NaN at epoch 1, batch ",
            "training stopped (the last checkpoint is kept)",
            $"--> {_project.DlFile}:6:1",
            "= help: lower the learning rate (`--lr`) or check the data for extreme values");
        run.Out.ShouldBeEmpty();

        Model().ShouldBe(before);
        File.ReadAllBytes(Path.Combine(Run, "model.state.safetensors")).ShouldBe(state);
        ShouldHaveNoTemporaryFiles();
        Shell.Run("eval", _project.DlFile, "--checkpoint", Run).ShouldSucceed();
    }

    [Fact]
    public void A_diverging_run_with_json_reports_the_diagnostic_as_json()
    {
        var run = Shell.Run("train", _project.DlFile, "--lr", "1e30", "--out", Run, "--json");
        run.ExitCode.ShouldBe(ExitCodes.UserError);
        run.Out.ShouldContain("\"code\": \"DL0402\"");
        run.Error.ShouldNotContain("   at ");
    }

    [Fact]
    public void An_interrupted_run_exits_130_keeping_the_checkpoint_of_the_last_whole_epoch()
    {
        Shell.Run("train", _project.DlFile, "--epochs", "1", "--out", _project["one"]).ShouldSucceed();

        // Interrupt as Ctrl+C would, as soon as epoch 1 of 3 has been reported (so after its checkpoint).
        using var cancel = new CancellationTokenSource();
        var stderr = new ActionWriter(line => { if (line.StartsWith("epoch 1/", StringComparison.Ordinal)) cancel.Cancel(); });
        var run = Shell.Run(cancel.Token, stderr, "train", _project.DlFile, "--epochs", "3", "--out", Run)
            .ShouldFailWith(ExitCodes.Interrupted, "stopped: interrupted (the last completed checkpoint is kept)");
        run.Error.ShouldNotContain("epoch 2/");

        Model().ShouldBe(File.ReadAllBytes(Path.Combine(_project["one"], "model.safetensors")));
        _project.Folder.Files("run").ShouldBe(["metrics.csv", "model.safetensors", "model.state.safetensors"]);

        // Resuming with no options finishes the run as planned (three epochs), exactly as an unbroken run.
        Shell.Run("train", _project.DlFile, "--resume", Run).ShouldSucceed();
        Shell.Run("train", _project.DlFile, "--epochs", "3", "--out", _project["whole"]).ShouldSucceed();
        Model().ShouldBe(File.ReadAllBytes(Path.Combine(_project["whole"], "model.safetensors")));
        ShouldHaveNoTemporaryFiles();
    }

    public void Dispose() => _project.Dispose();

    /// <summary>Collects what is written and calls back with each finished line.</summary>
    private sealed class ActionWriter(Action<string> onLine) : StringWriter
    {
        private readonly System.Text.StringBuilder _line = new();

        public override void Write(char value)
        {
            base.Write(value);
            if (value != '\n') _line.Append(value);
            else
            {
                onLine(_line.ToString());
                _line.Clear();
            }
        }

        public override void Write(string? value)
        {
            foreach (var c in value ?? "") Write(c);
        }

        public override void WriteLine(string? value)
        {
            Write(value);
            Write('\n');
        }
    }
}
