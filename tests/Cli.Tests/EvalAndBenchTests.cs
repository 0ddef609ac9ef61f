using System.Globalization;
using System.Text.Json;
using Dlc.Cli.Tests.Support;

namespace Dlc.Cli.Tests;

/// <summary>`dlc eval` on a trained run, and `dlc bench`.</summary>
public class EvalAndBenchTests : IDisposable
{
    private readonly TinyProject _project = new();

    private string Run => _project["run"];

    private JsonDocument Train(string dl, params string[] options)
    {
        var run = Shell.Run(["train", dl, "--out", Run, "--json", .. options]).ShouldSucceed();
        return JsonDocument.Parse(run.Out);
    }

    [Fact]
    public void Eval_prints_the_loss_and_accuracy_training_reported_for_the_test_set()
    {
        using var summary = Train(_project.DlFile);
        var run = Shell.Run("eval", _project.DlFile, "--checkpoint", Path.Combine(Run, "model.safetensors")).ShouldSucceed();
        var loss = summary.RootElement.GetProperty("test_loss").GetDouble();
        var accuracy = summary.RootElement.GetProperty("test_accuracy").GetDouble();
        var lines = run.Out.Split('\n');
        lines[0].ShouldBe($"Tiny on test (64 samples): loss {loss.ToString("0.0000", CultureInfo.InvariantCulture)}  " +
                          $"accuracy {(100 * accuracy).ToString("0.00", CultureInfo.InvariantCulture)}%");
        // Then each class's precision, recall and F1 (16 test samples each), and their macro mean.
        lines[1].ShouldBe("  class  precision  recall      F1    support");
        lines[2..6].ShouldAllBe(l => l.EndsWith("        16"));
        lines[6].ShouldStartWith("  macro: precision ");
        lines[6].ShouldEndWith(" (4 classes)");
    }

    [Fact]
    public void Eval_json_gives_the_exact_figures_for_a_run_folder()
    {
        using var summary = Train(_project.DlFile);
        var run = Shell.Run("eval", _project.DlFile, "--checkpoint", Run, "--json").ShouldSucceed();
        using var json = JsonDocument.Parse(run.Out);
        var root = json.RootElement;
        root.GetProperty("model").GetString().ShouldBe("Tiny");
        root.GetProperty("split").GetString().ShouldBe("test");
        root.GetProperty("samples").GetInt32().ShouldBe(TinyProject.TestCount);
        root.GetProperty("loss").GetDouble().ShouldBe(summary.RootElement.GetProperty("test_loss").GetDouble(), 1e-6);
        root.GetProperty("accuracy").GetDouble().ShouldBe(summary.RootElement.GetProperty("test_accuracy").GetDouble());
    }

    [Fact]
    public void Eval_on_the_train_split_counts_every_training_sample()
    {
        Train(_project.DlFile).Dispose();
        var run = Shell.Run("eval", _project.DlFile, "--checkpoint", Run, "--split", "train").ShouldSucceed();
        run.Out.ShouldStartWith("Tiny on train (256 samples): loss ");
    }

    [Fact]
    public void Eval_of_the_validation_split_uses_the_split_the_run_held_out()
    {
        // The split depends on the seed; a run trained with --seed 7 held out a different quarter than seed 42 would.
        var dl = _project.WriteDl("val.dl", TinyProject.Source("; validation = 0.25"));
        using var summary = Train(dl, "--epochs", "1", "--seed", "7");
        var run = Shell.Run("eval", dl, "--checkpoint", Run, "--split", "validation", "--json").ShouldSucceed();
        using var json = JsonDocument.Parse(run.Out);
        json.RootElement.GetProperty("samples").GetInt32().ShouldBe(64);
        var trained = summary.RootElement.GetProperty("epochs")[0];
        json.RootElement.GetProperty("loss").GetDouble().ShouldBe(trained.GetProperty("val_loss").GetDouble(), 1e-6);
        json.RootElement.GetProperty("accuracy").GetDouble().ShouldBe(trained.GetProperty("val_accuracy").GetDouble(), 1e-6);
    }

    [Fact]
    public void Eval_of_an_untrained_style_checkpoint_without_state_still_works()
    {
        Train(_project.DlFile).Dispose();
        var alone = _project["alone.safetensors"];
        File.Copy(Path.Combine(Run, "model.safetensors"), alone);
        Shell.Run("eval", _project.DlFile, "--checkpoint", alone).ShouldSucceed().Out.ShouldStartWith("Tiny on test (64 samples)");
    }

    [Fact]
    public void Bench_prints_training_and_inference_speed_latency_and_first_step()
    {
        var run = Shell.Run("bench", _project.DlFile, "--epochs", "1").ShouldSucceed();
        var lines = run.Out.Split('\n');
        // The default provider is "auto": each plan is timed with every provider and runs on the fastest.
        lines[0].ShouldMatch(@"^model Tiny: batch 32, 1 threads, gemm auto: (mkl|managed) for training, (mkl|managed) for inference, (mkl|managed) at batch 1$");
        run.Out.ShouldMatch(@"\n  training +[\d,]+ samples/s \(median of 1 epochs\)\n");
        run.Out.ShouldMatch(@"\n +[\d,]+ samples/s at the median step \(batch \d+\)\n");
        run.Out.ShouldMatch(@"\n  inference +[\d,]+ samples/s at batch 64\n +[\d,]+ samples/s at batch 32\n");
        run.Out.ShouldMatch(@"\n  latency +[\d.]+ µs at batch 1 \(median\)\n");
        run.Out.ShouldMatch(@"\n  first step +[\d.]+ s after process start\n");
        run.Error.ShouldContain("warm-up epoch: ");
    }

    [Fact]
    public void Bench_json_has_positive_rates_in_snake_case()
    {
        var run = Shell.Run("bench", _project.DlFile, "--epochs", "1", "--json", "--gemm", "managed").ShouldSucceed();
        run.Error.ShouldBeEmpty();
        using var json = JsonDocument.Parse(run.Out);
        var root = json.RootElement;
        root.GetProperty("gemm").GetString().ShouldBe("managed");
        root.GetProperty("train_samples_per_second").GetDouble().ShouldBeGreaterThan(0);
        root.GetProperty("train_median_step_samples_per_second").GetDouble().ShouldBeGreaterThan(0);
        root.GetProperty("inference_samples_per_second").GetDouble().ShouldBeGreaterThan(0);
        root.GetProperty("small_batch_samples_per_second").GetDouble().ShouldBeGreaterThan(0);
        root.GetProperty("small_batch").GetInt32().ShouldBe(32);
        root.GetProperty("latency_microseconds").GetDouble().ShouldBeGreaterThan(0);
        root.GetProperty("epoch_samples_per_second").GetArrayLength().ShouldBe(1);
    }

    [Fact]
    public void Bench_runs_a_post_norm_attention_layer_on_gaussian_noise_and_training_lowers_its_mean_square()
    {
        var dl = _project.WriteDl("noise.dl", """
            model Layer (x: Tensor[N, 5, 8]) : Tensor[N, 5, 8] =
                let h = (x + (x |> multiHeadAttention 2)) |> layerNorm
                (h + (h |> dense 16 |> relu |> dense 8)) |> layerNorm

            train Layer {
                data      = gaussianNoise { samples = 96; validation = 0.25 }
                loss      = mse
                optimizer = adam { lr = 1e-2 }
                epochs    = 3
                batch     = 8
                seed      = 2
            }
            """);
        var bench = Shell.Run("bench", dl, "--epochs", "1", "--json", "--gemm", "managed").ShouldSucceed();
        using (var json = JsonDocument.Parse(bench.Out)) json.RootElement.GetProperty("train_samples_per_second").GetDouble().ShouldBeGreaterThan(0);
        using var summary = Train(dl);
        var epochs = summary.RootElement.GetProperty("epochs");
        // Layer norm's output starts with mean square 1; its weight and bias learn to shrink it towards the zero target.
        epochs[0].GetProperty("val_loss").GetDouble().ShouldBeGreaterThan(epochs[2].GetProperty("val_loss").GetDouble());

        var wrong = _project.WriteDl("wrong.dl", """
            model Cls (x: Tensor[N, 4]) : Tensor[N, 3] =
                x |> dense 3

            train Cls { data = gaussianNoise {}; loss = crossEntropy; optimizer = adam { lr = 1e-2 } }
            """);
        Shell.Run("train", wrong, "--out", Run).ShouldFailWith(1, "`gaussianNoise` makes inputs of a fixed shape and zero targets for `loss = mse`", "wrong.dl:4:20");
    }

    public void Dispose() => _project.Dispose();
}
