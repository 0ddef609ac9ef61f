using System.Numerics;

namespace Dlc.Runtime.Data;

/// <summary>
/// An in-memory labelled data set. Image data stays as raw bytes plus a scale and is turned
/// into floats only when a batch is gathered: converting 47 M pixels up front would cost more
/// start-up time and four times the memory. Tabular data is stored as floats.
/// Subsets and splits are views that share the feature storage through a row map.
/// </summary>
public sealed class Dataset
{
    private readonly byte[]? _bytes;
    private readonly float[]? _floats;
    private readonly float _scale;
    // Sample i of this view is stored at row _rows[i]; null means sample i is row i.
    private readonly int[]? _rows;
    // Per-channel (x − mean) / std after scaling, or null.
    private readonly Normalization? _normalization;
    // Sequences of different lengths padded to the sample size: each stored row's length, or null.
    private readonly int[]? _lengths;

    private Dataset(string name, byte[]? bytes, float[]? floats, float scale, int[]? rows,
        int[] sampleShape, float[] labels, int classCount, IReadOnlyList<string>? classNames, Normalization? normalization = null, int targetSize = 1,
        int[]? lengths = null, SequencePairs? pairs = null, IReadOnlyList<string>? featureNames = null)
    {
        _lengths = lengths;
        FeatureNames = featureNames;
        Pairs = pairs;
        TargetSize = targetSize;
        _normalization = normalization;
        Name = name;
        _bytes = bytes;
        _floats = floats;
        _scale = scale;
        _rows = rows;
        SampleShape = sampleShape;
        SampleSize = Product(sampleShape);
        Labels = labels;
        ClassCount = classCount;
        ClassNames = classNames;
    }

    /// <summary>Samples stored as bytes; feature value = byte × <paramref name="scale"/>.</summary>
    public static Dataset FromBytes(string name, byte[] features, float scale, int[] sampleShape,
        float[] labels, int classCount, IReadOnlyList<string>? classNames = null)
    {
        Check(features.Length, sampleShape, labels.Length, classCount, classNames);
        return new Dataset(name, features, null, scale, null, (int[])sampleShape.Clone(), labels, classCount, classNames);
    }

    /// <summary>
    /// Samples stored as bytes with <paramref name="targetSize"/> labels each, sample after sample: a sequence of
    /// token indices and the class of each position (the next token of a language model).
    /// </summary>
    public static Dataset FromByteSequences(string name, byte[] features, int[] sampleShape, float[] labels, int targetSize,
        int classCount, IReadOnlyList<string>? classNames = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(targetSize, 1);
        if (labels.Length % targetSize != 0) throw new ArgumentException($"{labels.Length} labels do not make samples of {targetSize}", nameof(labels));
        Check(features.Length, sampleShape, labels.Length / targetSize, classCount, classNames);
        return new Dataset(name, features, null, 1f, null, (int[])sampleShape.Clone(), labels, classCount, classNames, null, targetSize);
    }

    /// <summary>
    /// Sequences of different lengths (sentences), each padded to <paramref name="width"/> positions: token indices
    /// stored as floats with 0 after the end, and one label per position with <see cref="Backend.Kernels.Losses.IgnoreLabel"/>
    /// after the end. A batch is gathered with as many steps as its longest sequence needs (<see cref="GatherSequences"/>).
    /// </summary>
    public static Dataset FromPaddedSequences(string name, float[] tokens, int width, int[] lengths, float[] labels, int classCount,
        IReadOnlyList<string>? classNames = null)
    {
        if (lengths.Any(l => l < 0 || l > width)) throw new ArgumentException($"every length must be between 0 and {width}", nameof(lengths));
        Check(tokens.Length, [width], lengths.Length, classCount, classNames);
        CheckLabelCount(labels.Length, (long)lengths.Length * width);
        return new Dataset(name, null, tokens, 1f, null, [width], labels, classCount, classNames, null, width, lengths);
    }

    /// <summary>
    /// Samples stored as floats, row-major, one row per sample, with <paramref name="targetSize"/> labels each (the
    /// values a forecaster predicts).
    /// </summary>
    public static Dataset FromFloats(string name, float[] features, int[] sampleShape,
        float[] labels, int classCount, IReadOnlyList<string>? classNames = null, int targetSize = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(targetSize, 1);
        if (labels.Length % targetSize != 0) throw new ArgumentException($"{labels.Length} labels do not make samples of {targetSize}", nameof(labels));
        Check(features.Length, sampleShape, labels.Length / targetSize, classCount, classNames);
        return new Dataset(name, null, features, 1f, null, (int[])sampleShape.Clone(), labels, classCount, classNames, null, targetSize);
    }

    public string Name { get; }

    public int Count => Labels.Length / TargetSize;

    /// <summary>Labels per sample: 1, or one per position of a sequence.</summary>
    public int TargetSize { get; }

    /// <summary>Shape of one sample, e.g. [784] or [1, 28, 28].</summary>
    public int[] SampleShape { get; }

    /// <summary>Number of floats in one sample (product of <see cref="SampleShape"/>).</summary>
    public int SampleSize { get; }

    /// <summary>
    /// <see cref="TargetSize"/> values per sample, sample after sample: the class index as a float, or the regression target.
    /// </summary>
    public float[] Labels { get; }

    /// <summary>Number of classes; 0 for regression.</summary>
    public int ClassCount { get; }

    /// <summary>Human-readable class names when the source provides them.</summary>
    public IReadOnlyList<string>? ClassNames { get; }

    public bool IsClassification => ClassCount > 0;

    /// <summary>
    /// The name of each value of a sample, in the order of the values (a table's column names); null when the source
    /// does not name them.
    /// </summary>
    public IReadOnlyList<string>? FeatureNames { get; }

    /// <summary>The same samples with each value named (<see cref="FeatureNames"/>): one name per value of a sample.</summary>
    public Dataset WithFeatureNames(IReadOnlyList<string> names)
    {
        if (names.Count != SampleSize)
            throw new ArgumentException($"{names.Count} feature names for samples of {SampleSize} values", nameof(names));
        return new Dataset(Name, _bytes, _floats, _scale, _rows, SampleShape, Labels, ClassCount, ClassNames, _normalization, TargetSize, _lengths, Pairs, names);
    }

    /// <summary>Whether the samples are sequences of their own lengths, padded (<see cref="FromPaddedSequences"/>).</summary>
    public bool HasLengths => _lengths is not null;

    /// <summary>The length of sample <paramref name="index"/> of padded sequences.</summary>
    public int LengthOf(int index) =>
        _lengths is null ? throw new InvalidOperationException($"{Name} holds samples of one size, not sequences of their own lengths")
            : _lengths[_rows is null ? index : _rows[index]];

    /// <summary>
    /// Copies padded sequences into a batch of <paramref name="rows"/> sequences of <paramref name="steps"/> positions:
    /// <paramref name="x"/> [rows, steps] the tokens (0 after each end), <paramref name="y"/> [rows, steps] the labels
    /// (<see cref="Backend.Kernels.Losses.IgnoreLabel"/> after each end). Rows after the indices are padding only, so
    /// a short last batch runs in the plan of a full one and adds nothing to the loss. Allocates nothing.
    /// </summary>
    public void GatherSequences(ReadOnlySpan<int> indices, Span<float> x, Span<float> y, int steps, int rows)
    {
        if (_lengths is null || _floats is null) throw new InvalidOperationException($"{Name} holds samples of one size, not sequences of their own lengths");
        if (indices.Length > rows) throw new ArgumentException($"{indices.Length} samples do not fit a batch of {rows}", nameof(indices));
        if (x.Length < rows * steps || y.Length < rows * steps)
            throw new ArgumentException($"a batch of {rows} sequences of {steps} steps needs {rows * steps} positions", nameof(x));
        var width = SampleSize;
        for (var i = 0; i < rows; i++)
        {
            var xs = x.Slice(i * steps, steps);
            var ys = y.Slice(i * steps, steps);
            xs.Clear();
            ys.Fill(Backend.Kernels.Losses.IgnoreLabel);
            if (i >= indices.Length) continue;
            var index = indices[i];
            var row = RowOf(index);
            var length = _lengths[row];
            if (length > steps) throw new ArgumentException($"sample {index} of {Name} has {length} positions, more than the {steps} steps of the batch", nameof(steps));
            _floats.AsSpan(row * width, length).CopyTo(xs);
            Labels.AsSpan(index * width, length).CopyTo(ys);
        }
    }

    /// <summary>
    /// Samples that are pairs of sequences for a model of two inputs (a source and the decoder's input): each sample is
    /// the source's <see cref="SequencePairs.SourceLength"/> positions, then the decoder's <see cref="SequencePairs.TargetLength"/>.
    /// Null for samples of one input.
    /// </summary>
    public SequencePairs? Pairs { get; }

    /// <summary>The same samples read as pairs of sequences (<see cref="Pairs"/>).</summary>
    public Dataset WithPairs(SequencePairs pairs)
    {
        if (pairs.SourceLength + pairs.TargetLength != SampleSize || TargetSize != pairs.TargetLength)
            throw new ArgumentException($"pairs of {pairs.SourceLength} and {pairs.TargetLength} positions do not make samples of {SampleSize} with {TargetSize} labels", nameof(pairs));
        return new Dataset(Name, _bytes, _floats, _scale, _rows, SampleShape, Labels, ClassCount, ClassNames, _normalization, TargetSize, _lengths, pairs, FeatureNames);
    }

    /// <summary>
    /// Copies input <paramref name="part"/> of pairs (0 the source, 1 the decoder's input) of the samples at
    /// <paramref name="indices"/> into <paramref name="x"/>, row after row, and their labels into <paramref name="y"/>
    /// (when not empty). Allocates nothing.
    /// </summary>
    public void GatherPair(ReadOnlySpan<int> indices, int part, Span<float> x, Span<float> y)
    {
        if (Pairs is not { } pairs || _floats is null) throw new InvalidOperationException($"{Name} holds samples of one input, not pairs of sequences");
        var (offset, width) = part == 0 ? (0, pairs.SourceLength) : (pairs.SourceLength, pairs.TargetLength);
        CheckBatch(indices.Length, x, width, y.IsEmpty ? 0 : TargetSize, y);
        for (var i = 0; i < indices.Length; i++)
        {
            var index = indices[i];
            var row = RowOf(index);
            _floats.AsSpan(row * SampleSize + offset, width).CopyTo(x.Slice(i * width, width));
            if (!y.IsEmpty) Labels.AsSpan(index * TargetSize, TargetSize).CopyTo(y.Slice(i * TargetSize, TargetSize));
        }
    }

    /// <summary>The per-channel normalisation <see cref="Gather(ReadOnlySpan{int}, Span{float}, Span{float}, ImageAugmentation?)"/> applies, if any.</summary>
    public Normalization? Normalization => _normalization;

    /// <summary>
    /// The same samples, gathered as (x − mean[c]) / std[c] per channel c (the first axis of a [C, H, W] sample;
    /// one mean and std apply to every value), after scaling to [0, 1] as torchvision's Normalize after ToTensor.
    /// </summary>
    public Dataset Normalized(Normalization normalization)
    {
        // A feature vector [F] normalised feature by feature has F channels of one value each.
        var channels = SampleShape.Length >= 2 || normalization.Channels == SampleSize ? SampleShape[0] : 1;
        if (normalization.Channels != 1 && normalization.Channels != channels)
            throw new ArgumentException($"{normalization.Channels} means and deviations for samples of {channels} channels", nameof(normalization));
        return new Dataset(Name, _bytes, _floats, _scale, _rows, SampleShape, Labels, ClassCount, ClassNames, normalization, TargetSize, _lengths, Pairs, FeatureNames);
    }

    /// <summary>
    /// Copies the samples at <paramref name="indices"/> into a preallocated batch: <paramref name="x"/>
    /// receives indices.Length × SampleSize floats row-major, <paramref name="y"/> one label per sample.
    /// Allocates nothing, so the training loop can call it every step.
    /// </summary>
    public void Gather(ReadOnlySpan<int> indices, Span<float> x, Span<float> y) => Gather(indices, x, y, null);

    /// <summary>
    /// As <see cref="Gather(ReadOnlySpan{int}, Span{float}, Span{float})"/>, changing each training sample by
    /// <paramref name="augment"/> after it is scaled and before it is normalised (so crops pad with black).
    /// </summary>
    public void Gather(ReadOnlySpan<int> indices, Span<float> x, Span<float> y, ImageAugmentation? augment)
    {
        var size = SampleSize;
        CheckBatch(indices.Length, x, size, TargetSize, y);
        for (var i = 0; i < indices.Length; i++)
        {
            var index = indices[i];
            var row = RowOf(index);
            var target = x.Slice(i * size, size);
            if (_bytes is not null)
                ScaleBytes(_bytes.AsSpan(row * size, size), target, _scale);
            else
                _floats.AsSpan(row * size, size).CopyTo(target);
            augment?.Apply(target);
            _normalization?.Apply(target);
            if (TargetSize == 1) y[i] = Labels[index];
            else Labels.AsSpan(index * TargetSize, TargetSize).CopyTo(y.Slice(i * TargetSize, TargetSize));
        }
    }

    /// <summary>A view of the samples at <paramref name="indices"/>, in that order; features are shared, not copied.</summary>
    public Dataset Subset(int[] indices, string? name = null)
    {
        var rows = new int[indices.Length];
        var labels = new float[indices.Length * TargetSize];
        for (var i = 0; i < indices.Length; i++)
        {
            var index = indices[i];
            rows[i] = RowOf(index);
            Labels.AsSpan(index * TargetSize, TargetSize).CopyTo(labels.AsSpan(i * TargetSize, TargetSize));
        }
        return new Dataset(name ?? Name, _bytes, _floats, _scale, rows, SampleShape, labels, ClassCount, ClassNames, _normalization, TargetSize, _lengths, Pairs, FeatureNames);
    }

    /// <summary>
    /// Splits off a random <paramref name="validationFraction"/> of the samples (rounded to the nearest
    /// count) as validation. The choice depends only on <paramref name="seed"/>; both parts keep the
    /// original sample order so that reads stay mostly sequential.
    /// </summary>
    public (Dataset train, Dataset validation) Split(double validationFraction, ulong seed)
    {
        if (!(validationFraction >= 0 && validationFraction <= 1))
            throw new ArgumentOutOfRangeException(nameof(validationFraction), validationFraction, "must be between 0 and 1");
        var order = new int[Count];
        for (var i = 0; i < order.Length; i++) order[i] = i;
        // A stream of its own, so the split never shares draws with shuffling or initialisation.
        new Backend.Rng(seed).Fork(0x5EED_5B11).Shuffle(order);
        var validationCount = (int)Math.Round(Count * validationFraction, MidpointRounding.AwayFromZero);
        var validation = order[..validationCount];
        var train = order[validationCount..];
        Array.Sort(validation);
        Array.Sort(train);
        return (Subset(train, Name + "/train"), Subset(validation, Name + "/validation"));
    }

    /// <summary>The same samples seen with another shape of equal size, e.g. [784] as [1, 28, 28].</summary>
    public Dataset Reshape(int[] sampleShape)
    {
        if (Product(sampleShape) != SampleSize)
            throw new ArgumentException($"shape [{string.Join(", ", sampleShape)}] does not hold {SampleSize} features", nameof(sampleShape));
        return new Dataset(Name, _bytes, _floats, _scale, _rows, (int[])sampleShape.Clone(), Labels, ClassCount, ClassNames, _normalization, TargetSize, _lengths, Pairs, FeatureNames);
    }

    private static void ScaleBytes(ReadOnlySpan<byte> source, Span<float> target, float scale)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated && source.Length >= Vector<byte>.Count)
        {
            var factor = new Vector<float>(scale);
            var lanes = Vector<float>.Count;
            for (; i <= source.Length - Vector<byte>.Count; i += Vector<byte>.Count)
            {
                // byte → ushort → uint → float, four vectors of floats per vector of bytes.
                Vector.Widen(new Vector<byte>(source[i..]), out var low, out var high);
                Vector.Widen(low, out var a, out var b);
                Vector.Widen(high, out var c, out var d);
                (Vector.ConvertToSingle(a) * factor).CopyTo(target[i..]);
                (Vector.ConvertToSingle(b) * factor).CopyTo(target[(i + lanes)..]);
                (Vector.ConvertToSingle(c) * factor).CopyTo(target[(i + 2 * lanes)..]);
                (Vector.ConvertToSingle(d) * factor).CopyTo(target[(i + 3 * lanes)..]);
            }
        }
        for (; i < source.Length; i++)
            target[i] = source[i] * scale;
    }

    /// <summary>The stored row of sample <paramref name="index"/>, which must be one of this set's.</summary>
    private int RowOf(int index)
    {
        if ((uint)index >= (uint)Count)
            throw new ArgumentOutOfRangeException("indices", $"sample {index} is outside {Name} (0..{Count - 1})");
        return _rows is null ? index : _rows[index];
    }

    /// <summary>That x and y hold <paramref name="samples"/> samples of <paramref name="xWidth"/> and <paramref name="yWidth"/> floats.</summary>
    private static void CheckBatch(int samples, Span<float> x, int xWidth, int yWidth, Span<float> y)
    {
        if (x.Length < samples * xWidth)
            throw new ArgumentException($"x holds {x.Length} floats but {samples} samples need {samples * xWidth}", nameof(x));
        if (y.Length < samples * yWidth)
            throw new ArgumentException($"y holds {y.Length} floats but {samples} samples need {samples * yWidth}", nameof(y));
    }

    private static void Check(int featureCount, int[] sampleShape, int count, int classCount, IReadOnlyList<string>? classNames)
    {
        var size = Product(sampleShape);
        if ((long)size * count != featureCount)
            throw new ArgumentException($"{featureCount} features do not make {count} samples of {size}");
        if (classCount < 0)
            throw new ArgumentOutOfRangeException(nameof(classCount));
        if (classNames is not null && classNames.Count != classCount)
            throw new ArgumentException($"{classNames.Count} class names for {classCount} classes", nameof(classNames));
    }

    private static void CheckLabelCount(long actual, long expected)
    {
        if (actual != expected) throw new ArgumentException($"{actual} labels where {expected} positions need one each", "labels");
    }

    private static int Product(int[] shape)
    {
        long product = 1;
        foreach (var d in shape)
        {
            if (d <= 0) throw new ArgumentException($"sample shape [{string.Join(", ", shape)}] has a dimension that is not positive");
            product *= d;
            if (product > int.MaxValue) throw new ArgumentException($"sample shape [{string.Join(", ", shape)}] is too large");
        }
        return (int)product;
    }
}

/// <summary>
/// How a sample of pairs of sequences is laid out: <paramref name="SourceLength"/> source indices (0 padding), then
/// <paramref name="TargetLength"/> decoder inputs, which start with <paramref name="Begin"/>; a target ends with <paramref name="End"/>.
/// </summary>
public sealed record SequencePairs(int SourceLength, int TargetLength, int Begin, int End);
