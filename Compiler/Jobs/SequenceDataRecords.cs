using Dlc.Compiler.Elaboration;
using Dlc.Diagnostics;
using static Dlc.Compiler.Jobs.RecordReading;

namespace Dlc.Compiler.Jobs;

/// <summary>
/// The `data` records of word lists and time series: `wordLists { languages; length; perLanguage; test }` and
/// `timeSeries { name | path; column; window; horizon; test }`, and the generated `dates { samples; test }`. Their
/// files are read (and dates generated) by Runtime/Data.
/// </summary>
internal static class SequenceDataRecords
{
    public static readonly string[] WordListFields = ["languages", "length", "perLanguage", "test", "validation"];
    public static readonly string[] TimeSeriesFields = ["name", "path", "column", "window", "horizon", "test", "validation"];
    public static readonly string[] DatesFields = ["samples", "test", "validation"];

    /// <summary>The series `timeSeries { name = ... }` knows by name.</summary>
    public static readonly string[] SeriesNames = ["sunspots"];

    public static DataSpec WordLists(Elaborator e, RecordValue? settings, TextSpan span)
    {
        var field = settings?.Find("languages") ?? throw e.Error(DiagnosticCatalog.MissingField, span,
            "`wordLists` needs `languages`, the word lists to tell apart", "for example `wordLists { languages = [\"english\"; \"german\"; \"french\"] }`");
        var items = field.Value is ListValue list ? list.Items : [field.Value];
        var languages = new List<string>();
        foreach (var item in items)
        {
            var name = item switch
            {
                StringValue { Text.Length: > 0 } s => s.Text,
                SymbolValue s => s.Name,
                _ => throw e.Error(DiagnosticCatalog.InvalidFieldValue, item.Span, $"a language is a name such as \"german\", found {Describe(item)}"),
            };
            if (name.IndexOfAny(['/', '\\']) >= 0 || name.StartsWith('.'))
                throw e.Error(DiagnosticCatalog.InvalidFieldValue, item.Span, $"\"{name}\" is not a language: it names a word list of /usr/share/dict by its file name",
                    "for example \"german\" or \"british-english\"");
            if (languages.Contains(name))
                throw e.Error(DiagnosticCatalog.InvalidFieldValue, item.Span, $"\"{name}\" is listed twice");
            languages.Add(name);
        }
        if (languages.Count < 2)
            throw e.Error(DiagnosticCatalog.InvalidFieldValue, field.Value.Span, $"`languages` must name at least two languages to tell apart, found {languages.Count}");
        var length = settings?.Find("length")?.Value is { } l ? Count(e, l, "length") : 16;
        var perLanguage = settings?.Find("perLanguage")?.Value is { } p ? Count(e, p, "perLanguage", 2) : (int?)null;
        var test = settings?.Find("test")?.Value is { } t ? Fraction(e, t, "test") : 0;
        return new DataSpec(DataKind.WordLists, span)
        {
            WordLists = new WordListSpec(languages, length, field.Value.Span) { PerLanguage = perLanguage, Test = test },
        };
    }

    public static DataSpec TimeSeries(Elaborator e, RecordValue? settings, TextSpan span)
    {
        var nameField = settings?.Find("name");
        var name = nameField?.Value switch
        {
            null => null,
            SymbolValue s => s.Name,
            StringValue s => s.Text,
            var other => throw e.Error(DiagnosticCatalog.InvalidFieldValue, other.Span, $"`name` is a built-in series such as `sunspots`, found {Describe(other)}"),
        };
        if (name is not null && !SeriesNames.Contains(name))
            throw e.Error(DiagnosticCatalog.InvalidFieldValue, nameField!.Value.Span, $"there is no built-in series `{name}`",
                NameSuggestions.DidYouMean(name, SeriesNames) ?? $"the built-in series are {string.Join(", ", SeriesNames.Select(s => $"`{s}`"))}; give a CSV file as `path`");
        var path = settings?.Find("path")?.Value is { } pv ? Text(e, pv, "path") : null;
        if ((name is null) == (path is null))
            throw e.Error(DiagnosticCatalog.MissingField, span, name is null ? "`timeSeries` needs a `name` or a `path`" : "`timeSeries` takes a `name` or a `path`, not both",
                "for example `timeSeries { name = sunspots; window = 24 }` or `timeSeries { path = \"series.csv\"; column = \"value\" }`");
        var column = settings?.Find("column")?.Value is { } c ? Text(e, c, "column") : null;
        var window = settings?.Find("window")?.Value is { } w ? Count(e, w, "window") : 24;
        var horizon = settings?.Find("horizon")?.Value is { } h ? Count(e, h, "horizon") : 1;
        var test = settings?.Find("test")?.Value is { } t ? Fraction(e, t, "test") : 0;
        return new DataSpec(DataKind.TimeSeries, span) { Path = path, Series = new TimeSeriesSpec(name, column, window, horizon) { Test = test } };
    }

    /// <summary>`dates { samples = 50000; test = 0.1; validation = 0.1 }`: 50,000 pairs and a tenth of them as the test set unless given.</summary>
    public static DataSpec Dates(Elaborator e, RecordValue? settings, TextSpan span)
    {
        var samples = settings?.Find("samples")?.Value is { } s ? Count(e, s, "samples", 10) : 50000;
        var test = settings?.Find("test")?.Value is { } t ? Fraction(e, t, "test") : 0.1;
        return new DataSpec(DataKind.Dates, span) { Dates = new DatesSpec(samples, test) };
    }
}
