using Dlc.Compiler.Jobs;

namespace Dlc.Runtime.Training;

/// <summary>
/// The learning rate of every optimiser step, as the record's `schedule` says. Schedules move per step, not
/// per epoch (as torch's schedulers do when stepped after every batch); step t counts from 0 for the first
/// update. A resumed run continues from the optimiser's step count, so it follows the same curve.
/// <list type="bullet">
/// <item>warm-up (cosine, step, constant): the first W = warmup·B steps (B batches per epoch) use
/// lr·(t + 1)/W, reaching the full rate on the last warm-up step, so no step is spent at 0;</item>
/// <item>cosine: then minLr + (lr − minLr)·(1 + cos(π·(t − W)/(T − W)))/2 over the remaining steps of the
/// T = epochs·B (torch's CosineAnnealingLR with T_max = T − W, eta_min = minLr);</item>
/// <item>step: lr·gamma^⌊e/every⌋ in epoch e, counted from 0 (StepLR(step_size = every) stepped per epoch);</item>
/// <item>oneCycle: torch's OneCycleLR with cosine annealing (three_phase = False, no momentum cycling):
/// from maxLr/divFactor up to maxLr over the first pctStart·T − 1 steps, then down to
/// maxLr/(divFactor·finalDivFactor) at step T − 1.</item>
/// </list>
/// </summary>
public sealed class LearningRateSchedule
{
    private readonly ScheduleSpec? _spec;
    private readonly double _lr;
    private readonly int _stepsPerEpoch;
    private readonly long _total;
    private readonly long _warmup;

    /// <param name="lr">The optimiser's learning rate (oneCycle's peak when the schedule names no maxLr).</param>
    public LearningRateSchedule(ScheduleSpec? spec, double lr, int stepsPerEpoch, int epochs)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(stepsPerEpoch);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(epochs);
        _spec = spec;
        _lr = lr;
        _stepsPerEpoch = stepsPerEpoch;
        _total = (long)stepsPerEpoch * epochs;
        // `--epochs` may leave fewer epochs than the record's warm-up: then the whole run warms up.
        _warmup = Math.Min((long)Math.Round((spec?.Warmup ?? 0) * stepsPerEpoch), _total);
    }

    /// <summary>The learning rate of update <paramref name="step"/> (0 for the first).</summary>
    public double At(long step)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        if (_spec is null) return _lr;
        if (_spec.Kind == "oneCycle") return OneCycle(step);
        var rate = _spec.Kind switch
        {
            "cosine" => Cosine(step),
            "step" => _lr * Math.Pow(_spec.Gamma, step / _stepsPerEpoch / _spec.Every),
            _ => _lr,
        };
        return step < _warmup ? rate * (step + 1) / _warmup : rate;
    }

    private double Cosine(long step)
    {
        if (step < _warmup) return _lr;
        var span = Math.Max(1, _total - _warmup);
        var progress = Math.Min(1.0, (double)(step - _warmup) / span);
        return _spec!.MinLr + (_lr - _spec.MinLr) * (1 + Math.Cos(Math.PI * progress)) / 2;
    }

    /// <summary>torch.optim.lr_scheduler.OneCycleLR.get_lr, two phases, cosine annealing.</summary>
    private double OneCycle(long step)
    {
        var max = _spec!.MaxLr ?? _lr;
        var initial = max / _spec.DivFactor;
        var min = initial / _spec.FinalDivFactor;
        var rise = _spec.PctStart * _total - 1;
        var end = (double)(_total - 1);
        if (step <= rise) return Anneal(initial, max, rise <= 0 ? 1 : step / rise);
        var fall = end - rise;
        return Anneal(max, min, fall <= 0 ? 1 : Math.Min(1.0, (step - rise) / fall));
    }

    private static double Anneal(double start, double end, double pct) => end + (start - end) / 2 * (Math.Cos(Math.PI * pct) + 1);
}
