using Dlc.Diagnostics;
using Superpower.Model;

namespace Dlc.Syntax;

/// <summary>
/// The tokens of one top-level declaration: from a declaration keyword at column 1 up to the next one.
/// <see cref="Error"/> is the first mistake found before parsing (a lexical error or a line at column 1
/// that cannot continue the declaration); only the tokens before it are parsed (<see cref="Usable"/>).
/// </summary>
internal sealed record Chunk(IReadOnlyList<Token<DlToken>> Tokens, string? Doc, int Usable, Diagnostic? Error, bool IsDeclaration)
{
    /// <summary>"`model Mlp`": the keyword and, when written, the name.</summary>
    public string Title =>
        Tokens.Count > 1 && Tokens[1].Kind == DlToken.Identifier
            ? $"`{Tokens[0].ToStringValue()} {Tokens[1].ToStringValue()}`"
            : $"`{(Tokens.Count > 0 ? Tokens[0].ToStringValue() : "")}`";

    /// <summary>"the body of `model Mlp`", "the settings of `train Mlp`".</summary>
    public string Body => Tokens.Count == 0 ? Title : Tokens[0].Kind switch
    {
        DlToken.Train or DlToken.Agent => $"the settings of {Title}",
        DlToken.Import => Title,
        _ => $"the body of {Title}",
    };
}

/// <summary>
/// Splits a file into declarations at the tokens that start at column 1. Each declaration is then laid
/// out and parsed on its own, so a mistake in one never hides the mistakes in the others.
/// </summary>
internal static class Chunker
{
    public static List<Chunk> Split(SourceText source, IReadOnlyList<Token<DlToken>> tokens, IReadOnlyList<Diagnostic> lexErrors)
    {
        var groups = new List<(List<Token<DlToken>> Tokens, string? Doc, int? Misplaced, bool IsDeclaration)>();
        var prelude = new List<Token<DlToken>>();
        var doc = new List<string>();
        foreach (var token in tokens)
        {
            if (token.Kind == DlToken.DocComment)
            {
                doc.Add(DocText(token.ToStringValue()));
                continue;
            }
            var atColumnOne = token.Position.Column == 1;
            if (atColumnOne && TokenFacts.StartsDeclaration(token.Kind))
            {
                groups.Add(([token], doc.Count > 0 ? string.Join("\n", doc) : null, null, true));
                doc.Clear();
                continue;
            }
            doc.Clear();
            if (groups.Count == 0)
            {
                prelude.Add(token);
                continue;
            }
            var last = groups[^1];
            // A closing bracket may sit at column 1 (the `}` of a train record); anything else there is offside.
            if (atColumnOne && !TokenFacts.IsCloser(token.Kind) && last.Misplaced is null)
                groups[^1] = last with { Misplaced = last.Tokens.Count };
            last.Tokens.Add(token);
        }

        var chunks = new List<Chunk>();
        if (prelude.Count > 0 || (lexErrors.Count > 0 && (groups.Count == 0 || lexErrors[0].Span.Start < Start(groups[0].Tokens[0]))))
            chunks.Add(Prelude(source, prelude, FirstError(lexErrors, 0, groups.Count > 0 ? Start(groups[0].Tokens[0]) : int.MaxValue)));

        for (var i = 0; i < groups.Count; i++)
        {
            var (group, docText, misplaced, _) = groups[i];
            var end = i + 1 < groups.Count ? Start(groups[i + 1].Tokens[0]) : int.MaxValue;
            var lexError = FirstError(lexErrors, Start(group[0]), end);
            Diagnostic? error = null;
            var usable = group.Count;
            if (lexError is not null)
            {
                error = lexError;
                usable = group.Count(t => Start(t) < lexError.Span.Start);
            }
            var chunk = new Chunk(group, docText, usable, error, true);
            if (misplaced is { } index && index < usable)
                chunk = chunk with { Usable = index, Error = Misplaced(source, chunk, group[index]) };
            chunks.Add(chunk);
        }
        return chunks;
    }

    private static int Start(Token<DlToken> token) => token.Position.Absolute;

    private static Diagnostic? FirstError(IReadOnlyList<Diagnostic> errors, int start, int end) =>
        errors.Where(e => e.Span.Start >= start && e.Span.Start < end).MinBy(e => e.Span.Start);

    /// <summary>`/// text` gives "text": the slashes and one space go.</summary>
    private static string DocText(string comment)
    {
        var text = comment[3..];
        return text.StartsWith(' ') ? text[1..] : text;
    }

    private static Diagnostic Misplaced(SourceText source, Chunk chunk, Token<DlToken> token) =>
        DiagnosticCatalog.BadIndentation.At(source, TokenFacts.SpanOf(token),
            $"this line is not indented, so it cannot continue {chunk.Body}",
            chunk.Tokens[0].Kind is DlToken.Train or DlToken.Agent
                ? $"indent the fields of {chunk.Title} by four spaces"
                : chunk.Tokens[0].Kind == DlToken.Import
                    ? "a line at column 1 starts a declaration: `let`, `model`, `loss`, `train`, `agent` or `import`"
                    : $"indent {chunk.Body} by four spaces");

    /// <summary>Text before the first declaration: report its first token (or an earlier lexical error).</summary>
    private static Chunk Prelude(SourceText source, List<Token<DlToken>> tokens, Diagnostic? lexError)
    {
        Diagnostic? error = null;
        if (tokens.Count > 0)
        {
            var first = tokens[0];
            error = TokenFacts.StartsDeclaration(first.Kind)
                ? DiagnosticCatalog.BadIndentation.At(source, TokenFacts.SpanOf(first),
                    $"`{first.ToStringValue()}` must start at column 1 to begin a declaration",
                    $"remove the spaces before `{first.ToStringValue()}`")
                : DiagnosticCatalog.UnexpectedToken.At(source, TokenFacts.SpanOf(first),
                    $"unexpected {TokenFacts.Appearance(first)}, expected a declaration",
                    "a declaration starts at column 1 with `let`, `model`, `loss`, `train`, `agent` or `import`");
        }
        if (lexError is not null && (error is null || lexError.Span.Start < error.Span.Start)) error = lexError;
        return new Chunk(tokens, null, 0, error, false);
    }
}
