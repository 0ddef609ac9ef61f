using System.Globalization;
using System.Text.RegularExpressions;
using Dlc.Diagnostics;
using Dlc.Runtime.Data;
using Dlc.Runtime.Explain;
using Dlc.Runtime.Training;

namespace Dlc.Cli.Commands;

/// <summary>Which samples `dlc explain` explains (`--inputs test[0:16]`), and the names of their features.</summary>
internal static partial class ExplainSelection
{
    public const int DefaultCount = 16;

    /// <summary>
    /// `split`, `split[i]`, `split[from:to]` (either end may be left out), over test, validation or train. Without
    /// `--inputs`: the first 16 samples of the test split (else validation, else train), or all of it for permutation
    /// importance, which measures the model over many samples. A range outside the split is DL0407.
    /// </summary>
    public static ExplainInputs Select(JobData data, string? text, bool wholeSplit)
    {
        string split;
        int? from = null, to = null;
        if (text is null)
            split = data.Test is not null ? "test" : data.Validation is not null ? "validation" : "train";
        else
        {
            var match = RangePattern().Match(text.Trim());
            if (!match.Success)
                throw Invalid($"--inputs {text}: expected split[from:to], for example test[0:16]", "the splits are test, validation and train");
            split = match.Groups["split"].Value;
            if (match.Groups["index"].Success) (from, to) = (Int(match.Groups["index"].Value), Int(match.Groups["index"].Value) + 1);
            else
            {
                if (match.Groups["from"].Value.Length > 0) from = Int(match.Groups["from"].Value);
                if (match.Groups["to"].Value.Length > 0) to = Int(match.Groups["to"].Value);
                if (!match.Groups["colon"].Success) (from, to) = (null, null);
            }
        }
        var set = split switch
        {
            "test" => data.Test,
            "validation" => data.Validation,
            "train" => data.Train,
            _ => throw Invalid($"--inputs {text}: there is no split `{split}`",
                NameSuggestions.DidYouMean(split, ["test", "validation", "train"]) ?? "the splits are test, validation and train"),
        } ?? throw Invalid($"--inputs {text}: the data has no {split} split",
            data.Test is not null ? "use test[...]" : data.Validation is not null ? "use validation[...]" : "use train[...]");
        var first = from ?? 0;
        var last = to ?? (text is null && !wholeSplit ? Math.Min(DefaultCount, set.Count) : set.Count);
        if (first < 0 || last > set.Count || first >= last)
            throw Invalid($"--inputs {text}: the {split} split has {set.Count:N0} samples (0 to {set.Count - 1}), so [{first}:{last}] selects {(first >= last ? "nothing" : "samples it does not have")}",
                $"choose a range within [0:{set.Count}]");
        var indices = Enumerable.Range(first, last - first).ToArray();
        var values = new float[indices.Length * set.SampleSize];
        var labels = new float[indices.Length * set.TargetSize];
        set.Gather(indices, values, labels);
        return new ExplainInputs(split, first, values, labels) { TargetSize = set.TargetSize };
    }

    /// <summary>
    /// `--text "..."` (one or more): each text encoded with the characters the model was trained with (its checkpoint's
    /// vocabulary) and padded in front with index 0 to the model's <paramref name="length"/>, as the data sets pad words
    /// and as a language model's context ends at its last position. A character the model never saw, a text longer than
    /// <paramref name="length"/> or an empty one is DL0407; a model without a vocabulary DL0409.
    /// A word-level model (<paramref name="words"/>) reads the text split at blanks, each word looked up as training
    /// looked it up (lower-cased when it was; a word outside the vocabulary is &lt;unk&gt;); sentences of their own
    /// lengths (<paramref name="length"/> 0, `maskZero`) are padded at the end, to the longest text.
    /// </summary>
    public static ExplainInputs FromTexts(IReadOnlyList<string> texts, CharVocabulary? vocabulary, int length, string model, int targetSize,
        WordVocabulary? words = null)
    {
        if (vocabulary is null && words is null)
            throw new DiagnosticException(DiagnosticCatalog.MethodDoesNotFit.At(null, default,
                $"--text: `{model}` does not read characters or words (its data has no vocabulary)", "explain samples of its data with --inputs"));
        var encoded = texts.Select(text => words is not null ? EncodeWords(text, words, length, model) : EncodeCharacters(text, vocabulary!, length, model)).ToArray();
        var width = length > 0 ? length : encoded.Max(e => e.Length);
        var values = new float[texts.Count * width];
        for (var i = 0; i < encoded.Length; i++)
        {
            var start = length > 0 ? width - encoded[i].Length : 0;
            for (var t = 0; t < encoded[i].Length; t++) values[i * width + start + t] = encoded[i][t];
        }
        return new ExplainInputs("text", 0, values, new float[texts.Count * targetSize]) { TargetSize = targetSize, HasLabels = false };
    }

    private static int[] EncodeCharacters(string text, CharVocabulary vocabulary, int length, string model)
    {
        if (text.Length == 0 || (length > 0 && text.Length > length))
            throw Invalid($"--text \"{text}\": `{model}` reads 1 to {length} characters, and this text has {text.Length}", null);
        var indices = new int[text.Length];
        for (var c = 0; c < text.Length; c++)
        {
            indices[c] = vocabulary.Encode(text[c]);
            if (indices[c] == 0)
                throw Invalid($"--text \"{text}\": `{text[c]}` is not among the {vocabulary.Size - 1} characters `{model}` was trained with",
                    $"its characters are {vocabulary.Characters.Replace("\n", "\\n", StringComparison.Ordinal)}");
        }
        return indices;
    }

    private static int[] EncodeWords(string text, WordVocabulary words, int length, string model)
    {
        var split = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (split.Length == 0 || (length > 0 && split.Length > length))
            throw Invalid($"--text \"{text}\": `{model}` reads {(length > 0 ? $"1 to {length}" : "one or more")} words, and this text has {split.Length}",
                split.Length == 0 ? "write the words apart by blanks" : null);
        return split.Select(words.Encode).ToArray();
    }

    /// <summary>Names listed in full in a diagnostic; of more, the first ones and how many there are.</summary>
    private const int ListedNames = 30;

    /// <summary>
    /// `--target`: an output index (a whole number), or the name of a class among <paramref name="names"/>, the names the
    /// model's outputs have (<see cref="ClassNames"/>): exactly as written, else the one name that matches without
    /// regard to case. A name on a model whose outputs have no names, or one it does not have, is DL0407, the latter
    /// with the nearest name or the list of names. Null (no `--target`) stays null. The index is checked against the
    /// outputs where the model is known (<see cref="Explainer"/>, <see cref="TokenModel"/>).
    /// </summary>
    public static int? Target(string? text, IReadOnlyList<string>? names, string model)
    {
        if (text is null) return null;
        if (int.TryParse(text.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var index)) return index;
        if (text.Length == 0) throw Invalid("--target is empty", "give a class name or an output index");
        if (names is null || names.Count == 0)
            throw Invalid($"--target {text}: the outputs of `{model}` have no names (its data does not name its classes)",
                "give the output index, a whole number from 0");
        var exact = IndexOf(names, text, StringComparison.Ordinal);
        if (exact.Count == 1) return exact[0];
        var folded = IndexOf(names, text, StringComparison.OrdinalIgnoreCase);
        if (exact.Count == 0 && folded.Count == 1) return folded[0];
        if (exact.Count > 1 || folded.Count > 1)
        {
            var matches = exact.Count > 1 ? exact : folded;
            throw Invalid($"--target {text}: {matches.Count} outputs of `{model}` are named so ({string.Join(", ", matches.Select(i => $"{i} `{names[i]}`"))})",
                "give the output index instead");
        }
        // Any character is one edit from any other, so a character-level model lists its characters rather than guess.
        if (names.All(n => n.Length <= 1))
            throw Invalid($"--target {text}: `{model}` predicts no character `{text}`",
                $"its characters are {string.Concat(names).Replace("\n", "\\n", StringComparison.Ordinal)}, or give an output index from 0 to {names.Count - 1}");
        throw Invalid($"--target {text}: `{model}` has no class named `{text}`",
            NameSuggestions.DidYouMean(text, names) ?? $"the classes are {ListOf(names)}, or give an output index from 0 to {names.Count - 1}");
    }

    /// <summary>
    /// The names of a model's classes, for `--target`: the data's (Fashion-MNIST's classes, a CSV file's text labels or
    /// scikit-learn class names, image folders, the tags of a tagger, the genres or languages of a classifier), else,
    /// for a model that predicts the next token at each position (<paramref name="perPosition"/>), the tokens of its
    /// vocabulary: characters or words. Null when the outputs have no names (a regression, labels that are numbers).
    /// </summary>
    public static IReadOnlyList<string>? ClassNames(JobData data, bool perPosition)
    {
        if (data.Train.ClassNames is { Count: > 0 } names) return names;
        if (!perPosition) return null;
        if (data.Words is { } words) return Enumerable.Range(0, words.Size).Select(words.Decode).ToArray();
        if (data.Vocabulary is { } characters)
            return Enumerable.Range(0, characters.Size).Select(i => i == 0 ? "" : characters.Decode(i).ToString()).ToArray();
        return null;
    }

    private static List<int> IndexOf(IReadOnlyList<string> names, string name, StringComparison comparison) =>
        Enumerable.Range(0, names.Count).Where(i => names[i].Length > 0 && string.Equals(names[i], name, comparison)).ToList();

    private static string ListOf(IReadOnlyList<string> names)
    {
        var shown = names.Where(n => n.Length > 0).Take(ListedNames).Select(n => $"`{n}`").ToList();
        var total = names.Count(n => n.Length > 0);
        return total <= ListedNames ? string.Join(", ", shown) : $"{string.Join(", ", shown)} ... ({total:N0} in all)";
    }

    /// <summary>The mean of up to 10,000 training samples: the `mean` baseline.</summary>
    public static float[] MeanSample(Dataset train, int size)
    {
        var count = Math.Min(train.Count, 10_000);
        var values = new float[count * size];
        train.Gather(Enumerable.Range(0, count).ToArray(), values, new float[count]);
        return Baselines.Mean(values, size);
    }

    /// <summary>
    /// `--features a,b,...` (one name per feature), else the names the data gives its features (a CSV header, the
    /// record's `features`), else `x0`, `x1`... for a vector and `c,y,x` positions (`0:13:7`) for an image, the order
    /// of the values in the CSV and JSON files.
    /// </summary>
    public static IReadOnlyList<string> FeatureNames(string? text, int[] sample, IReadOnlyList<string>? named = null)
    {
        var size = sample.Aggregate(1, (a, b) => a * b);
        if (text is not null)
        {
            var names = text.Split(',', StringSplitOptions.TrimEntries);
            if (names.Length != size)
                throw Invalid($"--features gives {names.Length} name{(names.Length == 1 ? "" : "s")}, but each input has {size} features", null);
            if (Array.FindIndex(names, n => n.Length == 0) is var empty and >= 0)
                throw Invalid($"--features {text}: feature {empty + 1} has an empty name", "give every feature a name");
            if (names.GroupBy(n => n, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice)
                throw Invalid($"--features {text}: `{twice.Key}` names {twice.Count()} features", "give every feature a name of its own");
            return names;
        }
        if (named?.Count == size) return named;
        if (sample.Length == 1) return Enumerable.Range(0, size).Select(j => $"x{j}").ToArray();
        return Enumerable.Range(0, size).Select(j =>
        {
            var parts = new int[sample.Length];
            for (int d = sample.Length - 1, rest = j; d >= 0; d--)
            {
                parts[d] = rest % sample[d];
                rest /= sample[d];
            }
            return string.Join(":", parts);
        }).ToArray();
    }

    private static int Int(string s) =>
        int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : throw Invalid($"--inputs: `{s}` is too large", null);

    private static DiagnosticException Invalid(string message, string? help) =>
        new(DiagnosticCatalog.InvalidOption.At(null, default, message, help));

    [GeneratedRegex(@"^(?<split>[A-Za-z]+)(\[((?<index>\d+)|(?<from>\d*)(?<colon>:)(?<to>\d*))\])?$")]
    private static partial Regex RangePattern();
}
