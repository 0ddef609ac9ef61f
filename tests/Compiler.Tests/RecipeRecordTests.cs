using Dlc.Compiler.Jobs;

namespace Dlc.Compiler.Tests;

/// <summary>The training-recipe fields of a train record (schedules, clipping, early stopping, augmentation) as `check` reads them.</summary>
public class RecipeRecordTests
{
    private const string Mlp = "model M (x: Tensor[N, 784]) : Tensor[N, 10] =\n    x |> dense 10\n\n";

    private static TrainSpec Read(string fields, string model = Mlp)
    {
        var data = fields.StartsWith("data", StringComparison.Ordinal) ? "" : "data = fashionMnist { validation = 0.1 }\n    ";
        return Compile.Ok(model + $"train M {{\n    {data}{fields}\n}}\n").Trains.ShouldHaveSingleItem();
    }

    [Fact]
    public void A_one_cycle_schedule_reads_its_peak_and_its_rising_fraction()
    {
        var spec = Read("schedule = oneCycle { maxLr = 0.01; pctStart = 0.25 }\n    clip = 1.0");
        spec.Schedule.ShouldBe(new ScheduleSpec("oneCycle", spec.Schedule!.Span) { MaxLr = 0.01, PctStart = 0.25 });
        spec.Clip.ShouldBe(1.0);
        spec.Pending.ShouldBeEmpty("the trainer runs schedules and clipping");
    }

    [Fact]
    public void A_one_cycle_schedule_without_a_peak_peaks_at_the_optimizers_rate()
    {
        Read("schedule = oneCycle").Schedule.ShouldNotBeNull().MaxLr.ShouldBeNull();
    }

    [Fact]
    public void Early_stopping_needs_a_validation_set_and_says_so_at_its_field()
    {
        Compile.Error(Mlp + "train M {\n    data = fashionMnist\n    earlyStopping = { patience = 2 }\n}\n").ShouldBe("""
            error DL0402: `earlyStopping` watches the validation loss, but no part of the data is held out for validation
              --> test.dl:6:5
               |
             6 |     earlyStopping = { patience = 2 }
               |     ^^^^^^^^^^^^^
               = help: hold some out: `validation = 0.1` in the record or in its `data`
            """);
        var spec = Read("earlyStopping = { patience = 2; minDelta = 0.001 }");
        (spec.EarlyStopping!.Patience, spec.EarlyStopping.MinDelta).ShouldBe((2, 0.001));
        spec.Pending.ShouldBeEmpty();
    }

    private const string Cnn = "model M (image: Tensor[N, 1, 28, 28]) : Tensor[N, 10] =\n    image |> flatten |> dense 10\n\n";

    [Fact]
    public void Crop_and_flip_are_read_for_an_image_model()
    {
        var spec = Read("crop = { padding = 4 }\n    flip = true", Cnn);
        (spec.Augment!.CropPadding, spec.Augment.Flip).ShouldBe((4, true));
        spec.Augment.Describe().ShouldBe("crop padding=4, flip");
        Read("flip = false", Cnn).Augment.ShouldBeNull();
    }

    [Fact]
    public void Augmenting_a_model_of_rows_is_refused_at_the_field()
    {
        Compile.Error(Mlp + "train M {\n    data = fashionMnist\n    flip = true\n}\n").ShouldBe("""
            error DL0405: `flip` changes images [N, C, H, W], but `M` takes Tensor[N, 784]
              --> test.dl:6:5
               |
             6 |     flip = true
               |     ^^^^
               = help: declare the input as images, for example `(image: Tensor[N, 1, 28, 28])`, and `flatten` them where rows are needed
            """);
    }

    [Fact]
    public void Data_sets_read_normalisation_npy_and_image_folders()
    {
        var spec = Read("data = fashionMnist { normalize = { mean = [0.2860]; std = [0.3530] } }", Cnn).Data;
        spec.Normalize!.Mean.ShouldBe([0.2860]);
        spec.Normalize.Std.ShouldBe([0.3530]);
        var npy = Read("data = npy { images = \"x.npy\"; labels = \"y.npy\"; testImages = \"tx.npy\"; testLabels = \"ty.npy\" }", Cnn).Data;
        (npy.Kind, npy.Images, npy.Labels, npy.TestImages, npy.TestLabels).ShouldBe((DataKind.Npy, "x.npy", "y.npy", "tx.npy", "ty.npy"));
        var folder = Read("data = imageFolder { path = \"train/\"; test = \"test/\"; size = (28, 28); channels = 1; validation = 0.1 }", Cnn).Data;
        (folder.Kind, folder.Path, folder.TestPath, folder.Channels, folder.Validation).ShouldBe((DataKind.ImageFolder, "train/", "test/", 1, 0.1));
        folder.Size.ShouldBe([28, 28]);
        Read("data = imageFolder { path = \"train\"; size = 32 }", Cnn).Data.Size.ShouldBe([32, 32]);
        Read("data = imageFolder { path = \"train\"; size = [24; 32] }", Cnn).Data.Size.ShouldBe([24, 32]);
    }

    [Theory]
    [InlineData("schedule = oneCycle { pctStart = 1 }", "error DL0402: `pctStart` must be above 0 and below 1, found 1")]
    [InlineData("schedule = oneCycle { maxLr = 0 }", "error DL0402: `maxLr` must be above 0, found 0")]
    [InlineData("schedule = oneCycle { warmup = 1 }", "error DL0203: `oneCycle` has no field `warmup`")]
    [InlineData("schedule = onecycle", "error DL0201: `onecycle` is not defined")]
    [InlineData("crop = { pad = 4 }", "error DL0203: `crop` has no field `pad`")]
    [InlineData("crop = {}", "error DL0401: `crop` needs the `padding` around the image it crops from")]
    [InlineData("crop = 4", "error DL0402: `crop` must be a record, for example `{ padding = 4 }`; found")]
    [InlineData("flip = 1", "error DL0304: ``flip`` must be true or false, found an integer")]
    [InlineData("data = npy { images = \"x.npy\" }", "error DL0401: `npy` needs both `images` and `labels` paths")]
    [InlineData("data = imageFolder { size = (28, 28) }", "error DL0401: `imageFolder` needs a `path`")]
    [InlineData("data = imageFolder { path = \"a\"; channels = 2 }", "error DL0402: `channels` must be 1 (grey) or 3 (RGB), found 2")]
    [InlineData("data = imageFolder { path = \"a\"; size = (1, 2, 3) }", "error DL0402: `size` is the height and width, `(28, 28)`, or one number for both; found 3 numbers")]
    [InlineData("data = fashionMnist { normalize = { mean = [0.5; 0.5]; std = [0.2] } }", "error DL0402: `normalize` has 2 means but 1 deviations")]
    [InlineData("data = fashionMnist { normalize = { mean = [0.5]; std = [0] } }", "error DL0402: `std` must be above 0, found 0")]
    [InlineData("data = fashionMnist { normalize = { mean = [0.5] } }", "error DL0401: `normalize` needs `std`, one number per channel")]
    public void Recipe_values_are_checked_at_their_field(string field, string error)
    {
        var data = field.StartsWith("data", StringComparison.Ordinal) ? "" : "data = fashionMnist\n    ";
        Compile.Error(Cnn + $"train M {{\n    {data}{field}\n}}\n").ShouldStartWith(error);
    }
}
