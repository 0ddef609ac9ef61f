using System.Text.Json;
using Dlc.Cli.Tests.Support;

namespace Dlc.Cli.Tests;

/// <summary>`dlc train`: the run folder it leaves, what it prints, and that the model learns.</summary>
public class TrainCommandTests : IDisposable
{
    private readonly TinyProject _project = new();

    [Fact]
    public void Training_fills_the_run_folder_with_checkpoint_metrics_and_summary()
    {
        var folder = _project["runs/first"];
        var run = Shell.Run("train", _project.DlFile, "--epochs", "2", "--out", folder, "--seed", "1").ShouldSucceed();

        _project.Folder.Files("runs/first").ShouldBe(["metrics.csv", "model.safetensors", "model.state.safetensors", "summary.yaml"]);
        var metrics = File.ReadAllLines(Path.Combine(folder, "metrics.csv"));
        metrics[0].ShouldBe("epoch,step,train_loss,train_accuracy,val_loss,val_accuracy,lr,seconds,samples_per_second");
        metrics.Length.ShouldBe(3);
        metrics[1].ShouldStartWith("1,8,");
        metrics[2].ShouldStartWith("2,16,");
        var summary = File.ReadAllText(Path.Combine(folder, "summary.yaml"));
        summary.ShouldContain("model: Tiny");
        summary.ShouldContain("seed: 1");
        summary.ShouldContain("test_accuracy: ");

        run.Out.ShouldStartWith("test (test-images.idx, 64 samples): loss ");
        run.Out.ShouldContain($"run: {folder}\n");
        run.Out.ShouldContain($"checkpoint: {Path.Combine(folder, "model.safetensors")}\n");
        run.Error.ShouldContain("training Tiny: 1,108 parameters, 256 samples, 8 batches per epoch");
        run.Error.ShouldContain("epoch 1/2  loss ");
        run.Error.ShouldContain("epoch 2/2  loss ");
        run.Error.ShouldNotContain("\r", Case.Sensitive, "no progress bar when stderr is not a terminal");
    }

    [Fact]
    public void Json_prints_one_summary_document_and_no_progress()
    {
        var run = Shell.Run("train", _project.DlFile, "--epochs", "2", "--out", _project["run"], "--json").ShouldSucceed();
        run.Error.ShouldBeEmpty();
        using var json = JsonDocument.Parse(run.Out);
        var root = json.RootElement;
        root.GetProperty("model").GetString().ShouldBe("Tiny");
        root.GetProperty("epochs").GetArrayLength().ShouldBe(2);
        root.GetProperty("settings").GetProperty("epochs").GetString().ShouldBe("2");
        root.GetProperty("test_accuracy").GetDouble().ShouldBeInRange(0, 1);
        root.GetProperty("checkpoint").GetString().ShouldBe(Path.Combine(_project["run"], "model.safetensors"));
    }

    [Fact]
    public void The_model_learns_separable_data_almost_perfectly()
    {
        var run = Shell.Run("train", _project.DlFile, "--epochs", "3", "--out", _project["run"], "--json").ShouldSucceed();
        using var json = JsonDocument.Parse(run.Out);
        var epochs = json.RootElement.GetProperty("epochs").EnumerateArray().Select(e => e.GetProperty("train_loss").GetDouble()).ToList();
        epochs[^1].ShouldBeLessThan(epochs[0] / 2, "the training loss falls");
        json.RootElement.GetProperty("test_accuracy").GetDouble().ShouldBeGreaterThanOrEqualTo(0.95);
        json.RootElement.GetProperty("test_loss").GetDouble().ShouldBeLessThan(Math.Log(4) / 2, "well below chance (ln 4)");
    }

    [Fact]
    public void The_model_learns_real_fashion_mnist_from_a_few_hundred_gzip_samples()
    {
        SliceFashionMnist();
        var dl = _project.WriteDl("fashion.dl", """
            model Mlp (image: Tensor[N, 784]) : Tensor[N, 10] =
                image |> dense 32 |> relu |> dense 10

            train Mlp {
                data = idx { images = "fm-train-images.gz"; labels = "fm-train-labels.gz"; testImages = "fm-test-images.gz"; testLabels = "fm-test-labels.gz" }
                loss = crossEntropy
                optimizer = adam { lr = 3e-3 }
                epochs = 4
                batch = 50
                seed = 1
            }
            """);
        var run = Shell.Run("train", dl, "--out", _project["run"], "--json").ShouldSucceed();
        using var json = JsonDocument.Parse(run.Out);
        json.RootElement.GetProperty("test_accuracy").GetDouble().ShouldBeGreaterThan(0.6, "ten classes: chance is 0.1");
    }

    [Fact]
    public void A_batch_norm_cnn_with_augmentation_learns_real_fashion_mnist_and_saves_its_running_statistics()
    {
        SliceFashionMnist();
        var dl = _project.WriteDl("cnn.dl", """
            model Cnn (image: Tensor[N, 1, 28, 28]) : Tensor[N, 10] =
                image
                |> conv2d 8 (kernel = 3, padding = 1, bias = false) |> batchNorm |> relu |> maxPool 2
                |> conv2d 16 (kernel = 3, padding = 1, bias = false) |> batchNorm |> relu |> avgPool 2
                |> flatten |> dense 10

            train Cnn {
                data = idx { images = "fm-train-images.gz"; labels = "fm-train-labels.gz"; testImages = "fm-test-images.gz"; testLabels = "fm-test-labels.gz" }
                optimizer = adamw { lr = 3e-3; weightDecay = 1e-4 }
                schedule = cosine { warmup = 1 }
                crop = { padding = 2 }
                flip = true
                metrics = [ accuracy; topK 3 ]
                epochs = 4
                batch = 50
                seed = 1
            }
            """);
        var run = Shell.Run("train", dl, "--out", _project["run"], "--json").ShouldSucceed();
        using var json = JsonDocument.Parse(run.Out);
        var accuracy = json.RootElement.GetProperty("test_accuracy").GetDouble();
        accuracy.ShouldBeGreaterThan(0.6, "ten classes: chance is 0.1");
        json.RootElement.GetProperty("top_k").GetInt32().ShouldBe(3);
        json.RootElement.GetProperty("test_top_k_accuracy").GetDouble().ShouldBeGreaterThan(accuracy, "the top guess is one of the top three");
        var saved = Dlc.Runtime.Checkpoints.SafeTensors.Read(Path.Combine(_project["run"], "model.safetensors"));
        saved.Get("Cnn.batchNorm1.num_batches_tracked").ShouldBe([4 * 12f], "four epochs of twelve batches");
        saved.Get("Cnn.batchNorm1.running_var").ShouldAllBe(v => v != 1f);
    }

    [Fact]
    public void The_same_seed_gives_byte_identical_weights_and_another_seed_does_not()
    {
        byte[] Train(string name, string seed)
        {
            Shell.Run("train", _project.DlFile, "--epochs", "2", "--seed", seed, "--out", _project[name]).ShouldSucceed();
            return File.ReadAllBytes(Path.Combine(_project[name], "model.safetensors"));
        }

        var first = Train("a", "1");
        var again = Train("b", "1");
        var other = Train("c", "2");
        again.ShouldBe(first);
        other.Length.ShouldBe(first.Length);
        other.ShouldNotBe(first);
    }

    [Fact]
    public void A_new_out_folder_is_created_with_its_parents()
    {
        var folder = _project["deep/er/run"];
        Shell.Run("train", _project.DlFile, "--epochs", "1", "--out", folder).ShouldSucceed();
        File.Exists(Path.Combine(folder, "model.safetensors")).ShouldBeTrue();
    }

    [Fact]
    public void Options_override_the_train_record_and_are_recorded_in_the_summary()
    {
        var run = Shell.Run("train", _project.DlFile, "--epochs", "1", "--batch", "64", "--lr", "0.005", "--seed", "9",
            "--out", _project["run"], "--json").ShouldSucceed();
        using var json = JsonDocument.Parse(run.Out);
        var settings = json.RootElement.GetProperty("settings");
        settings.GetProperty("batch").GetString().ShouldBe("64");
        settings.GetProperty("seed").GetString().ShouldBe("9");
        settings.GetProperty("optimizer").GetString()!.ShouldStartWith("adam lr=0.005");
        File.ReadAllLines(Path.Combine(_project["run"], "metrics.csv"))[1].ShouldStartWith("1,4,", Case.Sensitive, "256 samples in batches of 64");
    }

    /// <summary>The first 600 training and 300 test samples of the installed Fashion-MNIST, as fm-*.gz IDX files.</summary>
    private void SliceFashionMnist()
    {
        const string source = "/usr/share/datasets/fashion-mnist";
        TinyProject.TakeGzipIdx(Path.Combine(source, "train-images-idx3-ubyte.gz"), _project["fm-train-images.gz"], 600);
        TinyProject.TakeGzipIdx(Path.Combine(source, "train-labels-idx1-ubyte.gz"), _project["fm-train-labels.gz"], 600);
        TinyProject.TakeGzipIdx(Path.Combine(source, "t10k-images-idx3-ubyte.gz"), _project["fm-test-images.gz"], 300);
        TinyProject.TakeGzipIdx(Path.Combine(source, "t10k-labels-idx1-ubyte.gz"), _project["fm-test-labels.gz"], 300);
    }

    public void Dispose() => _project.Dispose();
}
