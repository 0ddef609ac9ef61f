using Dlc.Compiler.Elaboration;
using Dlc.Diagnostics;
using static Dlc.Compiler.Jobs.RecordReading;

namespace Dlc.Compiler.Jobs;

/// <summary>Reads the `data` field of a train record: `fashionMnist`, `idx { ... }`, `csv { ... }`, `textCorpus { ... }`.</summary>
internal static class DataRecordReader
{
    public static DataSpec Read(Elaborator e, Value value)
    {
        var (name, settings, span) = Named(e, value, "the data set", "fashionMnist { validation = 0.1 }");
        string[] known = name switch
        {
            "fashionMnist" => ["validation"],
            "idx" => ["images", "labels", "testImages", "testLabels", "validation"],
            "csv" => ["path", "testPath", "label", "validation"],
            "textCorpus" => ["path", "sequence", "level", "validation"],
            _ => throw e.Error(DiagnosticCatalog.InvalidFieldValue, span, $"`{name}` is not a data set",
                "the data sets are `fashionMnist`, `idx { images = ...; labels = ... }`, `csv { path = ... }` and `textCorpus { path = ... }`"),
        };
        CheckFields(e, settings, known, $"`{name}`");
        string? Path(string field) => settings?.Find(field)?.Value is { } v ? Text(e, v, field) : null;
        var validation = settings?.Find("validation") is { } f ? Fraction(e, f.Value, "validation") : 0;
        var spec = name switch
        {
            "fashionMnist" => new DataSpec(DataKind.FashionMnist, span),
            "idx" => new DataSpec(DataKind.Idx, span) { Images = Path("images"), Labels = Path("labels"), TestImages = Path("testImages"), TestLabels = Path("testLabels") },
            "csv" => new DataSpec(DataKind.Csv, span) { Path = Path("path"), TestPath = Path("testPath"), LabelColumn = Path("label") },
            _ => TextCorpus(e, settings, span) with { Path = Path("path") },
        };
        if (spec.Kind == DataKind.Idx && (spec.Images is null || spec.Labels is null))
            throw e.Error(DiagnosticCatalog.MissingField, span, "`idx` needs both `images` and `labels` paths");
        if (spec.Kind is DataKind.Csv or DataKind.TextCorpus && spec.Path is null)
            throw e.Error(DiagnosticCatalog.MissingField, span, $"`{name}` needs a `path`");
        return spec with { Validation = validation };
    }

    private static DataSpec TextCorpus(Elaborator e, RecordValue? settings, Diagnostics.TextSpan span)
    {
        var level = settings?.Find("level")?.Value switch
        {
            null => "char",
            SymbolValue { Name: "char" or "word" } s => s.Name,
            var other => throw e.Error(DiagnosticCatalog.InvalidFieldValue, other.Span, $"`level` must be `char` or `word`, found {Describe(other)}"),
        };
        var sequence = settings?.Find("sequence")?.Value is { } v ? Count(e, v, "sequence", 2) : 128;
        return new DataSpec(DataKind.TextCorpus, span) { Level = level, Sequence = sequence };
    }
}
