using System.Globalization;
using System.Text.Json;
using Dlc.Cli.Tests.Support;

namespace Dlc.Cli.Tests;

/// <summary>The training recipe of a record: learning-rate schedules and gradient clipping, as a run shows them.</summary>
public class RecipeTests : IDisposable
{
    private readonly TinyProject _project = new();

    private string Dl(string fields) => _project.WriteDl("recipe.dl", TinyProject.Source(extraFields: fields));

    private double[] LearningRates(string folder) => File.ReadAllLines(Path.Combine(folder, "metrics.csv")).Skip(1)
        .Select(l => double.Parse(l.Split(',')[6], CultureInfo.InvariantCulture)).ToArray();

    [Fact]
    public void A_step_schedule_shows_its_rate_per_epoch_in_metrics_json_and_progress()
    {
        var run = Shell.Run("train", Dl("schedule = step { every = 1; gamma = 0.5 }"), "--epochs", "3", "--out", _project["run"], "--json").ShouldSucceed();
        LearningRates(_project["run"]).ShouldBe([0.01, 0.005, 0.0025]);
        using var json = JsonDocument.Parse(run.Out);
        json.RootElement.GetProperty("epochs").EnumerateArray().Select(e => e.GetProperty("lr").GetDouble()).ShouldBe([0.01, 0.005, 0.0025]);
        json.RootElement.GetProperty("settings").GetProperty("schedule").GetString().ShouldBe("step every=1 gamma=0.5 warmup=0");

        var text = Shell.Run("train", Dl("schedule = step { every = 1; gamma = 0.5 }"), "--epochs", "2", "--out", _project["text"]).ShouldSucceed();
        text.Error.ShouldContain("  lr 0.005  ");
    }

    [Fact]
    public void A_cosine_schedule_ends_its_last_epoch_near_its_floor()
    {
        // 8 steps an epoch, 2 epochs, one of warm-up: the last step is 7 of the 8 cosine steps.
        Shell.Run("train", Dl("schedule = cosine { warmup = 1; minLr = 0.001 }"), "--epochs", "2", "--out", _project["run"]).ShouldSucceed();
        var lrs = LearningRates(_project["run"]);
        lrs[0].ShouldBe(0.01);
        lrs[1].ShouldBe((float)(0.001 + 0.009 * (1 + Math.Cos(Math.PI * 7 / 8)) / 2), 1e-9);
    }

    [Fact]
    public void A_scheduled_and_clipped_run_interrupted_and_resumed_ends_as_an_unbroken_run()
    {
        // The schedule spans all epochs of the run, so the run must be cut short rather than run with fewer epochs.
        var dl = Dl("schedule = oneCycle { maxLr = 0.02 }\n    clip = 0.5");
        using var stop = new StopAfterEpoch(1);
        Shell.Run(stop.Cancel.Token, stop, "train", dl, "--epochs", "2", "--out", _project["a"]).ExitCode.ShouldBe(ExitCodes.Interrupted);
        Shell.Run("train", dl, "--resume", _project["a"]).ShouldSucceed();
        Shell.Run("train", dl, "--epochs", "2", "--out", _project["c"]).ShouldSucceed();
        Hash(_project["a"]).ShouldBe(Hash(_project["c"]));
    }

    [Fact]
    public void Clipping_changes_the_run_and_it_still_learns()
    {
        Shell.Run("train", _project.DlFile, "--epochs", "1", "--out", _project["plain"]).ShouldSucceed();
        var run = Shell.Run("train", Dl("clip = 0.05"), "--epochs", "3", "--out", _project["clipped"], "--json").ShouldSucceed();
        Shell.Run("train", Dl("clip = 0.05"), "--epochs", "1", "--out", _project["clipped1"]).ShouldSucceed();
        Hash(_project["clipped1"]).ShouldNotBe(Hash(_project["plain"]));
        using var json = JsonDocument.Parse(run.Out);
        json.RootElement.GetProperty("test_accuracy").GetDouble().ShouldBeGreaterThanOrEqualTo(0.9);
    }

    /// <summary>The checkpoint's parameters as a hash, so a failure prints two short strings.</summary>
    public static string Hash(string folder) =>
        Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(Path.Combine(folder, "model.safetensors"))));

    public void Dispose() => _project.Dispose();
}
