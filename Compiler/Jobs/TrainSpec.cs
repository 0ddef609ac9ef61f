using Dlc.Diagnostics;

namespace Dlc.Compiler.Jobs;

public enum LossKind
{
    /// <summary>Softmax and cross-entropy fused, on logits and class labels (nn.CrossEntropyLoss).</summary>
    CrossEntropy,

    /// <summary>Mean squared error on outputs and targets of the same shape (nn.MSELoss).</summary>
    Mse,

    /// <summary>A `loss name (x, out) = ...` declaration of the file (<see cref="TrainSpec.LossName"/>).</summary>
    Declared,
}

public enum OptimizerKind
{
    Sgd,
    Adam,
    AdamW,
}

/// <summary>An optimiser and its settings, with torch.optim's defaults.</summary>
public sealed record OptimizerSpec(OptimizerKind Kind, double LearningRate)
{
    public double Momentum { get; init; }
    public double Dampening { get; init; }
    public bool Nesterov { get; init; }
    public double WeightDecay { get; init; }
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.999;
    public double Epsilon { get; init; } = 1e-8;

    public string Describe() => Kind switch
    {
        OptimizerKind.Sgd => $"sgd lr={LearningRate:g} momentum={Momentum:g}{(Nesterov ? " nesterov" : "")} weightDecay={WeightDecay:g}",
        _ => $"{Kind.ToString().ToLowerInvariant()} lr={LearningRate:g} betas=({Beta1:g}, {Beta2:g}) eps={Epsilon:g} weightDecay={WeightDecay:g}",
    };
}

public enum DataKind
{
    /// <summary>The built-in Fashion-MNIST set (Debian package dataset-fashion-mnist).</summary>
    FashionMnist,

    /// <summary>IDX image and label files given by path.</summary>
    Idx,

    /// <summary>A numeric CSV file given by path.</summary>
    Csv,

    /// <summary>A text file cut into sequences of character or word indices.</summary>
    TextCorpus,

    /// <summary>The built-in Brown Corpus (500 texts of American English), cut into sequences of character indices.</summary>
    BrownCorpus,

    /// <summary>NumPy .npy arrays of samples and labels given by path.</summary>
    Npy,

    /// <summary>A folder of PNG and JPEG images with one sub-folder per class, as torchvision's ImageFolder.</summary>
    ImageFolder,

    /// <summary>
    /// Generated: inputs drawn from N(0, 1) in the model's input shape and targets of zero in its output shape, so
    /// `mse` is mean(y²). A workload for `dlc bench` that reads no file.
    /// </summary>
    GaussianNoise,

    /// <summary>No data named: a distillation or fine-tuning record that takes it from elsewhere.</summary>
    None,

    /// <summary>Words of several languages' word lists (/usr/share/dict) as character indices, labelled with their language.</summary>
    WordLists,

    /// <summary>One column of a CSV series cut into windows and the values that follow them, split in time order.</summary>
    TimeSeries,

    /// <summary>
    /// Generated: dates written in many human formats (the source) and the same dates in ISO 8601 (the target), as
    /// character indices, for a sequence-to-sequence model of two inputs (the source and the decoder's input).
    /// </summary>
    Dates,
}

/// <summary>Where a job's data comes from. Paths are as written, resolved against the .dl file's folder.</summary>
public sealed record DataSpec(DataKind Kind, TextSpan Span)
{
    public string? Images { get; init; }
    public string? Labels { get; init; }
    public string? TestImages { get; init; }
    public string? TestLabels { get; init; }
    public string? Path { get; init; }
    public string? TestPath { get; init; }
    public string? LabelColumn { get; init; }

    /// <summary>Csv: a file of targets, one row per row of <see cref="Path"/> (scikit-learn's diabetes_target.csv.gz); every column of Path is then a feature.</summary>
    public string? Targets { get; init; }

    public string? TestTargets { get; init; }

    /// <summary>
    /// Csv: `features = ["mean radius"; ...]`, the names of the feature columns in the file's order (the label's left
    /// out), for a file without a header or instead of its header's; null takes the header's names, if any.
    /// </summary>
    public IReadOnlyList<string>? Features { get; init; }

    /// <summary>Where <see cref="Features"/> is written, for its diagnostics.</summary>
    public TextSpan FeaturesSpan { get; init; }

    /// <summary>Csv: `standardize = true` scales each feature to mean 0 and std 1 with the training file's statistics.</summary>
    public bool Standardize { get; init; }

    /// <summary>The fraction of the training set held out for validation (0 = none).</summary>
    public double Validation { get; init; }

    /// <summary>GaussianNoise: how many samples to draw.</summary>
    public int Samples { get; init; }

    /// <summary>TextCorpus, BrownCorpus: the length of each training sequence.</summary>
    public int Sequence { get; init; }

    /// <summary>TextCorpus, BrownCorpus: `char` or `word`.</summary>
    public string? Level { get; init; }

    /// <summary>
    /// BrownCorpus: `tags` for part-of-speech tagging (a tag per word of each sentence), `genre` for genre classification
    /// (windows of `sequence` words labelled with their text's genre); null for a language model.
    /// </summary>
    public string? Task { get; init; }

    /// <summary>BrownCorpus with `task = tags`: the tags learnt, `universal` (the 12 of Petrov et al. 2012).</summary>
    public string? Tagset { get; init; }

    /// <summary>Words: lower-cased before they are counted and looked up.</summary>
    public bool Lowercase { get; init; }

    /// <summary>Words: the fewest times a word of the training split must occur to get an index of its own.</summary>
    public int MinCount { get; init; } = 1;

    /// <summary>Words: the most indices of the vocabulary, padding and unknown included; 0 for no limit.</summary>
    public int MaxVocabulary { get; init; }

    /// <summary>A sequence-labelling task: samples are sentences of their own lengths, batches padded to the longest.</summary>
    public bool IsTagging => Task == "tags";

    /// <summary>Genre classification: windows of word indices, one genre for each.</summary>
    public bool IsGenre => Task == "genre";

    /// <summary>`normalize = { mean = [0.2860]; std = [0.3530] }`: per-channel normalisation of every sample.</summary>
    public NormalizeSpec? Normalize { get; init; }

    /// <summary>ImageFolder: `size = (28, 28)`, the height and width every image is resized to; null takes the model input's.</summary>
    public int[]? Size { get; init; }

    /// <summary>ImageFolder: 1 (grey) or 3 (RGB); 0 takes the model input's.</summary>
    public int Channels { get; init; }

    /// <summary>WordLists: the languages, the word length and the test fraction.</summary>
    public WordListSpec? WordLists { get; init; }

    /// <summary>TimeSeries: the series, its column, window, horizon and test fraction.</summary>
    public TimeSeriesSpec? Series { get; init; }

    /// <summary>Dates: how many pairs to generate and the test fraction.</summary>
    public DatesSpec? Dates { get; init; }

    /// <summary>Data whose samples are pairs of sequences, fed to a model of two inputs (a source and the decoder's input).</summary>
    public bool IsSequencePairs => Kind == DataKind.Dates;
}

/// <summary>
/// `wordLists { languages = ["english"; "german"]; length = 16; perLanguage = 20000; test = 0.1 }`: each sample is one
/// word as <see cref="Length"/> character indices, its label the index of its language in <see cref="Languages"/>.
/// </summary>
public sealed record WordListSpec(IReadOnlyList<string> Languages, int Length, TextSpan LanguagesSpan)
{
    /// <summary>Words per language at most (all languages get as many as the smallest has); null for no further cap.</summary>
    public int? PerLanguage { get; init; }

    /// <summary>The fraction of each language's words held out as the test set.</summary>
    public double Test { get; init; }
}

/// <summary>
/// `timeSeries { name = sunspots; column = "SUNACTIVITY"; window = 24; horizon = 1; test = 0.2 }` or `{ path = "x.csv"; ... }`:
/// each sample is <see cref="Window"/> consecutive values, its targets the <see cref="Horizon"/> values that follow.
/// </summary>
public sealed record TimeSeriesSpec(string? Name, string? Column, int Window, int Horizon)
{
    /// <summary>The last fraction of the windows (in time) held out as the test set.</summary>
    public double Test { get; init; }
}

/// <summary>
/// `dates { samples = 50000; test = 0.1 }`: <see cref="Samples"/> different (date, format) pairs drawn by the record's
/// seed, the first <see cref="Test"/> of them the test set.
/// </summary>
public sealed record DatesSpec(int Samples, double Test)
{
    /// <summary>Characters of a source, padded with 0: the longest format ("wednesday, september 30 1998") fits.</summary>
    public const int SourceLength = 32;

    /// <summary>Positions of the decoder: the begin token and the 10 characters of "1998-03-12" in, those and the end token out.</summary>
    public const int TargetLength = 11;
}

/// <summary>`normalize = { mean = [0.2860]; std = [0.3530] }`: one mean and std per channel, or one for all.</summary>
public sealed record NormalizeSpec(IReadOnlyList<double> Mean, IReadOnlyList<double> Std, TextSpan Span);

/// <summary>
/// `crop = { padding = 4 }` and `flip = true`: random changes to each training image (never to validation or
/// test images), drawn from the seed.
/// </summary>
public sealed record AugmentSpec
{
    /// <summary>Zero padding around the image before a random crop of its own size; 0 for no crop.</summary>
    public int CropPadding { get; init; }
    public TextSpan CropSpan { get; init; }

    /// <summary>Mirror left to right with probability one half.</summary>
    public bool Flip { get; init; }
    public TextSpan FlipSpan { get; init; }

    public string Describe() => string.Join(", ", new[] { CropPadding > 0 ? $"crop padding={CropPadding}" : null, Flip ? "flip" : null }.OfType<string>());
}

/// <summary>A `train Model { ... }` record, checked and with defaults filled in.</summary>
public sealed record TrainSpec(string Model, TextSpan ModelSpan, DataSpec Data, LossKind Loss, OptimizerSpec Optimizer, TextSpan Span)
{
    public int Epochs { get; init; } = 10;
    public int Batch { get; init; } = 64;
    public ulong Seed { get; init; }
    public IReadOnlyList<string> Metrics { get; init; } = ["accuracy"];

    /// <summary>The `loss` declaration used when <see cref="Loss"/> is <see cref="LossKind.Declared"/>.</summary>
    public string? LossName { get; init; }

    /// <summary>
    /// Label smoothing of `crossEntropy { labelSmoothing = ε }` (nn.CrossEntropyLoss(label_smoothing)): the target
    /// is 1 − ε on the label plus ε/C on every class. Training only; validation reports the plain cross-entropy.
    /// </summary>
    public double LabelSmoothing { get; init; }

    /// <summary>The loss as summaries and run settings name it: `crossEntropy labelSmoothing=0.1`, `mse`, `loss elbo`.</summary>
    public string DescribeLoss() => Loss switch
    {
        LossKind.CrossEntropy when LabelSmoothing > 0 => $"crossEntropy labelSmoothing={LabelSmoothing.ToString(System.Globalization.CultureInfo.InvariantCulture)}",
        LossKind.CrossEntropy => "crossEntropy",
        LossKind.Mse => "mse",
        _ => $"loss {LossName}",
    };

    public TopKSpec? TopK { get; init; }
    public ScheduleSpec? Schedule { get; init; }

    /// <summary>The largest norm of the gradient of all parameters, which is scaled down above it.</summary>
    public double? Clip { get; init; }

    public EarlyStoppingSpec? EarlyStopping { get; init; }

    /// <summary>`crop` and `flip`; null when the record asks for neither.</summary>
    public AugmentSpec? Augment { get; init; }

    /// <summary>A checkpoint to start from (fine-tuning) instead of fresh initialisation.</summary>
    public string? From { get; init; }

    /// <summary>Parameter-name patterns (`*` matches anything) that are not trained.</summary>
    public IReadOnlyList<FreezePattern> Freeze { get; init; } = [];

    public DistillSpec? Distill { get; init; }

    /// <summary>Set for `train name { generator = G; discriminator = D; ... }`; then <see cref="Model"/> is the job's name.</summary>
    public GanSpec? Gan { get; init; }

    /// <summary>What `dlc check` accepts in this record but the trainer cannot run yet, each at its field.</summary>
    public IReadOnlyList<PendingFeature> Pending { get; init; } = [];
}

/// <summary>A part of a record that the language has and the trainer does not run yet.</summary>
public sealed record PendingFeature(string What, TextSpan Span);

/// <summary>`metrics = [ topK 3 ]`: a sample counts as right when its label is among the k highest scores.</summary>
public sealed record TopKSpec(int K, TextSpan Span);

/// <summary>
/// `schedule = cosine { warmup = 1; minLr = 0 }`, `step { every = 3; gamma = 0.1 }`, `oneCycle { maxLr = 0.01; pctStart = 0.3 }`
/// or `constant`. The trainer sets the learning rate before every optimiser step (Runtime/Training/LearningRateSchedule.cs).
/// </summary>
public sealed record ScheduleSpec(string Kind, TextSpan Span)
{
    /// <summary>Epochs of linear warm-up from 0 to the learning rate (cosine, step, constant); a fraction counts steps (0.5 of 400 steps is 200).</summary>
    public double Warmup { get; init; }

    /// <summary>cosine: the learning rate the annealing ends at.</summary>
    public double MinLr { get; init; }

    /// <summary>step: epochs between decays.</summary>
    public int Every { get; init; } = 1;

    /// <summary>step: the factor of each decay.</summary>
    public double Gamma { get; init; } = 0.1;

    /// <summary>oneCycle: the peak learning rate; null takes the optimiser's `lr`.</summary>
    public double? MaxLr { get; init; }

    /// <summary>oneCycle: the fraction of all steps spent rising to the peak.</summary>
    public double PctStart { get; init; } = 0.3;

    /// <summary>oneCycle: the first learning rate is maxLr / divFactor.</summary>
    public double DivFactor { get; init; } = 25;

    /// <summary>oneCycle: the last learning rate is the first / finalDivFactor.</summary>
    public double FinalDivFactor { get; init; } = 1e4;

    public string Describe() => Kind switch
    {
        "cosine" => $"cosine warmup={Warmup:g} minLr={MinLr:g}",
        "step" => $"step every={Every} gamma={Gamma:g} warmup={Warmup:g}",
        "oneCycle" => $"oneCycle maxLr={MaxLr?.ToString("g") ?? "lr"} pctStart={PctStart:g} divFactor={DivFactor:g} finalDivFactor={FinalDivFactor:g}",
        _ => $"constant warmup={Warmup:g}",
    };
}

/// <summary>`earlyStopping = { patience = 3; minDelta = 0 }`: stop when the validation loss stops improving.</summary>
public sealed record EarlyStoppingSpec(int Patience, double MinDelta, TextSpan Span);

public sealed record FreezePattern(string Pattern, TextSpan Span);

/// <summary>`distill = { teacher = "run/model.safetensors" or Model; temperature = 4.0; alpha = 0.9 }` (Hinton et al.).</summary>
public sealed record DistillSpec(string? TeacherPath, string? TeacherModel, double Temperature, double Alpha, TextSpan TeacherSpan);

public sealed record GanSpec(string Generator, TextSpan GeneratorSpan, string Discriminator, TextSpan DiscriminatorSpan);
