using Dlc.Runtime.Data;

namespace Dlc.Runtime.Training;

/// <summary>
/// Batches of sequences of their own lengths (sentences to tag): each batch is padded to its longest sequence,
/// rounded up to a multiple of 8 steps (of 32 past 64), so a run compiles a plan for each of a few lengths rather
/// than one per length, and a short last batch is filled with empty sequences to the full batch size.
/// </summary>
internal static class SequenceBatches
{
    /// <summary>Sentences per batch when evaluating: sorted by length, so a batch is mostly words, not padding.</summary>
    public const int EvaluationBatch = 64;

    /// <summary>The steps of a batch whose longest sequence has <paramref name="longest"/> positions.</summary>
    public static int Steps(int longest)
    {
        var step = longest <= 64 ? 8 : 32;
        return Math.Max(step, (longest + step - 1) / step * step);
    }

    /// <summary>The steps of the batch of <paramref name="indices"/>.</summary>
    public static int Steps(Dataset data, ReadOnlySpan<int> indices)
    {
        var longest = 0;
        foreach (var i in indices) longest = Math.Max(longest, data.LengthOf(i));
        return Steps(longest);
    }
}
