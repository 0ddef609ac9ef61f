using Dlc.Compiler.Jobs;
using Dlc.Runtime.Checkpoints;
using Dlc.Runtime.Training;

namespace Dlc.Runtime.Tests.Training;

/// <summary>The best epoch and early stopping, as Keras's EarlyStopping and a save-best checkpoint decide them.</summary>
public class ValidationWatchTests
{
    private static ValidationWatch Watch(int patience = 2, double minDelta = 0) =>
        new(new EarlyStoppingSpec(patience, minDelta, default), ValidationRecord.None);

    [Fact]
    public void The_lowest_loss_is_best_and_patience_counts_epochs_without_progress()
    {
        var watch = Watch(patience: 2);
        watch.Observe(1, 0.9).ShouldBeTrue();
        watch.Observe(2, 0.7).ShouldBeTrue();
        watch.Observe(3, 0.8).ShouldBeFalse();
        watch.ShouldStop.ShouldBeFalse();
        watch.Observe(4, 0.75).ShouldBeFalse();
        watch.ShouldStop.ShouldBeTrue();
        watch.Record.ShouldBe(new ValidationRecord(2, 0.7, 0.7, 2));
    }

    [Fact]
    public void A_gain_smaller_than_min_delta_keeps_the_best_checkpoint_but_is_no_progress()
    {
        var watch = Watch(patience: 1, minDelta: 0.05);
        watch.Observe(1, 0.5);
        watch.Observe(2, 0.48).ShouldBeTrue("a lower loss is kept as best.safetensors");
        watch.ShouldStop.ShouldBeTrue("but 0.02 is less progress than minDelta");
        watch.Record.ShouldBe(new ValidationRecord(2, 0.48, 0.5, 1));
    }

    [Fact]
    public void Without_early_stopping_it_only_follows_the_best_epoch()
    {
        var watch = new ValidationWatch(null, ValidationRecord.None);
        for (var epoch = 1; epoch <= 10; epoch++) watch.Observe(epoch, 1.0 + epoch);
        watch.ShouldStop.ShouldBeFalse();
        watch.Record.BestEpoch.ShouldBe(1);
    }

    [Fact]
    public void A_resumed_watch_continues_from_its_record()
    {
        var watch = new ValidationWatch(new EarlyStoppingSpec(3, 0, default), new ValidationRecord(4, 0.3, 0.3, 2));
        watch.Observe(7, 0.31).ShouldBeFalse();
        watch.ShouldStop.ShouldBeTrue();
    }
}
