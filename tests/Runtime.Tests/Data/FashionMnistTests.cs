using System.Diagnostics;
using Dlc.Runtime.Data;
using Xunit.Abstractions;

namespace Dlc.Runtime.Tests.Data;

// The tests that set DLC_DATA_FASHION_MNIST live in this one class so that they never run
// alongside each other (xunit runs the tests of a class one at a time).
public class FashionMnistTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose()
    {
        Environment.SetEnvironmentVariable(FashionMnist.EnvironmentVariable, null);
        _dir.Dispose();
    }

    private static bool Installed => File.Exists(Path.Combine(FashionMnist.DefaultRoot, "t10k-labels-idx1-ubyte.gz"));

    [Fact]
    public void The_installed_training_set_has_60000_images_of_784_pixels_in_10_balanced_classes()
    {
        if (!Installed)
        {
            output.WriteLine($"{FashionMnist.DefaultRoot} is not installed; nothing to check");
            return;
        }
        var watch = Stopwatch.StartNew();
        var train = FashionMnist.Load("train");
        output.WriteLine($"loading the 60,000 training images took {watch.Elapsed.TotalMilliseconds:F0} ms");
        train.Count.ShouldBe(60_000);
        train.SampleShape.ShouldBe([784]);
        train.ClassCount.ShouldBe(10);
        train.ClassNames.ShouldNotBeNull()[9].ShouldBe("Ankle boot");
        train.Labels.GroupBy(l => l).Select(g => g.Count()).ShouldAllBe(n => n == 6000);
        train.Labels[0].ShouldBe(9f);

        var x = new float[2 * 784];
        var y = new float[2];
        train.Gather([0, 59_999], x, y);
        x.ShouldAllBe(v => v >= 0f && v <= 1f);
        x.Max().ShouldBe(1f);
    }

    [Fact]
    public void The_installed_test_set_loads_channel_first()
    {
        if (!Installed) return;
        var test = FashionMnist.Load("test", channelFirst: true);
        test.Count.ShouldBe(10_000);
        test.SampleShape.ShouldBe([1, 28, 28]);
        test.Labels.GroupBy(l => l).Select(g => g.Count()).ShouldAllBe(n => n == 1000);
    }

    [Fact]
    public void The_environment_variable_points_at_another_folder()
    {
        WriteTinyCopy(_dir.Path, "t10k");
        Environment.SetEnvironmentVariable(FashionMnist.EnvironmentVariable, _dir.Path);
        FashionMnist.ResolveRoot().ShouldBe(_dir.Path);
        var test = FashionMnist.Load("test");
        test.Count.ShouldBe(2);
        test.Labels.ShouldBe([9f, 3f]);
    }

    [Fact]
    public void A_missing_folder_says_how_to_install_the_data()
    {
        var missing = _dir.File("absent");
        var e = Should.Throw<DataException>(() => FashionMnist.Load("train", missing));
        e.Code.ShouldBe(DataException.NotFound);
        e.Path.ShouldBe(missing);
        e.Message.ShouldContain(missing);
        Environment.SetEnvironmentVariable(FashionMnist.EnvironmentVariable, null);
        if (!Installed)
            Should.Throw<DataException>(() => FashionMnist.Load("train")).Help.ShouldBe("bin/setup installs it (apt-get install dataset-fashion-mnist)");
    }

    [Fact]
    public void A_missing_file_in_an_existing_folder_is_named()
    {
        WriteTinyCopy(_dir.Path, "t10k");
        var e = Should.Throw<DataException>(() => FashionMnist.Load("train", _dir.Path));
        e.Code.ShouldBe(DataException.NotFound);
        e.Path.ShouldEndWith("train-images-idx3-ubyte.gz");
    }

    [Fact]
    public void An_unknown_split_is_a_usage_error()
    {
        Should.Throw<ArgumentException>(() => FashionMnist.Load("validation", _dir.Path)).Message.ShouldContain("\"train\" and \"test\"");
    }

    private static void WriteTinyCopy(string folder, string prefix)
    {
        File.WriteAllBytes(Path.Combine(folder, $"{prefix}-images-idx3-ubyte.gz"),
            IdxReaderTests.Gzip(IdxReaderTests.Idx(0x08, [2, 28, 28], new byte[2 * 784])));
        File.WriteAllBytes(Path.Combine(folder, $"{prefix}-labels-idx1-ubyte.gz"),
            IdxReaderTests.Gzip(IdxReaderTests.Idx(0x08, [2], [9, 3])));
    }
}
