using Dlc.Runtime.Data;
using Dlc.Tests.Support;
using SkiaSharp;

namespace Dlc.Runtime.Tests.Data;

/// <summary>Image folders as torchvision's ImageFolder reads them, decoded by Skia, and the files that cannot be read.</summary>
public class ImageFolderTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Train => _dir.File("train");

    private static float[] Pixels(Dataset data, int index)
    {
        var x = new float[data.SampleSize];
        data.Gather([index], x, new float[1]);
        return x.Select(v => MathF.Round(v * 255)).ToArray();
    }

    [Fact]
    public void Classes_are_the_sub_folders_in_ordinal_order_and_samples_their_images_in_path_order()
    {
        Images.Write(_dir.File("train/b/2.png"), 2, 2, (_, _) => SKColors.White);
        Images.Write(_dir.File("train/b/1.png"), 2, 2, (_, _) => SKColors.Black);
        Images.Write(_dir.File("train/B/x.jpg"), 2, 2, (_, _) => SKColors.Gray);
        Images.Write(_dir.File("train/a/deep/z.png"), 2, 2, (_, _) => new SKColor(10, 10, 10));
        File.WriteAllText(_dir.File("train/a/notes.txt"), "not an image");

        var data = ImageFolder.Load(Train, 1, 2, 2);
        data.ClassNames.ShouldBe(["B", "a", "b"]);
        data.Labels.ShouldBe([0f, 1f, 2f, 2f]);
        data.SampleShape.ShouldBe([1, 2, 2]);
        Pixels(data, 1).ShouldBe([10f, 10f, 10f, 10f]);
        Pixels(data, 2).ShouldBe([0f, 0f, 0f, 0f], "1.png before 2.png");
        Pixels(data, 3).ShouldBe([255f, 255f, 255f, 255f]);
    }

    [Fact]
    public void Colour_becomes_pil_grey_or_planar_rgb_and_alpha_is_dropped()
    {
        Images.Write(_dir.File("train/c/rgb.png"), 2, 1, (x, _) => x == 0 ? new SKColor(200, 100, 50) : new SKColor(0, 0, 255, 128));
        // L = (19595 R + 38470 G + 7471 B + 32768) >> 16, as PIL's convert("L").
        Pixels(ImageFolder.Load(Train, 1, 1, 2), 0).ShouldBe([(200 * 19595 + 100 * 38470 + 50 * 7471 + 32768) >> 16, (255 * 7471 + 32768) >> 16]);
        Pixels(ImageFolder.Load(Train, 3, 1, 2), 0).ShouldBe([200f, 0f, 100f, 0f, 50f, 255f]);
    }

    [Fact]
    public void Images_of_another_size_are_resized_and_jpeg_decodes_near_its_colour()
    {
        Images.Write(_dir.File("train/c/big.jpg"), 16, 12, (_, _) => new SKColor(90, 90, 90));
        var pixels = Pixels(ImageFolder.Load(Train, 1, 4, 4), 0);
        pixels.Length.ShouldBe(16);
        pixels.ShouldAllBe(v => Math.Abs(v - 90) <= 3);
    }

    [Fact]
    public void A_test_folder_takes_the_training_classes()
    {
        Images.Write(_dir.File("train/a/1.png"), 2, 2, (_, _) => SKColors.Black);
        Images.Write(_dir.File("train/b/1.png"), 2, 2, (_, _) => SKColors.Black);
        Images.Write(_dir.File("test/b/1.png"), 2, 2, (_, _) => SKColors.Black);
        var train = ImageFolder.Load(Train, 1, 2, 2);
        var test = ImageFolder.Load(_dir.File("test"), 1, 2, 2, train.ClassNames);
        (test.ClassCount, test.Labels.Single()).ShouldBe((2, 1f));

        Images.Write(_dir.File("test/c/1.png"), 2, 2, (_, _) => SKColors.Black);
        Should.Throw<DataException>(() => ImageFolder.Load(_dir.File("test"), 1, 2, 2, train.ClassNames))
            .Message.ShouldBe($"{_dir.File("test/c")} is a class the training images do not have (they have a, b)");
    }

    [Fact]
    public void A_corrupt_image_is_malformed_and_a_cut_one_truncated_each_named_from_the_folder()
    {
        Images.Write(_dir.File("train/a/1.png"), 8, 8, (x, y) => new SKColor((byte)(x * 30), (byte)(y * 30), 0));
        Images.Write(_dir.File("train/a/2.jpg"), 64, 64, (x, y) => new SKColor((byte)(x * 37 % 256), (byte)(y * 91 % 256), (byte)(x * y % 256)));
        var png = File.ReadAllBytes(_dir.File("train/a/1.png"));
        var jpg = File.ReadAllBytes(_dir.File("train/a/2.jpg"));

        File.WriteAllText(_dir.File("train/a/0.png"), "not a picture at all");
        var corrupt = Should.Throw<DataException>(() => ImageFolder.Load(Train, 1, 8, 8));
        (corrupt.Code, corrupt.Message).ShouldBe((DataException.Malformed, "train/a/0.png is not a PNG or JPEG image that can be decoded (20 bytes)"));
        File.Delete(_dir.File("train/a/0.png"));

        File.WriteAllBytes(_dir.File("train/a/1.png"), png[..(png.Length * 2 / 3)]);
        var cutPng = Should.Throw<DataException>(() => ImageFolder.Load(Train, 1, 8, 8));
        (cutPng.Code, cutPng.Message).ShouldBe((DataException.Truncated, $"train/a/1.png ends before its image data is complete ({png.Length * 2 / 3:N0} bytes)"));
        File.WriteAllBytes(_dir.File("train/a/1.png"), png);

        File.WriteAllBytes(_dir.File("train/a/2.jpg"), jpg[..(jpg.Length * 2 / 3)]);
        var cutJpg = Should.Throw<DataException>(() => ImageFolder.Load(Train, 1, 8, 8));
        (cutJpg.Code, cutJpg.Message).ShouldBe((DataException.Truncated, $"train/a/2.jpg ends before its image data is complete ({jpg.Length * 2 / 3:N0} bytes)"));

        File.WriteAllBytes(_dir.File("train/a/2.jpg"), jpg[..40]);
        Should.Throw<DataException>(() => ImageFolder.Load(Train, 1, 8, 8)).Message
            .ShouldBe("train/a/2.jpg starts as a JPEG image but cannot be decoded: it is cut short or corrupt (40 bytes)");
    }

    [Fact]
    public void Folders_without_classes_or_images_are_reported()
    {
        Should.Throw<DataException>(() => ImageFolder.Load(Train, 1, 2, 2)).Code.ShouldBe(DataException.NotFound);
        Directory.CreateDirectory(Train);
        Should.Throw<DataException>(() => ImageFolder.Load(Train, 1, 2, 2)).Message.ShouldBe($"{Train} has no class folders");
        Directory.CreateDirectory(_dir.File("train/empty"));
        Should.Throw<DataException>(() => ImageFolder.Load(Train, 1, 2, 2)).Message.ShouldBe($"the class folder {_dir.File("train/empty")} has no PNG or JPEG images");
    }
}
