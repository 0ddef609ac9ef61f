using System.Text.Json;
using Dlc.Cli.Tests.Support;
using Dlc.Tests.Support;

namespace Dlc.Cli.Tests;

/// <summary>Training from .npy arrays and image folders, and their mistakes reported at the record's `data` field.</summary>
public class DataSourceTests : IDisposable
{
    private readonly TinyProject _project = new();

    /// <summary>The tiny project's IDX data as .npy: uint8 images [N, 8, 8] and int64 labels.</summary>
    private void WriteNpy(string images, string labels, string idxImages, string idxLabels)
    {
        var pixels = File.ReadAllBytes(_project[idxImages])[16..];
        var classes = File.ReadAllBytes(_project[idxLabels])[8..];
        File.WriteAllBytes(_project[images], Npy.UInt8([classes.Length, 8, 8], pixels));
        File.WriteAllBytes(_project[labels], Npy.Int64([classes.Length], classes.Select(c => (long)c).ToArray()));
    }

    private string NpyDl(string images = "x.npy") => _project.WriteDl("npy.dl", TinyProject.Source()
        .Replace("""idx { images = "train-images.idx"; labels = "train-labels.idx"; testImages = "test-images.idx"; testLabels = "test-labels.idx" }""",
            $$"""npy { images = "{{images}}"; labels = "y.npy"; testImages = "tx.npy"; testLabels = "ty.npy" }"""));

    [Fact]
    public void Npy_arrays_train_like_the_same_data_as_idx()
    {
        WriteNpy("x.npy", "y.npy", "train-images.idx", "train-labels.idx");
        WriteNpy("tx.npy", "ty.npy", "test-images.idx", "test-labels.idx");
        var npy = Shell.Run("train", NpyDl(), "--out", _project["npy"], "--json").ShouldSucceed();
        var idx = Shell.Run("train", _project.DlFile, "--out", _project["idx"], "--json").ShouldSucceed();
        using var a = JsonDocument.Parse(npy.Out);
        using var b = JsonDocument.Parse(idx.Out);
        a.RootElement.GetProperty("test_loss").GetDouble().ShouldBe(b.RootElement.GetProperty("test_loss").GetDouble(), "the same pixels, scaled the same");
        a.RootElement.GetProperty("test_accuracy").GetDouble().ShouldBeGreaterThanOrEqualTo(0.9);
    }

    [Fact]
    public void A_truncated_npy_file_is_reported_at_the_data_field()
    {
        WriteNpy("x.npy", "y.npy", "train-images.idx", "train-labels.idx");
        WriteNpy("tx.npy", "ty.npy", "test-images.idx", "test-labels.idx");
        var bytes = File.ReadAllBytes(_project["x.npy"]);
        File.WriteAllBytes(_project["cut.npy"], bytes[..(bytes.Length - 64)]);
        var dl = NpyDl("cut.npy");
        Shell.Run("train", dl, "--out", _project["run"]).ShouldFailWith(ExitCodes.UserError,
            $"error DL0903: cut.npy ends after {bytes.Length - 64:N0} of {bytes.Length:N0} bytes: its array data is cut short\n", $"--> {dl}:7:17\n");
        Directory.Exists(_project["run"]).ShouldBeFalse();
    }

    [Fact]
    public void An_npy_file_of_an_unsupported_type_says_how_to_convert_it()
    {
        WriteNpy("x.npy", "y.npy", "train-images.idx", "train-labels.idx");
        File.WriteAllBytes(_project["half.npy"], Npy.Bytes("<f2", [TinyProject.TrainCount, 64], new byte[TinyProject.TrainCount * 128]));
        Shell.Run("train", NpyDl("half.npy"), "--out", _project["run"]).ShouldFailWith(ExitCodes.UserError,
            "error DL0902: half.npy holds values of type '<f2', which dlc does not read\n",
            "= help: dlc reads float32, float64, uint8, int32 and int64, little-endian: save with `numpy.save(path, array.astype('<f4'))`");
    }

    /// <summary>The tiny project's IDX images as PNG files in class folders named after the bright quadrant.</summary>
    private void WriteFolder(string folder, string idxImages, string idxLabels)
    {
        string[] names = ["top-left", "top-right", "bottom-left", "bottom-right"];
        var pixels = File.ReadAllBytes(_project[idxImages])[16..];
        var labels = File.ReadAllBytes(_project[idxLabels])[8..];
        for (var i = 0; i < labels.Length; i++)
            Images.WriteGrey(_project[$"{folder}/{names[labels[i]]}/{i:D3}.png"], 8, 8, pixels.AsSpan(64 * i, 64));
    }

    private string FolderDl(string fields = "") => _project.WriteDl("folder.dl", TinyProject.Source(extraFields: fields)
        .Replace(TinyProject.Model, "model Tiny (image: Tensor[N, 1, 8, 8]) : Tensor[N, 4] =\n    image |> flatten |> dense 16 |> relu |> dense 4")
        .Replace("""idx { images = "train-images.idx"; labels = "train-labels.idx"; testImages = "test-images.idx"; testLabels = "test-labels.idx" }""",
            """imageFolder { path = "train"; test = "test"; normalize = { mean = [0.3]; std = [0.4] } }"""));

    [Fact]
    public void An_image_folder_trains_at_the_models_image_size_with_a_random_crop()
    {
        WriteFolder("train", "train-images.idx", "train-labels.idx");
        WriteFolder("test", "test-images.idx", "test-labels.idx");
        // No flip: mirroring would move the bright quadrant, which is the class.
        var run = Shell.Run("train", FolderDl("crop = { padding = 1 }"), "--epochs", "4", "--out", _project["run"], "--json").ShouldSucceed();
        using var json = JsonDocument.Parse(run.Out);
        json.RootElement.GetProperty("test_accuracy").GetDouble().ShouldBeGreaterThanOrEqualTo(0.9);
    }

    [Fact]
    public void A_corrupt_image_is_named_at_the_data_field()
    {
        WriteFolder("train", "train-images.idx", "train-labels.idx");
        File.WriteAllText(_project["train/top-left/bad.png"], "not an image");
        var dl = FolderDl();
        Shell.Run("train", dl, "--out", _project["run"]).ShouldFailWith(ExitCodes.UserError,
            "error DL0902: train/top-left/bad.png is not a PNG or JPEG image that can be decoded (12 bytes)\n", $"--> {dl}:5:17\n");
    }

    public void Dispose() => _project.Dispose();
}
