using System.Reflection;
using Dlc.Diagnostics;
using Superpower.Display;
using Superpower.Model;
using TextSpan = Dlc.Diagnostics.TextSpan;

namespace Dlc.Syntax;

/// <summary>What the lexer, the layout pass and the messages need to know about token kinds.</summary>
internal static class TokenFacts
{
    public static readonly IReadOnlyDictionary<string, DlToken> Keywords = new Dictionary<string, DlToken>(StringComparer.Ordinal)
    {
        ["let"] = DlToken.Let,
        ["model"] = DlToken.Model,
        ["train"] = DlToken.Train,
        ["loss"] = DlToken.Loss,
        ["agent"] = DlToken.Agent,
        ["import"] = DlToken.Import,
        ["fun"] = DlToken.Fun,
        ["of"] = DlToken.Of,
        ["true"] = DlToken.True,
        ["false"] = DlToken.False,
    };

    public static bool StartsDeclaration(DlToken kind) =>
        kind is DlToken.Let or DlToken.Model or DlToken.Train or DlToken.Loss or DlToken.Agent or DlToken.Import;

    /// <summary>Kinds that can name a record field or member: names, and keywords that open no construct.</summary>
    public static bool CanNameField(DlToken kind) =>
        kind is DlToken.Identifier or DlToken.Model or DlToken.Train or DlToken.Loss or DlToken.Agent or DlToken.Import or DlToken.Of;

    /// <summary>Operators that may begin a line and still continue the expression above (F#'s infix exception).</summary>
    public static bool IsInfix(DlToken kind) =>
        kind is DlToken.PipeRight or DlToken.Compose or DlToken.Plus or DlToken.Minus or DlToken.Star or DlToken.Slash;

    public static bool IsOpener(DlToken kind) => kind is DlToken.LParen or DlToken.LBracket or DlToken.LBrace;

    public static bool IsCloser(DlToken kind) => kind is DlToken.RParen or DlToken.RBracket or DlToken.RBrace;

    public static bool IsVirtual(DlToken kind) => kind is DlToken.Newline or DlToken.In;

    public static DlToken CloserOf(DlToken opener) => opener switch
    {
        DlToken.LParen => DlToken.RParen,
        DlToken.LBracket => DlToken.RBracket,
        _ => DlToken.RBrace,
    };

    public static DlToken OpenerOf(DlToken closer) => closer switch
    {
        DlToken.RParen => DlToken.LParen,
        DlToken.RBracket => DlToken.LBracket,
        _ => DlToken.LBrace,
    };

    public static TextSpan SpanOf(Token<DlToken> token) => new(token.Span.Position.Absolute, token.Span.Length);

    public static int EndOf(Token<DlToken> token) => token.Span.Position.Absolute + token.Span.Length;

    /// <summary>The text of a fixed token, e.g. `|>` for <see cref="DlToken.PipeRight"/>.</summary>
    public static string Example(DlToken kind) => Attribute(kind)?.Example ?? kind.ToString().ToLowerInvariant();

    /// <summary>How a kind reads after "expected": "`=`", "a name".</summary>
    public static string Expectation(DlToken kind)
    {
        var attribute = Attribute(kind);
        if (attribute?.Description is { } description) return description;
        return attribute?.Example is { } example ? $"`{example}`" : kind.ToString().ToLowerInvariant();
    }

    /// <summary>How a token reads after "unexpected": "`)`", "keyword `let`", "identifier `x`", "end of line".</summary>
    public static string Appearance(Token<DlToken> token)
    {
        if (IsVirtual(token.Kind)) return "end of line";
        var text = Clip(token.ToStringValue());
        var attribute = Attribute(token.Kind);
        return attribute?.Category is { } category ? $"{category} `{text}`" : $"`{text}`";
    }

    /// <summary>"a", "a or b", "a, b or c", without repeats.</summary>
    public static string JoinAlternatives(IEnumerable<string> items)
    {
        var list = items.Distinct().ToList();
        return list.Count switch
        {
            0 => "",
            1 => list[0],
            _ => string.Join(", ", list.Take(list.Count - 1)) + " or " + list[^1],
        };
    }

    private static string Clip(string text) => text.Length <= 24 ? text : text[..21] + "...";

    private static TokenAttribute? Attribute(DlToken kind) =>
        typeof(DlToken).GetField(kind.ToString())?.GetCustomAttribute<TokenAttribute>();

    /// <summary>A token of <paramref name="kind"/> over [start, start+length) of the source.</summary>
    public static Token<DlToken> Make(SourceText source, DlToken kind, int start, int length)
    {
        var position = source.GetPosition(start);
        return new Token<DlToken>(kind, new Superpower.Model.TextSpan(source.Text, new Position(start, position.Line, position.Column), length));
    }
}
