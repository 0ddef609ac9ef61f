namespace Dlc.Runtime.Checkpoints;

/// <summary>A parameter the model expects a checkpoint to hold.</summary>
public sealed record ParameterSpec(string Name, int[] Shape);

/// <summary>
/// The validation losses seen so far: the best one and its epoch (whose parameters are best.safetensors), and,
/// for early stopping, the loss last improved on by more than minDelta and the epochs since.
/// </summary>
public sealed record ValidationRecord(int BestEpoch, double BestLoss, double ReferenceLoss, int StaleEpochs)
{
    public static readonly ValidationRecord None = new(0, double.PositiveInfinity, double.PositiveInfinity, 0);
}

/// <summary>Everything needed to resume training exactly where it stopped.</summary>
public sealed record CheckpointState
{
    public required string ModelName { get; init; }

    /// <summary>SHA-256 of the .dl source, lowercase hex (see <see cref="Checkpoint.HashSource"/>).</summary>
    public required string SourceHash { get; init; }

    /// <summary>The model's parameters, e.g. "fc1.weight".</summary>
    public required IReadOnlyList<NamedTensor> Parameters { get; init; }

    /// <summary>Optimizer tensors, named by the optimizer, e.g. "adam.m.fc1.weight", "adam.v.fc1.weight".</summary>
    public IReadOnlyList<NamedTensor> OptimizerState { get; init; } = [];

    /// <summary>Optimizer steps taken so far.</summary>
    public long Step { get; init; }

    /// <summary>The epoch to continue in, counted from 0.</summary>
    public int Epoch { get; init; }

    /// <summary>The batch of <see cref="Epoch"/> to continue with, counted from 0.</summary>
    public int BatchInEpoch { get; init; }

    /// <summary>The training random generator's state words.</summary>
    public ulong[] RngState { get; init; } = [];

    /// <summary>How the validation loss has gone so far, for keeping the best checkpoint and for early stopping.</summary>
    public ValidationRecord Validation { get; init; } = ValidationRecord.None;

    /// <summary>
    /// A character-level model's characters in index order from index 1 (see Data.CharVocabulary), saved as the
    /// metadata `vocabulary` of the parameter files; null for other models.
    /// </summary>
    public string? Vocabulary { get; init; }

    /// <summary>
    /// A word-level model's vocabulary (see Data.WordVocabulary.Serialize), saved as the metadata `words` of the
    /// parameter files; null for other models.
    /// </summary>
    public string? Words { get; init; }

    /// <summary>
    /// A BPE model's tokenizer and the tokens it uses (see Data.BpeVocabulary.Serialize), saved as the metadata `tokens`
    /// of the parameter files; null for other models.
    /// </summary>
    public string? Tokens { get; init; }

    /// <summary>The train settings in force (batch size, learning rate, …) as text, for checking and reporting.</summary>
    public IReadOnlyDictionary<string, string> TrainSettings { get; init; } = new Dictionary<string, string>();
}
