using Dlc.Diagnostics;
using Superpower.Model;

namespace Dlc.Syntax;

/// <summary>
/// The offside rule, as in F# light syntax: walks one declaration's tokens with a stack of open contexts and
/// inserts the virtual tokens the grammar reads in place of indentation: <see cref="DlToken.In"/> where a
/// line at a `let`'s column starts the expression the `let` scopes over, and <see cref="DlToken.Newline"/>
/// where a line at the column of the first field or item of `{ }` or `[ ]` starts the next one. Lines that
/// fit no context are reported here (DL0104), since only here is the intent of the indentation known.
/// </summary>
internal sealed class Layout
{
    private const int MaxDepth = 200;

    private enum Kind { Declaration, Sequence, Let, Fun, Paren, Block }

    /// <summary>
    /// An open context. <see cref="Column"/> is the column that matters for it: a Sequence's first token (the
    /// expression after `=` or `->`, which lines indented more than its <see cref="Anchor"/>, the column of the
    /// keyword owning it, may continue), a Let's or Fun's keyword, a Block's first field or item (0 until seen).
    /// </summary>
    private sealed class Context(Kind kind, int column)
    {
        public Kind Kind { get; } = kind;
        public int Column { get; set; } = column;
        public int Anchor { get; init; }
        public bool StartsOnOwnLine { get; init; }
        public string Owner { get; init; } = "";
        public Context? OwnerLet { get; init; }
        public DlToken Opener { get; init; }
        public bool EqualsSeen { get; set; }
        public bool ValueStarted { get; set; }
        public string Name { get; init; } = "";
        public Token<DlToken> Keyword { get; init; }
        public Token<DlToken>? NameToken { get; init; }
        public Token<DlToken>? ContinuationLine { get; set; }
    }

    private readonly SourceText _source;
    private readonly Chunk _chunk;
    private readonly List<Context> _stack = [];
    private readonly List<Token<DlToken>> _output = [];
    private (int Anchor, string Owner, Context? Let)? _pendingSequence;
    private Token<DlToken> _previous;
    private int _minusRun;

    private Layout(SourceText source, Chunk chunk)
    {
        _source = source;
        _chunk = chunk;
    }

    /// <summary>The tokens to parse (virtual ones included) and the first layout mistake, if any.</summary>
    public static (Token<DlToken>[] Tokens, Diagnostic? Error) Apply(SourceText source, Chunk chunk)
    {
        var layout = new Layout(source, chunk);
        var error = layout.Run();
        return (layout._output.ToArray(), error);
    }

    private Diagnostic? Run()
    {
        var tokens = _chunk.Tokens;
        var first = tokens[0];
        _stack.Add(new Context(Kind.Declaration, 1) { Keyword = first });
        for (var i = 0; i < _chunk.Usable; i++)
        {
            var token = tokens[i];
            if (i > 0 && Step(token) is { } error) return error;
            _output.Add(token);
            _previous = token;
            if (i == 0) continue;
            if (After(token, i + 1 < tokens.Count ? tokens[i + 1] : (Token<DlToken>?)null) is { } deep) return deep;
        }
        return _chunk.Usable == tokens.Count && _chunk.Error is null ? AtEnd() : null;
    }

    private Context Top => _stack[^1];

    /// <summary>Layout decisions made before a token is emitted: the offside checks for the first token of a line.</summary>
    private Diagnostic? Step(Token<DlToken> token)
    {
        if (TokenFacts.IsCloser(token.Kind))
        {
            var match = _stack.FindLastIndex(c => c.Kind is Kind.Paren or Kind.Block && c.Opener == TokenFacts.OpenerOf(token.Kind));
            if (match > 0) _stack.RemoveRange(match, _stack.Count - match);
            _pendingSequence = null;
            return null;
        }
        if (Top.Kind == Kind.Block && Top.Column == 0) Top.Column = token.Position.Column;
        if (token.Position.Line != _previous.Position.Line && OnNewLine(token) is { } error) return error;
        if (_pendingSequence is { } pending)
        {
            _pendingSequence = null;
            if (pending.Let is { } let) let.ValueStarted = true;
            _stack.Add(new Context(Kind.Sequence, token.Position.Column)
            {
                Anchor = pending.Anchor,
                StartsOnOwnLine = token.Position.Line != _previous.Position.Line,
                Owner = pending.Owner,
                OwnerLet = pending.Let,
            });
        }
        return null;
    }

    /// <summary>Contexts a token opens, once it is emitted.</summary>
    private Diagnostic? After(Token<DlToken> token, Token<DlToken>? next)
    {
        _minusRun = token.Kind == DlToken.Minus ? _minusRun + 1 : 0;
        switch (token.Kind)
        {
            case DlToken.Let:
                var name = next is { Kind: DlToken.Identifier } n ? n : (Token<DlToken>?)null;
                _stack.Add(new Context(Kind.Let, token.Position.Column) { Name = name?.ToStringValue() ?? "", NameToken = name, Keyword = token });
                break;
            case DlToken.Fun:
                _stack.Add(new Context(Kind.Fun, token.Position.Column) { Keyword = token });
                break;
            case DlToken.Equals when Top.Kind == Kind.Declaration && !Top.EqualsSeen && Top.Keyword.Kind is DlToken.Let or DlToken.Model or DlToken.Loss:
                Top.EqualsSeen = true;
                _pendingSequence = (1, _chunk.Body, null);
                break;
            case DlToken.Equals when Top.Kind == Kind.Let && !Top.EqualsSeen:
                Top.EqualsSeen = true;
                _pendingSequence = (Top.Column, $"the value of {LetTitle(Top)}", Top);
                break;
            case DlToken.Arrow when Top.Kind == Kind.Fun:
                var fun = Top;
                _stack.RemoveAt(_stack.Count - 1);
                _pendingSequence = (fun.Column, "the body of the `fun`", null);
                break;
            case DlToken.LParen:
                _stack.Add(new Context(Kind.Paren, 0) { Opener = token.Kind });
                break;
            case DlToken.LBracket or DlToken.LBrace:
                _stack.Add(new Context(Kind.Block, 0) { Opener = token.Kind });
                break;
        }
        // Every context is a level of recursion in the grammar; past this the input is not a program anyway.
        if (_stack.Count > MaxDepth || _minusRun > MaxDepth)
            return DiagnosticCatalog.NestedTooDeeply.At(_source, TokenFacts.SpanOf(token),
                $"this expression is nested more than {MaxDepth} levels deep", "split it into `let` definitions");
        return null;
    }

    /// <summary>The first token of a line: which open context it continues, ends or breaks.</summary>
    private Diagnostic? OnNewLine(Token<DlToken> token)
    {
        var column = token.Position.Column;
        var infix = TokenFacts.IsInfix(token.Kind);
        while (true)
        {
            var context = Top;
            switch (context.Kind)
            {
                case Kind.Declaration or Kind.Paren:
                    return null;
                case Kind.Block:
                    if (column > context.Column) return null;
                    if (column < context.Column) return Offside.FieldOutdented(this, token, context);
                    if (_previous.Kind is not (DlToken.Semicolon or DlToken.LBrace or DlToken.LBracket)) Insert(DlToken.Newline);
                    return null;
                case Kind.Fun:
                    if (column > context.Column) return null;
                    break;
                case Kind.Sequence when !context.StartsOnOwnLine:
                    if (column > context.Anchor) return Continue(context, token);
                    break;
                case Kind.Sequence:
                    if (column > context.Column || (column == context.Column && infix)) return Continue(context, token);
                    if (column == context.Column) return Offside.SameColumn(this, token, context);
                    if (column > context.Anchor) return infix ? null : Offside.BetweenAnchorAndStart(this, token, context);
                    break;
                case Kind.Let when !context.EqualsSeen:
                    if (column > context.Column) return null;
                    break;
                case Kind.Let when !context.ValueStarted:
                    return column > context.Column ? null : Offside.ValueNotIndented(this, token, context);
                case Kind.Let:
                    if (column > context.Column) return null;
                    if (column < context.Column) return Offside.BodyOutdented(this, token, context);
                    if (infix) return Offside.BodyStartsWithOperator(this, token, context);
                    Insert(DlToken.In);
                    _stack.RemoveAt(_stack.Count - 1);
                    return null;
            }
            _stack.RemoveAt(_stack.Count - 1);
        }
    }

    /// <summary>The line continues <paramref name="sequence"/>: no token to insert and nothing to report.</summary>
    private static Diagnostic? Continue(Context sequence, Token<DlToken> token)
    {
        // Remembered in case the `let` never gets a body: this line is then the likely culprit.
        if (sequence.OwnerLet is { ContinuationLine: null } let && !TokenFacts.IsInfix(token.Kind)) let.ContinuationLine = token;
        return null;
    }

    /// <summary>At the end of a declaration every `let` must have had its body.</summary>
    private Diagnostic? AtEnd()
    {
        if (_stack.Any(c => c.Kind is Kind.Paren or Kind.Block)) return null;
        var let = _stack.LastOrDefault(c => c.Kind == Kind.Let && c.EqualsSeen);
        if (let is null) return null;
        if (let.ContinuationLine is { } line) return Offside.ContinuesValue(this, line, let);
        var example = let.Name.Length > 0 ? $", e.g. `{let.Name}`" : "";
        var span = let.NameToken is { } name ? TokenFacts.SpanOf(let.Keyword).Cover(TokenFacts.SpanOf(name)) : TokenFacts.SpanOf(let.Keyword);
        return DiagnosticCatalog.MissingLetBody.At(_source, span,
            $"{LetTitle(let)} is not followed by an expression that uses it",
            $"add a line at column {let.Column}, under `let`, with the expression it scopes over{example}");
    }

    private void Insert(DlToken kind)
    {
        var end = TokenFacts.EndOf(_previous);
        _output.Add(TokenFacts.Make(_source, kind, end, 0));
    }

    private static string LetTitle(Context let) => let.Name.Length > 0 ? $"`let {let.Name}`" : "this `let`";

    /// <summary>The DL0104 messages, one per way a line can be misplaced.</summary>
    private static class Offside
    {
        private static Diagnostic At(Layout layout, Token<DlToken> token, string message, string help) =>
            DiagnosticCatalog.BadIndentation.At(layout._source, TokenFacts.SpanOf(token), message, help);

        private static string Line(Context context) => $"line {context.Keyword.Position.Line}";

        public static Diagnostic FieldOutdented(Layout layout, Token<DlToken> token, Context block)
        {
            var what = block.Opener == DlToken.LBrace ? "fields" : "items";
            return At(layout, token, $"this line is less indented than the {what} above it, which start at column {block.Column}",
                $"start it at column {block.Column}, like the {what} above, or indent it further to continue the one above");
        }

        public static Diagnostic SameColumn(Layout layout, Token<DlToken> token, Context sequence) =>
            At(layout, token, $"this line starts at the same column as {sequence.Owner}, so it cannot continue it",
                "indent it further to continue the expression above, or start it with an operator such as `|>`; " +
                "a second expression needs the line above to be a `let`");

        public static Diagnostic BetweenAnchorAndStart(Layout layout, Token<DlToken> token, Context sequence) =>
            sequence.OwnerLet is { } let
                ? At(layout, token, $"this line is less indented than {sequence.Owner}, so it neither continues the value nor starts the body of the `let`",
                    $"indent it to column {sequence.Column} to continue the value, or start it at column {let.Column} to begin the body")
                : At(layout, token, $"this line is less indented than {sequence.Owner}, which starts at column {sequence.Column}",
                    $"indent it to column {sequence.Column} or more");

        public static Diagnostic ValueNotIndented(Layout layout, Token<DlToken> token, Context let) =>
            At(layout, token, $"the value of {LetTitle(let)} must be indented more than its `let`",
                $"indent it to column {let.Column + 4}");

        public static Diagnostic BodyOutdented(Layout layout, Token<DlToken> token, Context let) =>
            At(layout, token, $"this line is less indented than {LetTitle(let)} on {Line(let)}, so it cannot be the body of that `let`",
                $"start the body of {LetTitle(let)} at column {let.Column}, under `let`");

        public static Diagnostic BodyStartsWithOperator(Layout layout, Token<DlToken> token, Context let) =>
            At(layout, token, $"this line starts at the column of {LetTitle(let)}, so it begins the body of the `let`, which cannot start with `{token.ToStringValue()}`",
                $"indent it further to continue the value of {LetTitle(let)}");

        public static Diagnostic ContinuesValue(Layout layout, Token<DlToken> token, Context let) =>
            At(layout, token, $"this line is indented more than {LetTitle(let)} on {Line(let)}, so it continues its value instead of starting its body",
                $"start the body of {LetTitle(let)} at column {let.Column}, under `let`");
    }
}
