using Dlc.Compiler.Jobs;
using Dlc.Runtime.Training;

namespace Dlc.Runtime.Tests.Training;

/// <summary>
/// Learning-rate schedules against values worked out from torch's own formulas (CosineAnnealingLR's closed
/// form, StepLR, OneCycleLR.get_lr), one value per optimiser step.
/// </summary>
public class LearningRateScheduleTests
{
    private static double[] Steps(ScheduleSpec? spec, double lr, int stepsPerEpoch, int epochs)
    {
        var schedule = new LearningRateSchedule(spec, lr, stepsPerEpoch, epochs);
        return Enumerable.Range(0, stepsPerEpoch * epochs).Select(t => schedule.At(t)).ToArray();
    }

    private static void ShouldMatch(double[] actual, double[] expected)
    {
        actual.Length.ShouldBe(expected.Length);
        for (var i = 0; i < expected.Length; i++) actual[i].ShouldBe(expected[i], 1e-12, $"step {i}");
    }

    [Fact]
    public void No_schedule_keeps_the_optimizers_rate()
    {
        Steps(null, 1e-3, 3, 2).ShouldAllBe(lr => lr == 1e-3);
    }

    [Fact]
    public void Cosine_without_warm_up_is_torchs_cosine_annealing_over_every_step()
    {
        // CosineAnnealingLR(T_max = 10, eta_min = 0.001) from lr 0.1, stepped after every batch.
        ShouldMatch(Steps(new ScheduleSpec("cosine", default) { MinLr = 0.001 }, 0.1, 5, 2),
        [
            0.1, 0.09757729755661011, 0.0905463412215599, 0.07959536998847742, 0.0657963412215599,
            0.0505, 0.03520365877844011, 0.021404630011522586, 0.010453658778440109, 0.0034227024433899004,
        ]);
    }

    [Fact]
    public void Cosine_warms_up_linearly_over_its_first_epoch_then_anneals_over_the_rest()
    {
        // Four steps an epoch: warm-up 1/4, 2/4, 3/4, 4/4 of the rate; then cosine over the 8 steps left, reaching half at 4 of 8.
        var lrs = Steps(new ScheduleSpec("cosine", default) { Warmup = 1 }, 1e-3, 4, 3);
        ShouldMatch(lrs[..5], [2.5e-4, 5e-4, 7.5e-4, 1e-3, 1e-3]);
        lrs[8].ShouldBe(5e-4, 1e-15);
        lrs[11].ShouldBe(1e-3 * (1 + Math.Cos(Math.PI * 7 / 8)) / 2, 1e-15);
    }

    [Fact]
    public void Step_multiplies_by_gamma_every_so_many_epochs()
    {
        // StepLR(step_size = 2, gamma = 0.5) stepped per epoch, three batches an epoch.
        ShouldMatch(Steps(new ScheduleSpec("step", default) { Every = 2, Gamma = 0.5 }, 0.1, 3, 5),
            [0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025]);
    }

    [Fact]
    public void Constant_with_warm_up_ramps_then_holds()
    {
        ShouldMatch(Steps(new ScheduleSpec("constant", default) { Warmup = 1 }, 0.2, 2, 2), [0.1, 0.2, 0.2, 0.2]);
    }

    [Fact]
    public void One_cycle_follows_torchs_one_cycle_lr()
    {
        // OneCycleLR(max_lr = 0.1, total_steps = 10), pct_start 0.3, div_factor 25, final_div_factor 1e4, cos.
        ShouldMatch(Steps(new ScheduleSpec("oneCycle", default) { MaxLr = 0.1 }, 1e-3, 5, 2),
        [
            0.0040000000000000036, 0.052000000000000005, 0.1, 0.09504846320134738, 0.0811745653949763,
            0.06112620219362893, 0.03887419780637107, 0.0188258346050237, 0.004951936798652629, 4e-07,
        ]);
        // OneCycleLR(max_lr = 0.01, total_steps = 12, pct_start = 0.25): a peak at a fractional step boundary.
        ShouldMatch(Steps(new ScheduleSpec("oneCycle", default) { PctStart = 0.25 }, 0.01, 4, 3),
        [
            0.0003999999999999993, 0.0052, 0.01, 0.009698464310077126, 0.008830226894706028, 0.00750001,
            0.0058682574153710995, 0.004131782584628901, 0.0025000300000000016, 0.001169813105293973,
            0.00030157568992287415, 4e-08,
        ]);
    }

    [Fact]
    public void A_warm_up_longer_than_the_run_warms_up_the_whole_run()
    {
        // `--epochs 1` on a record with `warmup = 2`.
        ShouldMatch(Steps(new ScheduleSpec("cosine", default) { Warmup = 2 }, 1.0, 2, 1), [0.5, 1.0]);
    }

    [Fact]
    public void A_fractional_warm_up_counts_its_share_of_an_epoch_in_steps()
    {
        // Half an epoch of four steps: two steps of warm-up, then cosine over the 6 steps left, half the rate at 3 of 6.
        var lrs = Steps(new ScheduleSpec("cosine", default) { Warmup = 0.5 }, 1.0, 4, 2);
        ShouldMatch(lrs[..3], [0.5, 1.0, 1.0]);
        lrs[5].ShouldBe(0.5, 1e-15);
    }
}
