using System.Globalization;
using Dlc.Diagnostics;
using Superpower.Model;
using TextSpan = Dlc.Diagnostics.TextSpan;

namespace Dlc.Syntax;

/// <summary>
/// Turns .dl text into tokens. Hand-written rather than a Superpower tokenizer because it must keep
/// going after a bad character (to report errors in later declarations), keep `///` doc comments,
/// nest `(* *)` comments and give each lexical mistake its own code and help.
/// </summary>
internal sealed class Lexer
{
    private readonly SourceText _source;
    private readonly string _text;
    private readonly List<Token<DlToken>> _tokens = [];
    private readonly List<Diagnostic> _errors = [];
    private readonly List<TextSpan> _comments = [];
    private int _pos;

    private Lexer(SourceText source)
    {
        _source = source;
        _text = source.Text;
    }

    public static (IReadOnlyList<Token<DlToken>> Tokens, IReadOnlyList<Diagnostic> Errors) Lex(SourceText source)
    {
        var lexer = new Lexer(source);
        lexer.Run();
        return (lexer._tokens, lexer._errors);
    }

    /// <summary>The tokens and the spans of every comment (`//`, `///` and `(* *)`), for the formatter.</summary>
    public static (IReadOnlyList<Token<DlToken>> Tokens, IReadOnlyList<TextSpan> Comments) LexWithComments(SourceText source)
    {
        var lexer = new Lexer(source);
        lexer.Run();
        return (lexer._tokens, lexer._comments);
    }

    private char Peek(int ahead = 0) => _pos + ahead < _text.Length ? _text[_pos + ahead] : '\0';

    private void Run()
    {
        while (_pos < _text.Length)
        {
            var c = _text[_pos];
            if (c is ' ' or '\t' or '\r' or '\n' or '\uFEFF') _pos++;
            else if (c == '/' && Peek(1) == '/') LineComment();
            else if (c == '(' && Peek(1) == '*') BlockComment();
            else if (char.IsLetter(c) || c == '_') Word();
            else if (char.IsAsciiDigit(c)) Number();
            else if (c == '"') String();
            else Operator(c);
        }
    }

    private void Add(DlToken kind, int start) => _tokens.Add(TokenFacts.Make(_source, kind, start, _pos - start));

    private void Error(DiagnosticDescriptor descriptor, int start, int length, string message, string? help = null) =>
        _errors.Add(descriptor.At(_source, new TextSpan(start, length), message, help));

    private int LineEnd(int from)
    {
        var end = _text.IndexOf('\n', from);
        end = end < 0 ? _text.Length : end;
        return end > from && _text[end - 1] == '\r' ? end - 1 : end;
    }

    private void LineComment()
    {
        var start = _pos;
        _pos = LineEnd(_pos);
        _comments.Add(new TextSpan(start, _pos - start));
        // `///` is documentation, kept for the next declaration; `////...` is an ordinary comment, as in F#.
        if (_pos - start >= 3 && _text[start + 2] == '/' && (_pos - start == 3 || _text[start + 3] != '/'))
            Add(DlToken.DocComment, start);
    }

    private void BlockComment()
    {
        var start = _pos;
        var depth = 0;
        while (_pos < _text.Length)
        {
            if (Peek() == '(' && Peek(1) == '*') { depth++; _pos += 2; }
            else if (Peek() == '*' && Peek(1) == ')')
            {
                depth--;
                _pos += 2;
                if (depth == 0)
                {
                    _comments.Add(new TextSpan(start, _pos - start));
                    return;
                }
            }
            else _pos++;
        }
        Error(DiagnosticCatalog.UnexpectedEnd, start, 2, "the file ends inside this `(*` comment",
            "close the comment with `*)`");
    }

    private void Word()
    {
        var start = _pos;
        while (_pos < _text.Length && (char.IsLetterOrDigit(_text[_pos]) || _text[_pos] is '_' or '\'')) _pos++;
        var kind = TokenFacts.Keywords.TryGetValue(_text[start.._pos], out var keyword) ? keyword : DlToken.Identifier;
        Add(kind, start);
    }

    private void Number()
    {
        var start = _pos;
        SkipDigits();
        if (Peek() == '.' && char.IsAsciiDigit(Peek(1))) { _pos++; SkipDigits(); }
        var exponentOk = true;
        if (Peek() is 'e' or 'E' && (char.IsAsciiDigit(Peek(1)) || (Peek(1) is '+' or '-' && char.IsAsciiDigit(Peek(2)))))
        {
            _pos += Peek(1) is '+' or '-' ? 2 : 1;
            SkipDigits();
        }
        else if (Peek() is 'e' or 'E' && !char.IsLetterOrDigit(Peek(1)) && Peek(1) != '_')
        {
            _pos += Peek(1) is '+' or '-' ? 2 : 1;
            exponentOk = false;
        }
        if (char.IsLetterOrDigit(Peek()) || Peek() is '_' or '\'')
        {
            while (char.IsLetterOrDigit(Peek()) || Peek() is '_' or '\'' or '.') _pos++;
            var text = _text[start.._pos];
            Error(DiagnosticCatalog.InvalidNumber, start, _pos - start, $"`{text}` is not a number",
                "a number is written like `256`, `0.3` or `1e-3`; put a space between a number and a name");
            return;
        }
        var written = _text[start.._pos];
        if (!exponentOk)
            Error(DiagnosticCatalog.InvalidNumber, start, _pos - start, $"the number `{written}` has no digits after its exponent",
                "write the exponent's digits, as in `1e-3`");
        else if (double.IsInfinity(double.Parse(written, NumberStyles.Float, CultureInfo.InvariantCulture)))
            Error(DiagnosticCatalog.InvalidNumber, start, _pos - start, $"the number `{written}` is too large");
        else
            Add(DlToken.Number, start);
    }

    private void SkipDigits()
    {
        while (char.IsAsciiDigit(Peek())) _pos++;
    }

    private void String()
    {
        var start = _pos++;
        var end = LineEnd(start);
        var ok = true;
        while (_pos < end && _text[_pos] != '"')
        {
            if (_text[_pos] == '\\')
            {
                var escape = _pos + 1 < end ? _text[_pos + 1] : '\0';
                if (escape is not ('"' or '\\' or 'n' or 't') && ok)
                {
                    ok = false;
                    var shown = escape == '\0' ? "\\" : $"\\{escape}";
                    Error(DiagnosticCatalog.InvalidEscape, _pos, Math.Min(2, end - _pos), $"`{shown}` is not an escape a string can contain",
                        "the escapes are `\\\"`, `\\\\`, `\\n` and `\\t`; write `\\\\` for a backslash");
                }
                _pos = Math.Min(end, _pos + 2);
            }
            else _pos++;
        }
        if (_pos >= end)
        {
            Error(DiagnosticCatalog.UnterminatedString, start, end - start, "this string has no closing `\"`",
                "add `\"` where the string ends; a string cannot span lines (write `\\n` for a line break)");
            _pos = end;
            return;
        }
        _pos++;
        if (ok) Add(DlToken.String, start);
    }

    private void Operator(char c)
    {
        var start = _pos;
        var two = (c, Peek(1)) switch
        {
            ('|', '>') => DlToken.PipeRight,
            ('>', '>') => DlToken.Compose,
            ('-', '>') => DlToken.Arrow,
            _ => DlToken.None,
        };
        if (two != DlToken.None) { _pos += 2; Add(two, start); return; }
        var one = c switch
        {
            '+' => DlToken.Plus, '-' => DlToken.Minus, '*' => DlToken.Star, '/' => DlToken.Slash,
            '=' => DlToken.Equals, ':' => DlToken.Colon, ',' => DlToken.Comma, ';' => DlToken.Semicolon,
            '.' => DlToken.Dot, '(' => DlToken.LParen, ')' => DlToken.RParen, '[' => DlToken.LBracket,
            ']' => DlToken.RBracket, '{' => DlToken.LBrace, '}' => DlToken.RBrace,
            _ => DlToken.None,
        };
        if (one != DlToken.None) { _pos++; Add(one, start); return; }
        var length = char.IsHighSurrogate(c) && char.IsLowSurrogate(Peek(1)) ? 2 : 1;
        _pos += length;
        Error(DiagnosticCatalog.InvalidCharacter, start, length, $"the character {Show(_text.Substring(start, length))} is not part of the language",
            StrayHelp(c));
    }

    private static string Show(string character)
    {
        var c = character[0];
        if (char.IsControl(c) || char.IsWhiteSpace(c) || char.IsSurrogate(c) && character.Length == 1)
            return $"U+{(int)c:X4}";
        return $"`{character}`";
    }

    private static string? StrayHelp(char c) => c switch
    {
        '|' => "did you mean `|>`?",
        '>' => "did you mean `>>` or `|>`?",
        '\u2192' => "did you mean `->`?",
        '\u201C' or '\u201D' => "strings use straight double quotes: `\"`",
        '\'' => "strings use double quotes: `\"`",
        '#' or '%' => "a comment starts with `//`",
        _ => null,
    };
}
