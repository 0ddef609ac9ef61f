using System.Globalization;
using System.Text.Json;
using Dlc.Cli.Tests.Support;

namespace Dlc.Cli.Tests;

/// <summary>The training recipe of a record (schedules, clipping, early stopping, the best checkpoint) as a run shows them.</summary>
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

    [Fact]
    public void Early_stopping_ends_the_run_when_the_validation_loss_makes_no_progress_and_keeps_the_best_epoch()
    {
        // No epoch can improve by 10, so the first epoch without it (the second) ends a run of five.
        var dl = Dl("validation = 0.25\n    earlyStopping = { patience = 1; minDelta = 10 }");
        var run = Shell.Run("train", dl, "--epochs", "5", "--out", _project["run"], "--json").ShouldSucceed();
        File.ReadAllLines(Path.Combine(_project["run"], "metrics.csv")).Length.ShouldBe(3, "a header and two epochs");
        _project.Folder.Files("run").ShouldContain("best.safetensors");
        using var json = JsonDocument.Parse(run.Out);
        var root = json.RootElement;
        root.GetProperty("stopped_early_after").GetInt32().ShouldBe(2);
        var bestEpoch = root.GetProperty("best_epoch").GetInt32();
        bestEpoch.ShouldBeInRange(1, 2);
        root.GetProperty("best_checkpoint").GetString().ShouldBe(Path.Combine(_project["run"], "best.safetensors"));
        var losses = root.GetProperty("epochs").EnumerateArray().Select(e => e.GetProperty("val_loss").GetDouble()).ToArray();
        root.GetProperty("best_val_loss").GetDouble().ShouldBe(losses.Min());

        var text = Shell.Run("train", dl, "--epochs", "5", "--out", _project["text"]).ShouldSucceed();
        text.Out.ShouldContain($"stopped early after epoch 2: the validation loss has not improved since epoch {bestEpoch}\n");
        text.Out.ShouldContain($"best: {Path.Combine(_project["text"], "best.safetensors")} (epoch {bestEpoch}, val_loss ");
        text.Error.ShouldContain("(best)");
        Shell.Run("eval", dl, "--checkpoint", Path.Combine(_project["text"], "best.safetensors")).ShouldSucceed();
    }

    [Fact]
    public void A_run_that_stopped_early_stays_stopped_when_resumed()
    {
        var dl = Dl("validation = 0.25\n    earlyStopping = { patience = 1; minDelta = 10 }");
        Shell.Run("train", dl, "--epochs", "5", "--out", _project["run"]).ShouldSucceed();
        var before = Hash(_project["run"]);
        var resumed = Shell.Run("train", dl, "--resume", _project["run"]).ShouldSucceed();
        resumed.Out.ShouldContain("stopped early after epoch 2");
        Hash(_project["run"]).ShouldBe(before);
        File.ReadAllLines(Path.Combine(_project["run"], "metrics.csv")).Length.ShouldBe(3);
    }

    [Fact]
    public void A_run_with_a_validation_set_keeps_its_best_epoch_across_a_resume()
    {
        var dl = Dl("validation = 0.25\n    earlyStopping = { patience = 2 }");
        using var stop = new StopAfterEpoch(1);
        Shell.Run(stop.Cancel.Token, stop, "train", dl, "--epochs", "3", "--out", _project["a"]).ExitCode.ShouldBe(ExitCodes.Interrupted);
        Shell.Run("train", dl, "--resume", _project["a"]).ShouldSucceed();
        Shell.Run("train", dl, "--epochs", "3", "--out", _project["c"]).ShouldSucceed();
        Hash(_project["a"]).ShouldBe(Hash(_project["c"]));
        Hash(_project["a"], "best.safetensors").ShouldBe(Hash(_project["c"], "best.safetensors"));
        Hash(_project["a"], "model.state.safetensors").ShouldBe(Hash(_project["c"], "model.state.safetensors"));
    }

    /// <summary>The tiny project's data seen as 8×8 images, with augmentation and normalisation.</summary>
    private string ImageDl(string fields, string dataFields = "", string name = "images.dl") => _project.WriteDl(name, TinyProject.Source(dataFields, extraFields: fields)
        .Replace(TinyProject.Model, "model Tiny (image: Tensor[N, 1, 8, 8]) : Tensor[N, 4] =\n    image |> flatten |> dense 16 |> relu |> dense 4"));

    [Fact]
    public void Crops_and_flips_change_training_only_and_a_seed_repeats_them()
    {
        var plain = ImageDl("", name: "plain.dl");
        var augmented = ImageDl("crop = { padding = 2 }\n    flip = true");
        Shell.Run("train", plain, "--epochs", "1", "--out", _project["plain"]).ShouldSucceed();
        var run = Shell.Run("train", augmented, "--epochs", "1", "--out", _project["a"], "--json").ShouldSucceed();
        Shell.Run("train", augmented, "--epochs", "1", "--out", _project["b"]).ShouldSucceed();
        Hash(_project["a"]).ShouldBe(Hash(_project["b"]));
        Hash(_project["a"]).ShouldNotBe(Hash(_project["plain"]));
        using var json = JsonDocument.Parse(run.Out);
        json.RootElement.GetProperty("settings").GetProperty("augment").GetString().ShouldBe("crop padding=2, flip");

        // Evaluating the trained model gives the test loss the run reported: evaluation sees the images unchanged.
        var eval = Shell.Run("eval", augmented, "--checkpoint", _project["a"], "--json").ShouldSucceed();
        using var evalJson = JsonDocument.Parse(eval.Out);
        evalJson.RootElement.GetProperty("loss").GetDouble().ShouldBe(json.RootElement.GetProperty("test_loss").GetDouble(), 1e-6);
    }

    [Fact]
    public void An_augmented_normalised_run_interrupted_and_resumed_ends_as_an_unbroken_run()
    {
        var dl = ImageDl("crop = { padding = 2 }\n    flip = true", "; normalize = { mean = [0.3]; std = [0.4] }");
        using var stop = new StopAfterEpoch(1);
        Shell.Run(stop.Cancel.Token, stop, "train", dl, "--epochs", "3", "--out", _project["a"]).ExitCode.ShouldBe(ExitCodes.Interrupted);
        Shell.Run("train", dl, "--resume", _project["a"]).ShouldSucceed();
        Shell.Run("train", dl, "--epochs", "3", "--out", _project["c"]).ShouldSucceed();
        Hash(_project["a"]).ShouldBe(Hash(_project["c"]));
    }

    [Fact]
    public void Normalisation_with_a_mean_per_channel_must_match_the_channels()
    {
        var dl = ImageDl("", "; normalize = { mean = [0.3; 0.3; 0.3]; std = [0.4; 0.4; 0.4] }");
        Shell.Run("train", dl, "--out", _project["run"]).ShouldFailWith(ExitCodes.UserError,
            "error DL0405: `normalize` gives 3 means and deviations, but the samples of `train-images.idx` have 1 channel ([1, 8, 8])", $"--> {dl}:");
    }

    /// <summary>The checkpoint's parameters as a hash, so a failure prints two short strings.</summary>
    public static string Hash(string folder, string file = "model.safetensors") =>
        Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(Path.Combine(folder, file))));

    public void Dispose() => _project.Dispose();
}
