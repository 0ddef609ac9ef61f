using System.Text.Json;
using Dlc.Cli.Tests.Support;

namespace Dlc.Cli.Tests;

/// <summary>
/// Two small models trained once: the perceptron of <see cref="TinyProject"/> and a CNN with batch norm on the same
/// 8×8 images (batch norm's input gradient in evaluation mode is on the attribution path).
/// </summary>
public sealed class TrainedTinyModels : IDisposable
{
    public const string CnnModel = """
        model TinyCnn (image: Tensor[N, 1, 8, 8]) : Tensor[N, 4] =
            image
            |> conv2d 4 (kernel = 3, padding = 1) |> batchNorm |> relu |> maxPool 2
            |> flatten
            |> dense 4
        """;

    public TrainedTinyModels()
    {
        Shell.Run("train", Project.DlFile, "--out", Project["mlp"]).ShouldSucceed();
        CnnFile = Project.WriteDl("cnn.dl", TinyProject.Source().Replace(TinyProject.Model, CnnModel).Replace("train Tiny", "train TinyCnn"));
        Shell.Run("train", CnnFile, "--out", Project["cnn"]).ShouldSucceed();
    }

    public TinyProject Project { get; } = new();
    public string CnnFile { get; }
    public string MlpCheckpoint => Path.Combine(Project["mlp"], "model.safetensors");
    public string CnnCheckpoint => Path.Combine(Project["cnn"], "model.safetensors");

    public void Dispose() => Project.Dispose();
}

/// <summary>`dlc explain`: files, the JSON summary, and the mistakes a user can make on its command line.</summary>
public class ExplainCommandTests(TrainedTinyModels models) : IClassFixture<TrainedTinyModels>
{
    private string Out(string name) => models.Project[name];

    [Fact]
    public void Integrated_gradients_report_targets_scores_and_a_completeness_delta_within_0_005()
    {
        var run = Shell.Run("explain", models.Project.DlFile, "--checkpoint", models.MlpCheckpoint, "--method", "integrated-gradients,saliency",
            "--inputs", "test[0:4]", "--out", Out("ig"), "--json").ShouldSucceed();
        using var json = JsonDocument.Parse(run.Out);
        var methods = json.RootElement.GetProperty("methods");
        methods.GetArrayLength().ShouldBe(2);
        var ig = methods[0];
        ig.GetProperty("method").GetString().ShouldBe("integrated-gradients");
        var inputs = ig.GetProperty("inputs").EnumerateArray().ToList();
        inputs.Select(i => i.GetProperty("index").GetInt32()).ShouldBe([0, 1, 2, 3]);
        // The test images cycle through the four classes, and the trained model gets them right.
        inputs.Select(i => i.GetProperty("target").GetInt32()).ShouldBe([0, 1, 2, 3]);
        inputs.ShouldAllBe(i => i.GetProperty("delta").GetDouble() <= 0.005);
        ig.GetProperty("deletion").GetDouble().ShouldBeLessThan(ig.GetProperty("insertion").GetDouble());
        foreach (var file in new[] { "integrated-gradients.csv", "integrated-gradients.json", "integrated-gradients.png", "saliency.csv", "summary.json" })
            File.Exists(Path.Combine(Out("ig"), file)).ShouldBeTrue(file);
        File.ReadLines(Path.Combine(Out("ig"), "integrated-gradients.csv")).Count().ShouldBe(1 + 4 * 64);
    }

    [Fact]
    public void Grad_cam_occlusion_and_the_randomisation_test_on_a_cnn_write_heatmaps_and_a_verdict()
    {
        var run = Shell.Run("explain", models.CnnFile, "--checkpoint", models.CnnCheckpoint, "--method", "grad-cam,occlusion,integrated-gradients",
            "--inputs", "test[4:8]", "--sanity", "--out", Out("cam"), "--json").ShouldSucceed();
        using var json = JsonDocument.Parse(run.Out);
        var cam = json.RootElement.GetProperty("methods")[0];
        cam.GetProperty("layer").GetString().ShouldBe("TinyCnn.conv2d");
        var sanity = cam.GetProperty("sanity");
        sanity.GetProperty("layers").EnumerateArray().Select(l => l.GetProperty("layer").GetString()).ShouldBe(["TinyCnn.dense", "TinyCnn.batchNorm", "TinyCnn.conv2d"]);
        json.RootElement.GetProperty("methods")[2].GetProperty("inputs").EnumerateArray().ShouldAllBe(i => i.GetProperty("delta").GetDouble() <= 0.005);
        sanity.GetProperty("passed").GetBoolean().ShouldBe(sanity.GetProperty("final").GetDouble() < 0.5);
        foreach (var file in new[] { "grad-cam-4.png", "grad-cam-7.png", "grad-cam-grid.png", "occlusion-grid.png" })
            File.Exists(Path.Combine(Out("cam"), file)).ShouldBeTrue(file);
    }

    [Fact]
    public void Permutation_importance_prints_each_feature_with_its_spread()
    {
        var run = Shell.Run("explain", models.Project.DlFile, "--checkpoint", models.MlpCheckpoint, "--method", "permutation",
            "--repeats", "2", "--out", Out("perm")).ShouldSucceed();
        run.Out.ShouldContain("accuracy ");
        run.Out.ShouldContain("drop when a feature is shuffled (mean ± std):");
        File.ReadLines(Path.Combine(Out("perm"), "permutation.csv")).First().ShouldBe("feature,mean,std,repeat1,repeat2");
    }

    [Fact]
    public void A_misspelt_method_is_DL0407_with_the_nearest_method()
    {
        Shell.Run("explain", models.Project.DlFile, "--checkpoint", models.MlpCheckpoint, "--method", "salency", "--out", Out("x"))
            .ShouldFailWith(ExitCodes.UserError, "error DL0407: --method salency: there is no such method", "did you mean `saliency`?");
        Directory.Exists(Out("x")).ShouldBeFalse();
    }

    [Theory]
    [InlineData("test[60:80]", "--inputs test[60:80]: the test split has 64 samples (0 to 63), so [60:80] selects samples it does not have")]
    [InlineData("test[5:5]", "so [5:5] selects nothing")]
    [InlineData("tset[0:4]", "there is no split `tset`")]
    [InlineData("test[0-4]", "expected split[from:to]")]
    public void An_input_range_outside_the_data_is_DL0407(string inputs, string message)
    {
        Shell.Run("explain", models.Project.DlFile, "--checkpoint", models.MlpCheckpoint, "--inputs", inputs, "--out", Out("x"))
            .ShouldFailWith(ExitCodes.UserError, "DL0407", message);
    }

    [Fact]
    public void A_missing_checkpoint_is_an_error_naming_the_file()
    {
        Shell.Run("explain", models.Project.DlFile, "--checkpoint", Out("none.safetensors"), "--out", Out("x"))
            .ShouldFailWith(ExitCodes.UserError, "none.safetensors");
    }

    [Fact]
    public void An_unknown_grad_cam_layer_is_DL0208_with_did_you_mean()
    {
        Shell.Run("explain", models.CnnFile, "--checkpoint", models.CnnCheckpoint, "--method", "grad-cam", "--layer", "conv2", "--out", Out("x"))
            .ShouldFailWith(ExitCodes.UserError, "error DL0208: `TinyCnn` has no layer named `conv2`", "did you mean `conv2d`?");
    }

    [Fact]
    public void Methods_that_do_not_fit_the_model_are_DL0409()
    {
        Shell.Run("explain", models.Project.DlFile, "--checkpoint", models.MlpCheckpoint, "--method", "grad-cam", "--out", Out("x"))
            .ShouldFailWith(ExitCodes.UserError, "error DL0409: `grad-cam` needs a layer with feature maps");
        Shell.Run("explain", models.CnnFile, "--checkpoint", models.CnnCheckpoint, "--method", "permutation", "--out", Out("x"))
            .ShouldFailWith(ExitCodes.UserError, "error DL0409: `permutation` shuffles the features of tabular inputs");
        Shell.Run("explain", models.CnnFile, "--checkpoint", models.CnnCheckpoint, "--method", "grad-cam", "--layer", "dense", "--out", Out("x"))
            .ShouldFailWith(ExitCodes.UserError, "error DL0409", "try `--layer conv2d`");
    }

    [Fact]
    public void A_misspelt_baseline_is_DL0407_and_a_blurred_vector_is_DL0409()
    {
        Shell.Run("explain", models.Project.DlFile, "--checkpoint", models.MlpCheckpoint, "--baseline", "zero", "--out", Out("x"))
            .ShouldFailWith(ExitCodes.UserError, "error DL0407: --baseline zero: there is no such baseline", "did you mean `zeros`?");
        Shell.Run("explain", models.Project.DlFile, "--checkpoint", models.MlpCheckpoint, "--baseline", "blurred", "--out", Out("x"))
            .ShouldFailWith(ExitCodes.UserError, "error DL0409: `--baseline blurred` blurs images, but `image` is Tensor[N, 64]");
    }

    [Fact]
    public void A_target_outside_the_outputs_is_DL0407()
    {
        Shell.Run("explain", models.Project.DlFile, "--checkpoint", models.MlpCheckpoint, "--target", "4", "--out", Out("x"))
            .ShouldFailWith(ExitCodes.UserError, "DL0407: --target 4: `Tiny` has 4 outputs (0 to 3)");
    }

    [Fact]
    public void A_target_name_for_outputs_without_names_is_DL0407_that_asks_for_the_index()
    {
        Shell.Run("explain", models.Project.DlFile, "--checkpoint", models.MlpCheckpoint, "--target", "cat", "--out", Out("x"))
            .ShouldFailWith(ExitCodes.UserError, "error DL0407: --target cat: the outputs of `Tiny` have no names (its data does not name its classes)",
                "help: give the output index, a whole number from 0");
        var run = Shell.Run("explain", models.Project.DlFile, "--checkpoint", models.MlpCheckpoint, "--inputs", "test[0:2]", "--target", "2",
            "--method", "saliency", "--out", Out("index"), "--json").ShouldSucceed();
        using var json = JsonDocument.Parse(run.Out);
        json.RootElement.GetProperty("methods")[0].GetProperty("inputs").EnumerateArray().Select(i => i.GetProperty("target").GetInt32()).ShouldBe([2, 2]);
    }
}
