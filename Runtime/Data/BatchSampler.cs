namespace Dlc.Runtime.Data;

/// <summary>
/// Hands out the sample indices of each batch of an epoch. With shuffling, the order of epoch e
/// depends only on the seed and e, so a run resumed at epoch e (and batch b) sees exactly the
/// batches it would have seen without the interruption.
/// </summary>
public sealed class BatchSampler
{
    private readonly int[] _order;
    private readonly int _batch;
    private readonly bool _shuffle;
    private readonly ulong _seed;

    public BatchSampler(int count, int batch, bool shuffle, bool dropLast, ulong seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batch);
        Count = count;
        _batch = batch;
        _shuffle = shuffle;
        _seed = seed;
        DropLast = dropLast;
        _order = new int[count];
        BatchesPerEpoch = dropLast ? count / batch : (count + batch - 1) / batch;
        StartEpoch(0);
    }

    public int Count { get; }

    public int BatchSize => _batch;

    public bool DropLast { get; }

    public int BatchesPerEpoch { get; }

    /// <summary>The epoch most recently started.</summary>
    public int Epoch { get; private set; }

    /// <summary>Lays out the order of <paramref name="epoch"/>; the batches of earlier epochs are gone.</summary>
    public void StartEpoch(int epoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        Epoch = epoch;
        // Always start from the identity, so the permutation never depends on the previous epoch.
        for (var i = 0; i < _order.Length; i++) _order[i] = i;
        if (_shuffle)
            new Backend.Rng(_seed).Fork((ulong)epoch).Shuffle(_order);
    }

    /// <summary>The indices of batch <paramref name="i"/> of the current epoch; only the last one may be short.</summary>
    public ReadOnlySpan<int> Batch(int i)
    {
        if ((uint)i >= (uint)BatchesPerEpoch)
            throw new ArgumentOutOfRangeException(nameof(i), i, $"an epoch has {BatchesPerEpoch} batches");
        var start = i * _batch;
        return _order.AsSpan(start, Math.Min(_batch, _order.Length - start));
    }
}
