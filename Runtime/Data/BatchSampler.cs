namespace Dlc.Runtime.Data;

/// <summary>
/// Hands out the sample indices of each batch of an epoch. With shuffling, the order of epoch e
/// depends only on the seed and e, so a run resumed at epoch e (and batch b) sees exactly the
/// batches it would have seen without the interruption. Given the samples' lengths (sentences), it
/// batches samples of similar length together, as torchtext's BucketIterator: the shuffled samples are
/// taken <see cref="BucketBatches"/> batches at a time, sorted by length and cut into batches, and the
/// full batches are shuffled, so little of a batch is padding and every batch is still a random draw.
/// </summary>
public sealed class BatchSampler
{
    /// <summary>How many batches' worth of samples are sorted by length together.</summary>
    public const int BucketBatches = 50;

    private readonly int[] _order;
    private readonly int _batch;
    private readonly bool _shuffle;
    private readonly ulong _seed;
    private readonly Func<int, int>? _lengthOf;
    private readonly int[] _keys, _batches, _scratch;

    public BatchSampler(int count, int batch, bool shuffle, bool dropLast, ulong seed, Func<int, int>? lengthOf = null)
    {
        _lengthOf = shuffle ? lengthOf : null;
        _keys = new int[_lengthOf is null ? 0 : count];
        _scratch = new int[_lengthOf is null ? 0 : count];
        _batches = new int[_lengthOf is null ? 0 : count / Math.Max(1, batch)];
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
        if (_lengthOf is not null) Bucket(epoch);
    }

    private void Bucket(int epoch)
    {
        var pool = _batch * BucketBatches;
        for (var start = 0; start < _order.Length; start += pool)
        {
            var n = Math.Min(pool, _order.Length - start);
            for (var i = 0; i < n; i++) _keys[start + i] = _lengthOf!(_order[start + i]);
            Array.Sort(_keys, _order, start, n);
        }
        // The full batches in a random order; a short last batch stays last (only the last may be short).
        for (var b = 0; b < _batches.Length; b++) _batches[b] = b;
        new Backend.Rng(_seed).Fork(0xB0C4E7).Fork((ulong)epoch).Shuffle(_batches);
        _order.CopyTo(_scratch, 0);
        for (var b = 0; b < _batches.Length; b++)
            _scratch.AsSpan(_batches[b] * _batch, _batch).CopyTo(_order.AsSpan(b * _batch, _batch));
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
