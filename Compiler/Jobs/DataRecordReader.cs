using Dlc.Compiler.Elaboration;
using Dlc.Diagnostics;
using static Dlc.Compiler.Jobs.RecordReading;

namespace Dlc.Compiler.Jobs;

/// <summary>
/// Reads the `data` field of a train record: `fashionMnist`, `idx { ... }`, `csv { ... }`, `npy { ... }`,
/// `imageFolder { ... }`, `textCorpus { ... }`, `brownCorpus`, `wordLists { ... }`, `timeSeries { ... }`, `dates { ... }`.
/// </summary>
internal static class DataRecordReader
{
    public static DataSpec Read(Elaborator e, Value value)
    {
        var (name, settings, span) = Named(e, value, "the data set", "fashionMnist { validation = 0.1 }");
        string[] known = name switch
        {
            "fashionMnist" => ["validation", "normalize"],
            "idx" => ["images", "labels", "testImages", "testLabels", "validation", "normalize"],
            "npy" => ["images", "labels", "testImages", "testLabels", "validation", "normalize"],
            "imageFolder" => ["path", "test", "size", "channels", "validation", "normalize"],
            "csv" => ["path", "testPath", "label", "targets", "testTargets", "features", "standardize", "validation", "normalize"],
            "textCorpus" => ["path", "sequence", "level", "lowercase", "minCount", "maxVocabulary", "validation"],
            "brownCorpus" => ["sequence", "level", "task", "tagset", "lowercase", "minCount", "maxVocabulary", "validation"],
            "wordLists" => SequenceDataRecords.WordListFields,
            "timeSeries" => SequenceDataRecords.TimeSeriesFields,
            "gaussianNoise" => ["samples", "validation"],
            "dates" => SequenceDataRecords.DatesFields,
            _ => throw e.Error(DiagnosticCatalog.InvalidFieldValue, span, $"`{name}` is not a data set",
                "the data sets are `fashionMnist`, `idx { images = ...; labels = ... }`, `npy { images = ...; labels = ... }`, " +
                "`imageFolder { path = ... }`, `csv { path = ... }`, `textCorpus { path = ... }`, `brownCorpus`, " +
                "`wordLists { languages = [...] }`, `timeSeries { name = sunspots }`, `dates { samples = ... }` and `gaussianNoise { samples = ... }`"),
        };
        CheckFields(e, settings, known, $"`{name}`");
        string? Path(string field) => settings?.Find(field)?.Value is { } v ? Text(e, v, field) : null;
        var validation = settings?.Find("validation") is { } f ? Fraction(e, f.Value, "validation") : 0;
        var spec = name switch
        {
            "fashionMnist" => new DataSpec(DataKind.FashionMnist, span),
            "idx" => new DataSpec(DataKind.Idx, span) { Images = Path("images"), Labels = Path("labels"), TestImages = Path("testImages"), TestLabels = Path("testLabels") },
            "npy" => new DataSpec(DataKind.Npy, span) { Images = Path("images"), Labels = Path("labels"), TestImages = Path("testImages"), TestLabels = Path("testLabels") },
            "imageFolder" => ImageFolder(e, settings, span) with { Path = Path("path"), TestPath = Path("test") },
            "csv" => new DataSpec(DataKind.Csv, span)
            {
                Path = Path("path"),
                TestPath = Path("testPath"),
                LabelColumn = Path("label"),
                Targets = Path("targets"),
                TestTargets = Path("testTargets"),
                Standardize = settings?.Find("standardize") is { } st && e.ExpectBool(st.Value, "standardize"),
                Features = settings?.Find("features")?.Value is { } features ? FeatureNames(e, features) : null,
                FeaturesSpan = settings?.Find("features")?.Value.Span ?? default,
            },
            "brownCorpus" => Words(e, settings, TextCorpus(e, settings, span) with { Kind = DataKind.BrownCorpus }),
            "wordLists" => SequenceDataRecords.WordLists(e, settings, span),
            "timeSeries" => SequenceDataRecords.TimeSeries(e, settings, span),
            "dates" => SequenceDataRecords.Dates(e, settings, span),
            "gaussianNoise" => new DataSpec(DataKind.GaussianNoise, span)
            {
                Samples = settings?.Find("samples")?.Value is { } samples ? Count(e, samples, "samples", 1) : 1024,
            },
            _ => Words(e, settings, TextCorpus(e, settings, span) with { Path = Path("path") }),
        };
        if (spec.Kind is DataKind.Idx or DataKind.Npy && (spec.Images is null || spec.Labels is null))
            throw e.Error(DiagnosticCatalog.MissingField, span, $"`{name}` needs both `images` and `labels` paths");
        if (spec.Kind is DataKind.Npy && (spec.TestImages is null) != (spec.TestLabels is null))
            throw e.Error(DiagnosticCatalog.MissingField, span, "`npy` needs both `testImages` and `testLabels`, or neither");
        if (spec.Kind is DataKind.Csv or DataKind.TextCorpus or DataKind.ImageFolder && spec.Path is null)
            throw e.Error(DiagnosticCatalog.MissingField, span, $"`{name}` needs a `path`");
        if (spec.Kind is DataKind.Csv && spec.Targets is not null && spec.LabelColumn is not null)
            throw e.Error(DiagnosticCatalog.InvalidFieldValue, span, "`csv` takes its targets from a `label` column or from a `targets` file, not both");
        if (spec.Kind is DataKind.Csv && spec.TestPath is not null && (spec.Targets is null) != (spec.TestTargets is null))
            throw e.Error(DiagnosticCatalog.MissingField, span, "with a `targets` file, `testPath` needs its `testTargets` (and the other way round)");
        if (settings?.Find("normalize") is { } n)
        {
            if (spec.Standardize)
                throw e.Error(DiagnosticCatalog.InvalidFieldValue, n.Value.Span, "`standardize = true` already normalises every feature", "give `normalize` or `standardize`, not both");
            spec = spec with { Normalize = Normalize(e, n.Value) };
        }
        if ((spec.WordLists?.Test ?? spec.Series?.Test ?? spec.Dates?.Test ?? 0) + validation >= 1)
            throw e.Error(DiagnosticCatalog.InvalidFieldValue, span, $"`{name}` holds out `validation` and `test` that leave nothing to train on",
                "together they must be below 1, for example `validation = 0.1; test = 0.1`");
        return spec with { Validation = validation };
    }

    /// <summary>`{ mean = [0.2860]; std = [0.3530] }`: lists of one number per channel (or one for all), std above 0.</summary>
    private static NormalizeSpec Normalize(Elaborator e, Value value)
    {
        var record = Record(e, value, "normalize", "{ mean = [0.2860]; std = [0.3530] }");
        CheckFields(e, record, ["mean", "std"], "`normalize`");
        double[] Numbers(string field, bool positive)
        {
            var v = record.Find(field)?.Value ?? throw e.Error(DiagnosticCatalog.MissingField, value.Span,
                $"`normalize` needs `{field}`, one number per channel", "for example `normalize = { mean = [0.2860]; std = [0.3530] }`");
            var items = v is ListValue { Items.Count: > 0 } list ? list.Items : [v];
            return items.Select(i => positive ? Positive(e, i, field) : e.ExpectNumber(i, $"`{field}`")).ToArray();
        }
        var mean = Numbers("mean", positive: false);
        var std = Numbers("std", positive: true);
        if (mean.Length != std.Length)
            throw e.Error(DiagnosticCatalog.InvalidFieldValue, value.Span, $"`normalize` has {mean.Length} means but {std.Length} deviations",
                "give one mean and one std per channel");
        return new NormalizeSpec(mean, std, value.Span);
    }

    /// <summary>`features = ["mean radius"; "mean texture"; ...]`: one name per feature column, each given once.</summary>
    private static IReadOnlyList<string> FeatureNames(Elaborator e, Value value)
    {
        var names = new List<string>();
        foreach (var item in value is ListValue list ? list.Items : [value])
        {
            if (item is not StringValue s)
                throw e.Error(DiagnosticCatalog.InvalidFieldValue, item.Span, $"a feature's name is a string such as \"mean radius\", found {Describe(item)}",
                    "for example `features = [\"mean radius\"; \"mean texture\"]`");
            if (string.IsNullOrWhiteSpace(s.Text))
                throw e.Error(DiagnosticCatalog.InvalidFieldValue, item.Span, $"feature {names.Count + 1} has an empty name",
                    "give every feature a name, such as \"mean radius\"");
            if (names.IndexOf(s.Text) is var first and >= 0)
                throw e.Error(DiagnosticCatalog.InvalidFieldValue, item.Span, $"the feature \"{s.Text}\" is named twice (features {first + 1} and {names.Count + 1})",
                    "give every feature a name of its own");
            names.Add(s.Text);
        }
        return names;
    }

    /// <summary>`imageFolder { path; test; size = (28, 28); channels = 1 }`; size and channels default to the model input's.</summary>
    private static DataSpec ImageFolder(Elaborator e, RecordValue? settings, Diagnostics.TextSpan span)
    {
        var spec = new DataSpec(DataKind.ImageFolder, span);
        if (settings?.Find("size")?.Value is { } size)
        {
            var items = size switch { TupleValue t => t.Items, ListValue l => l.Items, _ => [size] };
            if (items.Count is not (1 or 2))
                throw e.Error(DiagnosticCatalog.InvalidFieldValue, size.Span, $"`size` is the height and width, `(28, 28)`, or one number for both; found {items.Count} numbers");
            var dims = items.Select(i => Count(e, i, "size")).ToArray();
            spec = spec with { Size = dims.Length == 1 ? [dims[0], dims[0]] : dims };
        }
        if (settings?.Find("channels")?.Value is { } channels)
        {
            var c = Count(e, channels, "channels");
            spec = c is 1 or 3 ? spec with { Channels = c }
                : throw e.Error(DiagnosticCatalog.InvalidFieldValue, channels.Span, $"`channels` must be 1 (grey) or 3 (RGB), found {c}");
        }
        return spec;
    }

    /// <summary>
    /// `task = tags; tagset = universal` (part-of-speech tagging of whole sentences), `task = genre` (windows of
    /// `sequence` words, 64 unless given, labelled with their text's genre) and the word vocabulary's `lowercase`,
    /// `minCount` and `maxVocabulary`.
    /// </summary>
    private static DataSpec Words(Elaborator e, RecordValue? settings, DataSpec spec)
    {
        string? Symbol(string field, string[] allowed)
        {
            return settings?.Find(field)?.Value switch
            {
                null => null,
                SymbolValue s when allowed.Contains(s.Name) => s.Name,
                StringValue s when allowed.Contains(s.Text) => s.Text,
                var other => throw e.Error(DiagnosticCatalog.InvalidFieldValue, other.Span,
                    $"`{field}` must be {string.Join(" or ", allowed.Select(a => $"`{a}`"))}, found {Describe(other)}"),
            };
        }
        var task = Symbol("task", ["tags", "genre"]);
        var tagset = Symbol("tagset", ["universal"]);
        if (task is null && tagset is not null)
            throw e.Error(DiagnosticCatalog.InvalidFieldValue, settings!.Find("tagset")!.NameSpan, "`tagset` chooses the tags of `task = tags`", "add `task = tags`");
        if (task == "genre")
        {
            if (settings!.Find("level") is { Value: SymbolValue { Name: "char" } or StringValue { Text: "char" } } level)
                throw e.Error(DiagnosticCatalog.InvalidFieldValue, level.Value.Span, "`task = genre` reads windows of words, so it reads the corpus as words",
                    "leave out `level`, or write `level = word`");
            spec = spec with { Task = task, Level = "word", Sequence = settings.Find("sequence") is null ? 64 : spec.Sequence };
        }
        else if (task is not null)
        {
            if (settings!.Find("level") is { Value: SymbolValue { Name: "char" } or StringValue { Text: "char" } } level)
                throw e.Error(DiagnosticCatalog.InvalidFieldValue, level.Value.Span, "`task = tags` tags words, so it reads the corpus as words",
                    "leave out `level`, or write `level = word`");
            if (settings.Find("sequence") is { } sequence)
                throw e.Error(DiagnosticCatalog.InvalidFieldValue, sequence.NameSpan,
                    "`task = tags` takes whole sentences, each of its own length (a batch is padded to its longest)", "leave out `sequence`");
            spec = spec with { Task = task, Tagset = tagset ?? "universal", Level = "word" };
        }
        if (spec.Level == "char" && (settings?.Find("minCount") ?? settings?.Find("maxVocabulary")) is { } limit)
            throw e.Error(DiagnosticCatalog.InvalidFieldValue, limit.NameSpan,
                $"`{limit.Name}` limits a vocabulary of words or tokens, but this corpus is read as characters (every character is kept)",
                "leave it out, or read words with `level = word` (or GPT-2 tokens with `level = bpe`)");
        if (settings?.Find("lowercase")?.Value is { } lower) spec = spec with { Lowercase = e.ExpectBool(lower, "lowercase") };
        if (settings?.Find("minCount")?.Value is { } min) spec = spec with { MinCount = Count(e, min, "minCount") };
        if (settings?.Find("maxVocabulary")?.Value is { } max) spec = spec with { MaxVocabulary = Count(e, max, "maxVocabulary", 3) };
        return spec;
    }

    private static DataSpec TextCorpus(Elaborator e, RecordValue? settings, Diagnostics.TextSpan span)
    {
        var level = settings?.Find("level")?.Value switch
        {
            null => "char",
            SymbolValue { Name: "char" or "word" or "bpe" } s => s.Name,
            StringValue { Text: "char" or "word" or "bpe" } s => s.Text,
            var other => throw e.Error(DiagnosticCatalog.InvalidFieldValue, other.Span, $"`level` must be `char`, `word` or `bpe`, found {Describe(other)}"),
        };
        var sequence = settings?.Find("sequence")?.Value is { } v ? Count(e, v, "sequence", 2) : 128;
        return new DataSpec(DataKind.TextCorpus, span) { Level = level, Sequence = sequence };
    }
}
