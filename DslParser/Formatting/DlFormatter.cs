using Dlc.Diagnostics;
using Dlc.Syntax;

namespace Dlc.Formatting;

/// <summary>
/// What formatting a file gave: the canonical text, or the syntax errors that stopped it, or (a bug in
/// dlc) the reason the formatted text was refused. Exactly one of the three is set.
/// </summary>
public sealed record FormatResult(string? Text, IReadOnlyList<Diagnostic> Diagnostics, string? Failure)
{
    public bool HasErrors => Diagnostics.Any(d => d.IsError);

    /// <summary>The file is already formatted.</summary>
    public bool Unchanged(SourceText source) => Text == source.Text;
}

/// <summary>
/// `dlc fmt`: the canonical text of a .dl file, with every comment kept. It never changes what a file
/// means: the result is parsed again and must give the same syntax tree and the same comments, or it is
/// refused (<see cref="FormatResult.Failure"/>) and the caller writes nothing.
/// </summary>
public static class DlFormatter
{
    public static FormatResult Format(SourceText source)
    {
        ArgumentNullException.ThrowIfNull(source);
        var parsed = DlParser.Parse(source);
        if (parsed.HasErrors) return new FormatResult(null, parsed.Diagnostics, null);
        string text;
        try
        {
            text = Formatter.Format(source, parsed.Unit);
        }
        catch (Exception e)
        {
            return new FormatResult(null, [], $"the formatter failed ({e.GetType().Name}: {e.Message})");
        }
        if (source.Text.Contains("\r\n", StringComparison.Ordinal)) text = text.Replace("\n", "\r\n", StringComparison.Ordinal);
        return Verify(source, parsed.Unit, text) is { } failure ? new FormatResult(null, [], failure) : new FormatResult(text, [], null);
    }

    /// <summary>
    /// Why <paramref name="formatted"/> may not replace <paramref name="source"/> (which must parse), or null
    /// when it means the same: the same syntax tree and the same comments in the same order.
    /// </summary>
    public static string? Verify(SourceText source, string formatted)
    {
        ArgumentNullException.ThrowIfNull(source);
        var parsed = DlParser.Parse(source);
        if (parsed.HasErrors) throw new ArgumentException($"{source.Path} does not parse", nameof(source));
        return Verify(source, parsed.Unit, formatted);
    }

    private static string? Verify(SourceText source, CompilationUnit original, string formatted)
    {
        var again = new SourceText(source.Path, formatted);
        var reparsed = DlParser.Parse(again);
        if (reparsed.HasErrors)
        {
            var first = reparsed.Diagnostics.First(d => d.IsError);
            return $"the formatted text does not parse ({first.Code} at line {again.GetPosition(first.Span.Start).Line}: {first.Message})";
        }
        if (SyntaxEquality.Difference(Normalised(original), Normalised(reparsed.Unit)) is { } difference)
            return $"the formatted text parses to a different tree (at {difference})";
        var before = CommentTexts(source);
        var after = CommentTexts(again);
        if (!before.SequenceEqual(after))
            return $"the formatted text has {after.Count} comments where the file has {before.Count}, or they differ";
        return null;
    }

    /// <summary>Doc comments lose the white space at their line ends when formatted; nothing else may change.</summary>
    private static CompilationUnit Normalised(CompilationUnit unit) =>
        unit with
        {
            Declarations = unit.Declarations
                .Select(d => d.Doc is null ? d : d with { Doc = string.Join('\n', d.Doc.Split('\n').Select(line => line.TrimEnd())) })
                .ToList(),
        };

    private static List<string> CommentTexts(SourceText source) =>
        Lexer.LexWithComments(source).Comments
            .Select(span => string.Join('\n', source.Slice(span).Split('\n').Select(line => line.TrimEnd())))
            .ToList();
}
