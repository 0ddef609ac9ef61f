using Dlc.Compiler.Jobs;

namespace Dlc.Compiler.Tests;

/// <summary>The training-recipe fields of a train record (schedules, clipping, early stopping, augmentation) as `check` reads them.</summary>
public class RecipeRecordTests
{
    private const string Mlp = "model M (x: Tensor[N, 784]) : Tensor[N, 10] =\n    x |> dense 10\n\n";

    private static TrainSpec Read(string fields, string model = Mlp) =>
        Compile.Ok(model + $"train M {{\n    data = fashionMnist {{ validation = 0.1 }}\n    {fields}\n}}\n").Trains.ShouldHaveSingleItem();

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

    [Theory]
    [InlineData("schedule = oneCycle { pctStart = 1 }", "error DL0402: `pctStart` must be above 0 and below 1, found 1")]
    [InlineData("schedule = oneCycle { maxLr = 0 }", "error DL0402: `maxLr` must be above 0, found 0")]
    [InlineData("schedule = oneCycle { warmup = 1 }", "error DL0203: `oneCycle` has no field `warmup`")]
    [InlineData("schedule = onecycle", "error DL0201: `onecycle` is not defined")]
    public void Recipe_values_are_checked_at_their_field(string field, string error)
    {
        Compile.Error(Mlp + $"train M {{\n    data = fashionMnist\n    {field}\n}}\n").ShouldStartWith(error);
    }
}
