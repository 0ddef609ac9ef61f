using Dlc.Compiler.Jobs;
using Dlc.Runtime.Checkpoints;

namespace Dlc.Runtime.Training;

/// <summary>
/// Follows the validation loss from epoch to epoch: which epoch is best (its parameters are kept as
/// best.safetensors) and, with `earlyStopping`, when training should stop. As Keras's EarlyStopping, an
/// epoch counts as progress only when its loss is below the last such loss by more than minDelta; the best
/// checkpoint follows any lower loss. The record is saved in checkpoints, so a resumed run decides alike.
/// </summary>
public sealed class ValidationWatch(EarlyStoppingSpec? stopping, ValidationRecord start)
{
    public ValidationRecord Record { get; private set; } = start;

    /// <summary>True once `patience` epochs in a row have made no progress.</summary>
    public bool ShouldStop => stopping is { } s && Record.StaleEpochs >= s.Patience;

    /// <summary>Takes the validation loss of <paramref name="epoch"/>; true when it is the best so far.</summary>
    public bool Observe(int epoch, double loss)
    {
        var best = loss < Record.BestLoss;
        var progress = loss < Record.ReferenceLoss - (stopping?.MinDelta ?? 0);
        Record = new ValidationRecord(
            best ? epoch : Record.BestEpoch,
            best ? loss : Record.BestLoss,
            progress ? loss : Record.ReferenceLoss,
            progress ? 0 : Record.StaleEpochs + 1);
        return best;
    }
}
