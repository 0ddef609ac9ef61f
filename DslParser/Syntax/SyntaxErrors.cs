using Dlc.Diagnostics;
using Superpower.Model;
using TextSpan = Dlc.Diagnostics.TextSpan;

namespace Dlc.Syntax;

/// <summary>
/// Turns a failed parse of one declaration into a diagnostic: the exact span of the token that did not
/// fit, a message in the language's own terms (with backticks around source text) and, where the
/// mistake is a common one, a help line.
/// </summary>
internal static class SyntaxErrors
{
    public static Diagnostic FromFailure(SourceText source, Chunk chunk, Token<DlToken>[] tokens,
        TokenListParserResult<DlToken, Declaration> result, bool lastInFile)
    {
        var expected = result.Expectations is { Length: > 0 } expectations ? TokenFacts.JoinAlternatives(expectations) : null;
        var expecting = expected is null ? "" : $", expected {expected}";
        if (result.Remainder.IsAtEnd)
        {
            var end = new TextSpan(TokenFacts.EndOf(LastReal(tokens)), 0);
            var unclosed = Unclosed(tokens, tokens.Length);
            var help = unclosed is { } open
                ? $"the `{open.ToStringValue()}` on line {open.Position.Line} is never closed"
                : lastInFile ? null : "the next line starts at column 1, so it begins a new declaration";
            return lastInFile
                ? DiagnosticCatalog.UnexpectedEnd.At(source, end, $"unexpected end of file{expecting}", help)
                : DiagnosticCatalog.UnexpectedToken.At(source, end, $"unexpected end of {chunk.Title}{expecting}", help);
        }

        var index = result.Remainder.Position;
        var token = tokens[index];
        if (IsMissingEquals(chunk, tokens, index, result.Expectations))
            return MissingEquals(source, chunk, tokens, index);
        var span = TokenFacts.IsVirtual(token.Kind) ? new TextSpan(token.Position.Absolute, 0) : TokenFacts.SpanOf(token);
        return DiagnosticCatalog.UnexpectedToken.At(source, span, $"unexpected {TokenFacts.Appearance(token)}{expecting}", Help(tokens, index));
    }

    private static Token<DlToken> LastReal(Token<DlToken>[] tokens) => tokens.Last(t => !TokenFacts.IsVirtual(t.Kind));

    private static string? Help(Token<DlToken>[] tokens, int index)
    {
        var token = tokens[index];
        if (TokenFacts.IsCloser(token.Kind) && !HasOpener(tokens, index))
            return $"this `{token.ToStringValue()}` has no `{TokenFacts.Example(TokenFacts.OpenerOf(token.Kind))}` to close";
        return token.Kind switch
        {
            DlToken.Identifier when index > 0 && tokens[index - 1].Kind == DlToken.Import =>
                $"the path of an import is a string: `import \"{token.ToStringValue()}.dl\"`",
            DlToken.Fun => "a `fun` inside a larger expression needs parentheses: `(fun x -> ...)`",
            DlToken.Let when PreviousLet(tokens, index) is { } above && above.Position.Column != token.Position.Column =>
                $"the `let`s of a body line up: the one on line {above.Position.Line} is at column {above.Position.Column}, this one at column {token.Position.Column}",
            DlToken.Model or DlToken.Train or DlToken.Loss or DlToken.Agent or DlToken.Import =>
                $"a declaration starts at column 1; `{token.ToStringValue()}` here is indented, so it is read as part of the declaration above",
            _ => null,
        };
    }

    /// <summary>The nearest `let` on an earlier line, if any.</summary>
    private static Token<DlToken>? PreviousLet(Token<DlToken>[] tokens, int index)
    {
        for (var i = index - 1; i >= 0; i--)
        {
            if (tokens[i].Kind == DlToken.Let && tokens[i].Position.Line < tokens[index].Position.Line) return tokens[i];
        }
        return null;
    }

    /// <summary>True when the parser wanted the `=` of a `let`, `model` or `loss` header, not one inside it.</summary>
    private static bool IsMissingEquals(Chunk chunk, Token<DlToken>[] tokens, int index, string[]? expectations)
    {
        if (expectations is null || !expectations.Contains("`=`")) return false;
        if (tokens[0].Kind is not (DlToken.Let or DlToken.Model or DlToken.Loss)) return false;
        var depth = 0;
        for (var i = 0; i < index; i++)
        {
            if (TokenFacts.IsOpener(tokens[i].Kind)) depth++;
            else if (TokenFacts.IsCloser(tokens[i].Kind)) depth--;
            else if (tokens[i].Kind == DlToken.Equals && depth == 0) return false;
        }
        return depth == 0 && chunk.IsDeclaration;
    }

    /// <summary>
    /// Points at the start of the line where the body seems to begin, since the parser often reads the first
    /// word of the body as one more parameter before it notices the missing `=`.
    /// </summary>
    private static Diagnostic MissingEquals(SourceText source, Chunk chunk, Token<DlToken>[] tokens, int index)
    {
        var start = index;
        while (start > 1 && tokens[start - 1].Position.Line == tokens[index].Position.Line) start--;
        var first = tokens[start];
        var message = $"expected `=` before the body of {chunk.Title}";
        if (start == 0 || first.Position.Line == tokens[0].Position.Line)
            return DiagnosticCatalog.MissingEquals.At(source, TokenFacts.SpanOf(tokens[index]), message,
                $"write `=` between the header of {chunk.Title} and its body");
        var header = tokens[start - 1];
        var line = source.GetPosition(header.Position.Absolute).Line;
        var lineStart = header.Position.Absolute - (header.Position.Column - 1);
        var text = source.Text[lineStart..TokenFacts.EndOf(header)];
        return DiagnosticCatalog.MissingEquals.At(source, TokenFacts.SpanOf(first), message,
            $"end line {line} with `=`: `{text} =`");
    }

    private static bool HasOpener(Token<DlToken>[] tokens, int index)
    {
        var wanted = TokenFacts.OpenerOf(tokens[index].Kind);
        var depth = 0;
        for (var i = index - 1; i >= 0; i--)
        {
            if (tokens[i].Kind == tokens[index].Kind) depth++;
            else if (tokens[i].Kind == wanted && depth-- == 0) return true;
        }
        return false;
    }

    /// <summary>The innermost bracket opened before <paramref name="end"/> and not closed, if any.</summary>
    private static Token<DlToken>? Unclosed(Token<DlToken>[] tokens, int end)
    {
        var open = new Stack<Token<DlToken>>();
        for (var i = 0; i < end; i++)
        {
            if (TokenFacts.IsOpener(tokens[i].Kind)) open.Push(tokens[i]);
            else if (TokenFacts.IsCloser(tokens[i].Kind) && open.Count > 0) open.Pop();
        }
        return open.Count > 0 ? open.Peek() : null;
    }
}
