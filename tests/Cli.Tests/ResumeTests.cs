using Dlc.Cli.Tests.Support;

namespace Dlc.Cli.Tests;

/// <summary>`dlc train --resume`: a run stopped after some epochs and resumed ends exactly where an unbroken run ends.</summary>
public class ResumeTests : IDisposable
{
    private readonly TinyProject _project = new();

    private byte[] Model(string folder) => File.ReadAllBytes(Path.Combine(_project[folder], "model.safetensors"));

    private string[] MetricsEpochs(string folder) =>
        File.ReadAllLines(Path.Combine(_project[folder], "metrics.csv")).Skip(1).Select(l => l.Split(',')[0]).ToArray();

    [Fact]
    public void One_epoch_then_a_resumed_second_gives_the_same_weights_as_two_epochs_at_once()
    {
        Shell.Run("train", _project.DlFile, "--epochs", "1", "--out", _project["a"]).ShouldSucceed();
        var resumed = Shell.Run("train", _project.DlFile, "--epochs", "2", "--resume", _project["a/model.safetensors"], "--out", _project["b"]).ShouldSucceed();
        Shell.Run("train", _project.DlFile, "--epochs", "2", "--out", _project["c"]).ShouldSucceed();

        resumed.Error.ShouldContain("resuming at epoch 2");
        Model("b").ShouldBe(Model("c"));
        File.ReadAllBytes(Path.Combine(_project["b"], "model.state.safetensors"))
            .ShouldBe(File.ReadAllBytes(Path.Combine(_project["c"], "model.state.safetensors")), "the optimizer state too");
        MetricsEpochs("b").ShouldBe(["2"]);
    }

    [Fact]
    public void A_resumed_run_keeps_the_seed_it_was_started_with()
    {
        // The seed decides the shuffle order of every epoch, so an exact resume needs the original one.
        Shell.Run("train", _project.DlFile, "--epochs", "1", "--seed", "5", "--out", _project["a"]).ShouldSucceed();
        Shell.Run("train", _project.DlFile, "--epochs", "2", "--resume", _project["a"], "--out", _project["b"]).ShouldSucceed();
        Shell.Run("train", _project.DlFile, "--epochs", "2", "--seed", "5", "--out", _project["c"]).ShouldSucceed();
        Model("b").ShouldBe(Model("c"));
    }

    [Fact]
    public void Without_out_a_resumed_run_continues_in_its_own_folder()
    {
        Shell.Run("train", _project.DlFile, "--epochs", "1", "--out", _project["a"]).ShouldSucceed();
        var run = Shell.Run("train", _project.DlFile, "--epochs", "2", "--resume", _project["a/model.safetensors"]).ShouldSucceed();
        Shell.Run("train", _project.DlFile, "--epochs", "2", "--out", _project["c"]).ShouldSucceed();

        run.Out.ShouldContain($"run: {_project["a"]}\n");
        Model("a").ShouldBe(Model("c"));
        MetricsEpochs("a").ShouldBe(["1", "2"]);
        File.ReadAllText(Path.Combine(_project["a"], "summary.yaml")).ShouldContain("epochs: 2");
        Directory.Exists(_project["runs"]).ShouldBeFalse();
    }

    [Fact]
    public void A_run_resumed_twice_from_its_folder_matches_an_unbroken_run()
    {
        Shell.Run("train", _project.DlFile, "--epochs", "1", "--out", _project["a"]).ShouldSucceed();
        Shell.Run("train", _project.DlFile, "--resume", _project["a"], "--epochs", "2").ShouldSucceed();
        Shell.Run("train", _project.DlFile, "--resume", _project["a"], "--epochs", "3").ShouldSucceed();
        Shell.Run("train", _project.DlFile, "--epochs", "3", "--out", _project["c"]).ShouldSucceed();
        Model("a").ShouldBe(Model("c"));
        MetricsEpochs("a").ShouldBe(["1", "2", "3"]);
    }

    [Fact]
    public void Resuming_a_finished_run_asks_for_more_epochs()
    {
        Shell.Run("train", _project.DlFile, "--epochs", "2", "--out", _project["a"]).ShouldSucceed();
        var before = Model("a");
        Shell.Run("train", _project.DlFile, "--resume", _project["a"]).ShouldFailWith(ExitCodes.UserError,
            $"error: --epochs 2: {_project["a"]} has already trained 2 epochs; give --epochs 3 or more to train further");
        Model("a").ShouldBe(before);
        MetricsEpochs("a").ShouldBe(["1", "2"]);
    }

    [Fact]
    public void A_resume_folder_that_does_not_exist_is_named()
    {
        Shell.Run("train", _project.DlFile, "--resume", _project["gone"]).ShouldFailWith(ExitCodes.UserError,
            $"error DL0901: the checkpoint {_project["gone"]} does not exist");
    }

    public void Dispose() => _project.Dispose();
}
