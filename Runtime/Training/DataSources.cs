using Dlc.Compiler.Elaboration;
using Dlc.Compiler.Jobs;
using Dlc.Diagnostics;
using Dlc.Runtime.Data;

namespace Dlc.Runtime.Training;

/// <summary>The data of a job: training, validation (held out from training) and test sets.</summary>
public sealed record JobData(Dataset Train, Dataset? Validation, Dataset? Test)
{
    /// <summary>The characters of a character-level text corpus or of word lists, by index; null for other data.</summary>
    public CharVocabulary? Vocabulary { get; init; }

    /// <summary>The words of word-level text (sentences to tag), by index; null for other data.</summary>
    public WordVocabulary? Words { get; init; }

    /// <summary>How a time series' values were scaled (its errors are reported in the series' units); null for other data.</summary>
    public SeriesScale? Scale { get; init; }

    /// <summary>The GPT-2 tokens of text read as BPE, by index; null for other data.</summary>
    public BpeVocabulary? Tokens { get; init; }

    /// <summary>What a language model predicts at each position (characters, words); null for data that is not text to continue.</summary>
    public TokenUnit? TokenUnit { get; init; }
}

/// <summary>The tokens a language model reads and predicts, which its losses are per.</summary>
public enum TokenUnit
{
    Character,
    Word,

    /// <summary>Subword tokens of a byte-pair encoding (GPT-2's).</summary>
    Token,
}

/// <summary>Loads the data a train record names and checks it fits the model's input and loss.</summary>
public static class DataSources
{
    /// <param name="vocabulary">For text: the characters a trained model was trained with (from its checkpoint),
    /// rather than those of the training split.</param>
    /// <param name="words">For words: the vocabulary a trained model was trained with (from its checkpoint).</param>
    /// <param name="output">The model's result shape (for generated data, whose targets take it).</param>
    public static JobData Load(SourceText source, DataSpec spec, ModelInput input, LossKind loss, ulong seed, CharVocabulary? vocabulary = null,
        WordVocabulary? words = null, Compiler.Ir.Shape? output = null, BpeVocabulary? tokens = null)
    {
        var baseDir = Path.GetDirectoryName(Path.GetFullPath(source.Path)) ?? ".";
        string Resolve(string path) => Path.IsPathRooted(path) ? path : Path.Combine(baseDir, path);
        var sample = input.Shape.Dims.Skip(1).Select(d => d.Size).ToArray();
        try
        {
            if (spec.IsTagging) return TagData.Load(spec, seed, words);
            if (spec.Kind is DataKind.Dates) return DateData.Load(spec, seed);
            if (spec.IsGenre) return GenreData.Load(spec, seed, words);
            if (spec.Kind is DataKind.BrownCorpus or DataKind.TextCorpus && spec.Level == "bpe") return BpeLmData.Load(spec, Resolve, seed, tokens);
            if (spec.Kind is DataKind.BrownCorpus or DataKind.TextCorpus && spec.Level == "word") return WordLmData.Load(spec, Resolve, seed, words);
            if (spec.Kind is DataKind.BrownCorpus or DataKind.TextCorpus) return TextData.Load(spec, Resolve, seed, vocabulary);
            if (spec.Kind is DataKind.WordLists or DataKind.TimeSeries)
            {
                var data = FitAll(source, spec, input, spec.Kind == DataKind.WordLists ? WordListData.Load(spec, seed, vocabulary) : SeriesData.Load(spec, Resolve));
                CheckLabels(source, spec, loss, data.Train);
                return data;
            }
            if (spec.Kind is DataKind.GaussianNoise) return Noise(source, spec, input, output, loss, seed);
            (Dataset Train, Dataset? Test) sets = spec.Kind switch
            {
                DataKind.FashionMnist => (
                    FashionMnist.Load("train", channelFirst: sample.Length == 3, cacheDirectory: DataCache),
                    FashionMnist.Load("test", channelFirst: sample.Length == 3, cacheDirectory: DataCache)),
                DataKind.Idx => (
                    Idx(Resolve(spec.Images!), Resolve(spec.Labels!), sample.Length == 3),
                    spec.TestImages is null || spec.TestLabels is null ? null : Idx(Resolve(spec.TestImages), Resolve(spec.TestLabels), sample.Length == 3)),
                DataKind.ImageFolder => ImageFolders(source, spec, input, Resolve),
                DataKind.Npy => (
                    NpyDataset.Load(Resolve(spec.Images!), Resolve(spec.Labels!), loss == LossKind.CrossEntropy, sample),
                    spec.TestImages is null || spec.TestLabels is null ? null
                        : NpyDataset.Load(Resolve(spec.TestImages), Resolve(spec.TestLabels), loss == LossKind.CrossEntropy, sample)),
                _ => (
                    Csv(source, spec, Resolve(spec.Path!), spec.Targets is null ? null : Resolve(spec.Targets), loss),
                    spec.TestPath is null ? null : Csv(source, spec, Resolve(spec.TestPath), spec.TestTargets is null ? null : Resolve(spec.TestTargets), loss)),
            };
            if (spec.Standardize) sets = Standardized(sets.Train, sets.Test);
            var train = Normalize(source, spec, Fit(source, spec, input, sets.Train));
            var test = sets.Test is null ? null : Normalize(source, spec, Fit(source, spec, input, sets.Test));
            CheckLabels(source, spec, loss, train);
            if (spec.Validation > 0)
            {
                var (rest, validation) = train.Split(spec.Validation, seed);
                return new JobData(rest, validation, test);
            }
            return new JobData(train, null, test);
        }
        catch (DataException ex)
        {
            // Point at the `data` field that named the file, so the user sees which line to change.
            throw new DiagnosticException(DataDiagnostics.From(ex) with { Source = source, Span = spec.Span });
        }
    }

    /// <summary>
    /// The training and test image folders, at the size and channels the record gives or else the model input's
    /// [C, H, W]; the test folder's classes are the training folder's.
    /// </summary>
    private static (Dataset, Dataset?) ImageFolders(SourceText source, DataSpec spec, ModelInput input, Func<string, string> resolve)
    {
        var sample = input.Shape.Dims.Skip(1).Select(d => d.Size).ToArray();
        var image = sample.Length == 3;
        if (spec.Size is null && !image)
            throw new DiagnosticException(DiagnosticCatalog.DataShapeMismatch.At(source, spec.Span,
                $"`imageFolder` makes images, but `{input.Name}` is {input.Shape}, so their size is not known",
                "give it: `imageFolder { path = ...; size = (28, 28); channels = 1 }`, or declare the input as Tensor[N, C, H, W]"));
        var channels = spec.Channels > 0 ? spec.Channels : image ? sample[0] : 1;
        var (height, width) = spec.Size is { } size ? (size[0], size[1]) : (sample[1], sample[2]);
        if (channels is not (1 or 3))
            throw new DiagnosticException(DiagnosticCatalog.DataShapeMismatch.At(source, spec.Span,
                $"`imageFolder` makes grey (1 channel) or RGB (3 channel) images, but `{input.Name}` is {input.Shape}",
                "declare the input with 1 or 3 channels"));
        var train = ImageFolder.Load(resolve(spec.Path!), channels, height, width);
        var test = spec.TestPath is null ? null : ImageFolder.Load(resolve(spec.TestPath), channels, height, width, train.ClassNames);
        return (train, test);
    }

    /// <summary>IDX images scaled to [0, 1]; the classes are the labels seen (0 to the largest).</summary>
    private static Dataset Idx(string images, string labels, bool channelFirst)
    {
        var classes = IdxReader.ReadLabels(labels).DefaultIfEmpty().Max() + 1;
        return IdxReader.LoadDataset(images, labels, Path.GetFileName(images), classes, 1f / 255, channelFirst: channelFirst);
    }

    /// <summary>
    /// Inflated copies of the built-in data sets in the user's cache (~/.cache/dlc/data): inflating the
    /// 26 MB of gzip takes longer than everything else before the first training step. Best effort: an
    /// unwritable cache only costs that time again.
    /// </summary>
    private static string? DataCache => Backend.Gemm.GemmTuningCache.UserFolder is { } folder ? Path.Combine(folder, "data") : null;

    /// <summary>
    /// A CSV file of the record, its features named by the record's `features` (one name per feature column: DL0402 at
    /// the list otherwise), else by the file's header, if it has one.
    /// </summary>
    private static Dataset Csv(SourceText source, DataSpec spec, string path, string? targets, LossKind loss)
    {
        var data = CsvReader.Load(path, new CsvOptions
        {
            LabelColumn = spec.LabelColumn is null ? CsvColumn.Last : (CsvColumn)spec.LabelColumn,
            Classification = loss == LossKind.CrossEntropy,
            TargetsPath = targets,
            NamesGiven = spec.Features is not null,
        });
        if (spec.Features is not { } names) return data;
        if (names.Count != data.SampleSize)
            throw new DiagnosticException(DiagnosticCatalog.InvalidFieldValue.At(source, spec.FeaturesSpan,
                $"`features` names {names.Count} feature{(names.Count == 1 ? "" : "s")}, but each row of {Path.GetFileName(path)} has {data.SampleSize} besides its {(targets is null ? "label" : "target")}",
                "give one name per feature column, in the file's order"));
        return data.WithFeatureNames(names);
    }

    /// <summary>
    /// Each feature of a table to mean 0 and std 1, with the training file's statistics applied to both files (as
    /// scikit-learn's StandardScaler fitted on the training data). A constant feature keeps std 1.
    /// </summary>
    private static (Dataset, Dataset?) Standardized(Dataset train, Dataset? test)
    {
        var size = train.SampleSize;
        var values = new float[train.Count * size];
        train.Gather(Enumerable.Range(0, train.Count).ToArray(), values, new float[train.Count]);
        var mean = new double[size];
        var std = new double[size];
        for (var j = 0; j < size; j++)
        {
            double sum = 0, squares = 0;
            for (var i = 0; i < train.Count; i++)
            {
                double v = values[i * size + j];
                sum += v;
                squares += v * v;
            }
            mean[j] = sum / train.Count;
            var variance = squares / train.Count - mean[j] * mean[j];
            std[j] = variance > 1e-12 ? Math.Sqrt(variance) : 1;
        }
        var normalization = new Normalization(mean, std);
        return (train.Normalized(normalization), test?.Normalized(normalization));
    }

    /// <summary>Every split of <paramref name="data"/> fitted to the model's input, as <see cref="Fit"/>.</summary>
    private static JobData FitAll(SourceText source, DataSpec spec, ModelInput input, JobData data) => data with
    {
        Train = Fit(source, spec, input, data.Train),
        Validation = data.Validation is null ? null : Fit(source, spec, input, data.Validation),
        Test = data.Test is null ? null : Fit(source, spec, input, data.Test),
    };

    /// <summary>Reshape samples to the model's input when the sizes agree (784 ↔ 1×28×28); otherwise a diagnostic.</summary>
    /// <summary>
    /// `gaussianNoise`: inputs drawn from N(0, 1) by the seed, targets of zero in the model's output shape, so `mse` is
    /// mean(y²) (what a benchmark of a layer's forward and backward pass computes). Class labels would need classes.
    /// </summary>
    private static JobData Noise(SourceText source, DataSpec spec, ModelInput input, Compiler.Ir.Shape? output, LossKind loss, ulong seed)
    {
        if (loss != LossKind.Mse || output is null || output.Dims.Skip(1).Any(d => d.IsSymbolic) || input.Shape.Dims.Skip(1).Any(d => d.IsSymbolic))
            throw new DiagnosticException(DiagnosticCatalog.LossTargetMismatch.At(source, spec.Span,
                $"`gaussianNoise` makes inputs of a fixed shape and zero targets for `loss = mse`, but `{input.Name}` is {input.Shape} with `{(loss == LossKind.Mse ? "mse" : "crossEntropy")}`",
                "give the input and result fixed sizes after N, e.g. Tensor[N, 64, 128], and `loss = mse`"));
        var sample = input.Shape.Dims.Skip(1).Select(d => d.Size).ToArray();
        var targets = output.Dims.Skip(1).Aggregate(1, (a, d) => a * d.Size);
        var features = new float[spec.Samples * sample.Aggregate(1, (a, b) => a * b)];
        new Backend.Rng(seed).FillNormal(features, 0, 1);
        var data = Dataset.FromFloats("gaussianNoise", features, sample, new float[spec.Samples * targets], 0, targetSize: targets);
        if (spec.Validation <= 0) return new JobData(data, null, null);
        var (rest, validation) = data.Split(spec.Validation, seed);
        return new JobData(rest, validation, null);
    }

    private static Dataset Fit(SourceText source, DataSpec spec, ModelInput input, Dataset data)
    {
        var sample = input.Shape.Dims.Skip(1).Select(d => d.Size).ToArray();
        if (data.SampleShape.SequenceEqual(sample)) return data;
        if (data.SampleSize == sample.Aggregate(1, (a, b) => a * b)) return data.Reshape(sample);
        throw new DiagnosticException(DiagnosticCatalog.DataShapeMismatch.At(source, spec.Span,
            $"the samples of `{data.Name}` are [{string.Join(", ", data.SampleShape)}], but the input `{input.Name}` is {input.Shape}",
            $"declare the input as Tensor[N, {string.Join(", ", data.SampleShape)}] or choose data that fits"));
    }

    /// <summary>The record's `normalize`, checked against the samples' channels (the first axis of [C, H, W]).</summary>
    private static Dataset Normalize(SourceText source, DataSpec spec, Dataset data)
    {
        if (spec.Normalize is not { } n) return data;
        var channels = data.SampleShape.Length >= 2 ? data.SampleShape[0] : 1;
        if (n.Mean.Count != 1 && n.Mean.Count != channels)
            throw new DiagnosticException(DiagnosticCatalog.DataShapeMismatch.At(source, n.Span,
                $"`normalize` gives {n.Mean.Count} means and deviations, but the samples of `{data.Name}` have {channels} channel{(channels == 1 ? "" : "s")} ([{string.Join(", ", data.SampleShape)}])",
                "give one mean and one std per channel, or one of each for all"));
        return data.Normalized(new Normalization(n.Mean, n.Std));
    }

    private static void CheckLabels(SourceText source, DataSpec spec, LossKind loss, Dataset data)
    {
        if (loss == LossKind.CrossEntropy && !data.IsClassification)
            throw new DiagnosticException(DiagnosticCatalog.LossTargetMismatch.At(source, spec.Span,
                $"`crossEntropy` needs class labels, but `{data.Name}` has continuous targets", "use `loss = mse` for regression"));
    }
}

/// <summary>Turns data errors into diagnostics with the file's path as their location.</summary>
public static class DataDiagnostics
{
    public static Diagnostic From(DataException ex)
    {
        var descriptor = DiagnosticCatalog.All.FirstOrDefault(d => d.Code == ex.Code) ?? DiagnosticCatalog.MalformedData;
        return descriptor.At(null, default, ex.Message, ex.Help);
    }
}
