using System.Globalization;
using System.Text;
using Superpower;
using Superpower.Model;
using Superpower.Parsers;
using TextSpan = Dlc.Diagnostics.TextSpan;

namespace Dlc.Syntax;

/// <summary>
/// The grammar of one declaration, over the tokens of <see cref="Lexer"/> with the virtual tokens of
/// <see cref="Layout"/>. Rules are fields, leaves first; recursion goes through <see cref="Parse.Ref{TKind,T}"/>.
/// Binary operators are a ladder from the tightest (`*`) to the loosest (`|>`).
/// </summary>
internal static class DlGrammar
{
    private static TokenListParser<DlToken, Token<DlToken>> T(DlToken kind) => Token.EqualTo(kind);

    private static TextSpan S(Token<DlToken> token) => TokenFacts.SpanOf(token);

    // Forward references: the fields they name are set further down, before any parse runs.
    private static readonly TokenListParser<DlToken, Expr> ExpressionRef = Parse.Ref(() => Expression!);
    private static readonly TokenListParser<DlToken, Expr> ItemRef = Parse.Ref(() => Item!);

    // ---- names, literals, types ---------------------------------------------------------------

    private static readonly TokenListParser<DlToken, Identifier> Name =
        T(DlToken.Identifier).Select(t => new Identifier(t.ToStringValue(), S(t)));

    // Fields and members may be named by the declaration keywords, as in `loss = crossEntropy`.
    private static readonly TokenListParser<DlToken, Identifier> FieldName =
        Token.Matching<DlToken>(TokenFacts.CanNameField, "a name").Select(t => new Identifier(t.ToStringValue(), S(t)));

    private static readonly TokenListParser<DlToken, Expr> Literal =
        T(DlToken.Number).Select(t => (Expr)MakeNumber(t))
            .Or(T(DlToken.String).Select(t => (Expr)new StringLit(Unescape(t.ToStringValue()), S(t))))
            .Or(T(DlToken.True).Select(t => (Expr)new BoolLit(true, S(t))))
            .Or(T(DlToken.False).Select(t => (Expr)new BoolLit(false, S(t))));

    private static readonly TokenListParser<DlToken, DimSyntax> Dimension =
        T(DlToken.Number).Where(IsDimension).Select(t => (DimSyntax)new DimConst(int.Parse(t.ToStringValue(), CultureInfo.InvariantCulture), S(t)))
            .Or(Name.Select(n => (DimSyntax)new DimVar(n.Name, n.Span)))
            .Named("a dimension such as `784` or `N`");

    private static readonly TokenListParser<DlToken, TypeSyntax> TensorTypeSyntax =
        from tensor in Parse.Sequence(Token.EqualToValue(DlToken.Identifier, "Tensor"), T(DlToken.LBracket)).Try()
        from dims in Dimension.AtLeastOnceDelimitedBy(T(DlToken.Comma))
        from close in T(DlToken.RBracket)
        from element in T(DlToken.Of).IgnoreThen(Name).Select(n => (Identifier?)n).OptionalOrDefault()
        select (TypeSyntax)new TensorType(dims, element, S(tensor.Item1).Cover(element?.Span ?? S(close)));

    private static readonly TokenListParser<DlToken, TypeSyntax> Type =
        TensorTypeSyntax.Or(Name.Select(n => (TypeSyntax)new NamedType(n, n.Span))).Named("a type");

    private static readonly TokenListParser<DlToken, TypeSyntax?> Annotation =
        T(DlToken.Colon).IgnoreThen(Type).Select(t => (TypeSyntax?)t).OptionalOrDefault();

    // `(x: T)` is a typed parameter, `(a, b)` a tuple pattern.
    private static readonly TokenListParser<DlToken, Parameter> ParenParameter =
        from open in T(DlToken.LParen)
        from first in Name
        from type in Annotation
        from others in type is null ? T(DlToken.Comma).IgnoreThen(Name).Many() : Parse.Return<DlToken, Identifier[]>([])
        from close in T(DlToken.RParen)
        select MakeParameter(first, type, others, S(open).Cover(S(close)));

    private static readonly TokenListParser<DlToken, Parameter> Param =
        Name.Select(n => new Parameter(n, null, n.Span)).Or(ParenParameter).Named("a parameter");

    // ---- atoms ---------------------------------------------------------------------------------

    private static readonly TokenListParser<DlToken, FieldInit> Field =
        from name in FieldName
        from eq in T(DlToken.Equals)
        from value in ItemRef
        select new FieldInit(name, value, name.Span.Cover(value.Span));

    // Fields and items end at `;` or at a virtual new line; one after the last is allowed.
    private static readonly TokenListParser<DlToken, Token<DlToken>?> Separator =
        T(DlToken.Semicolon).Or(T(DlToken.Newline)).Optional();

    private static readonly TokenListParser<DlToken, RecordExpr> Record =
        from open in T(DlToken.LBrace)
        from fields in (from field in Field from separator in Separator select field).Many()
        from close in T(DlToken.RBrace)
        select new RecordExpr(fields, S(open).Cover(S(close)));

    private static readonly TokenListParser<DlToken, Expr> List =
        from open in T(DlToken.LBracket)
        from items in (from item in ItemRef from separator in Separator select item).Many()
        from close in T(DlToken.RBracket)
        select (Expr)new ListExpr(items, S(open).Cover(S(close)));

    // `(name = ...` starts named arguments, anything else in parentheses is a group. Peeking two tokens
    // without consuming (and without expectations) keeps the group's error messages as they are.
    private static readonly TokenListParser<DlToken, Unit> NamedArgumentsAhead = input =>
    {
        var first = input.ConsumeToken();
        var second = first.HasValue ? first.Remainder.ConsumeToken() : first;
        return first.HasValue && TokenFacts.CanNameField(first.Value.Kind) && second.HasValue && second.Value.Kind == DlToken.Equals
            ? TokenListParserResult.Value(Unit.Value, input, input)
            : TokenListParserResult.Empty<DlToken, Unit>(input);
    };

    private static readonly TokenListParser<DlToken, Func<Token<DlToken>, Expr>> NamedArgumentsRest =
        from ahead in NamedArgumentsAhead
        from arguments in Field.AtLeastOnceDelimitedBy(T(DlToken.Comma))
        from close in T(DlToken.RParen)
        select (Func<Token<DlToken>, Expr>)(open => new NamedArgsExpr(arguments, S(open).Cover(S(close))));

    private static readonly TokenListParser<DlToken, Func<Token<DlToken>, Expr>> GroupRest =
        from inner in ExpressionRef
        from close in T(DlToken.RParen)
        select (Func<Token<DlToken>, Expr>)(open => new ParenExpr(inner, S(open).Cover(S(close))));

    private static readonly TokenListParser<DlToken, Expr> Parenthesised =
        from open in T(DlToken.LParen)
        from rest in NamedArgumentsRest.Or(GroupRest)
        select rest(open);

    private static readonly TokenListParser<DlToken, Expr> Atom =
        Literal
            .Or(Name.Select(n => (Expr)new NameExpr(n, n.Span)))
            .Or(Parenthesised)
            .Or(Record.Select(r => (Expr)r))
            .Or(List);

    // ---- operators, loosest last ----------------------------------------------------------------

    private static readonly TokenListParser<DlToken, Expr> Postfix =
        from target in Atom
        from members in T(DlToken.Dot).IgnoreThen(FieldName).Many()
        select members.Aggregate(target, (t, m) => (Expr)new MemberExpr(t, m, t.Span.Cover(m.Span)));

    private static readonly TokenListParser<DlToken, Expr> Application =
        from function in Postfix
        from arguments in Postfix.Many()
        select arguments.Aggregate(function, (f, a) => (Expr)new ApplyExpr(f, a, f.Span.Cover(a.Span)));

    private static readonly TokenListParser<DlToken, Expr> Unary =
        (from minus in T(DlToken.Minus)
         from operand in Parse.Ref(() => Unary!)
         select (Expr)new NegateExpr(operand, S(minus).Cover(operand.Span)))
        .Or(Application)
        .Named("an expression");

    private static readonly TokenListParser<DlToken, Expr> Multiplicative = Parse.Chain(Op(DlToken.Star, BinaryOp.Multiply).Or(Op(DlToken.Slash, BinaryOp.Divide)), Unary, Binary);
    private static readonly TokenListParser<DlToken, Expr> Additive = Parse.Chain(Op(DlToken.Plus, BinaryOp.Add).Or(Op(DlToken.Minus, BinaryOp.Subtract)), Multiplicative, Binary);
    private static readonly TokenListParser<DlToken, Expr> Composition = Parse.Chain(Op(DlToken.Compose, BinaryOp.Compose), Additive, Binary);
    private static readonly TokenListParser<DlToken, Expr> Pipeline = Parse.Chain(Op(DlToken.PipeRight, BinaryOp.Pipe), Composition, Binary);

    private static readonly TokenListParser<DlToken, Expr> Tuple =
        from first in Pipeline
        from rest in T(DlToken.Comma).IgnoreThen(Pipeline).Many()
        select rest.Length == 0 ? first : new TupleExpr([first, .. rest], first.Span.Cover(rest[^1].Span));

    private static readonly TokenListParser<DlToken, Expr> Lambda =
        from fun in T(DlToken.Fun)
        from parameters in Param.AtLeastOnce()
        from arrow in T(DlToken.Arrow)
        from body in ExpressionRef
        select (Expr)new LambdaExpr(parameters, body, S(fun).Cover(body.Span));

    private static readonly TokenListParser<DlToken, Expr> LetIn =
        from keyword in T(DlToken.Let)
        from name in Name
        from parameters in Param.Many()
        from eq in T(DlToken.Equals)
        from value in ExpressionRef
        from newLine in T(DlToken.In)
        from body in ExpressionRef
        select (Expr)new LetExpr(name, parameters, value, body, S(keyword).Cover(body.Span));

    /// <summary>Any expression; a bare tuple is allowed (in parentheses, a `let` value, a body).</summary>
    private static readonly TokenListParser<DlToken, Expr> Expression = Lambda.Or(LetIn).Or(Tuple).Named("an expression");

    /// <summary>An expression where `,` separates something else: fields, items, named arguments.</summary>
    private static readonly TokenListParser<DlToken, Expr> Item = Lambda.Or(LetIn).Or(Pipeline).Named("an expression");

    // ---- declarations --------------------------------------------------------------------------

    private static readonly TokenListParser<DlToken, Declaration> Import =
        from keyword in T(DlToken.Import)
        from path in T(DlToken.String)
        select (Declaration)new ImportDecl(Unescape(path.ToStringValue()), S(path), S(keyword).Cover(S(path)));

    private static readonly TokenListParser<DlToken, Declaration> Let =
        from keyword in T(DlToken.Let)
        from name in Name
        from parameters in Param.Many()
        from type in Annotation
        from eq in T(DlToken.Equals)
        from body in Expression
        select (Declaration)new LetDecl(name, parameters, type, body, S(keyword).Cover(body.Span));

    private static readonly TokenListParser<DlToken, Declaration> Model =
        from keyword in T(DlToken.Model)
        from name in Name
        from parameters in Param.Many()
        from type in Annotation
        from eq in T(DlToken.Equals)
        from body in Expression
        select (Declaration)new ModelDecl(name, parameters, type, body, S(keyword).Cover(body.Span));

    private static readonly TokenListParser<DlToken, Declaration> Loss =
        from keyword in T(DlToken.Loss)
        from name in Name
        from parameters in Param.Many()
        from eq in T(DlToken.Equals)
        from body in Expression
        select (Declaration)new LossDecl(name, parameters, body, S(keyword).Cover(body.Span));

    private static readonly TokenListParser<DlToken, Declaration> Job =
        from keyword in T(DlToken.Train).Or(T(DlToken.Agent))
        from name in Name
        from settings in Record
        select (Declaration)new JobDecl(keyword.Kind == DlToken.Train ? JobKind.Train : JobKind.Agent, name, settings, S(keyword).Cover(settings.Span));

    /// <summary>One whole declaration, and nothing after it.</summary>
    public static readonly TokenListParser<DlToken, Declaration> TopLevel =
        Import.Or(Let).Or(Model).Or(Loss).Or(Job).AtEnd();

    // ---- helpers -------------------------------------------------------------------------------

    private static TokenListParser<DlToken, (BinaryOp Op, TextSpan Span)> Op(DlToken kind, BinaryOp op) =>
        T(kind).Select(t => (op, S(t)));

    private static Expr Binary((BinaryOp Op, TextSpan Span) op, Expr left, Expr right) =>
        new BinaryExpr(op.Op, left, right, op.Span, left.Span.Cover(right.Span));

    private static NumberLit MakeNumber(Token<DlToken> token)
    {
        var text = token.ToStringValue();
        var isInteger = !text.Any(c => c is '.' or 'e' or 'E');
        return new NumberLit(double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture), isInteger, text, S(token));
    }

    private static bool IsDimension(Token<DlToken> token) =>
        int.TryParse(token.ToStringValue(), NumberStyles.None, CultureInfo.InvariantCulture, out _);

    private static Parameter MakeParameter(Identifier first, TypeSyntax? type, Identifier[] others, TextSpan span) =>
        others.Length == 0
            ? new Parameter(first, type, span)
            : new Parameter(first, null, span) { Elements = [new Parameter(first, null, first.Span), .. others.Select(o => new Parameter(o, null, o.Span))] };

    /// <summary>The value of a string token (the lexer has already rejected unknown escapes).</summary>
    internal static string Unescape(string quoted)
    {
        var text = new StringBuilder(quoted.Length);
        for (var i = 1; i < quoted.Length - 1; i++)
        {
            var c = quoted[i];
            if (c == '\\' && i + 1 < quoted.Length - 1)
            {
                c = quoted[++i] switch { 'n' => '\n', 't' => '\t', var other => other };
            }
            text.Append(c);
        }
        return text.ToString();
    }
}
