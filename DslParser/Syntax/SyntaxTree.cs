using Dlc.Diagnostics;

namespace Dlc.Syntax;

// The syntax tree of a .dl file: small immutable records, each with the span it came from, so every
// later phase can point at the source. Lists are ImmutableArray-like read-only lists compared by
// content through SyntaxEquality (records compare lists by reference).

/// <summary>A whole file: imports and declarations in source order.</summary>
public sealed record CompilationUnit(IReadOnlyList<Declaration> Declarations, TextSpan Span);

/// <summary>A name as written, with its span.</summary>
public sealed record Identifier(string Name, TextSpan Span)
{
    public override string ToString() => Name;
}

// ---- declarations -------------------------------------------------------------------------

public abstract record Declaration(TextSpan Span)
{
    /// <summary>The text of the `///` doc comment lines just above the declaration, if any.</summary>
    public string? Doc { get; init; }
}

/// <summary>`import "blocks.dl"`</summary>
public sealed record ImportDecl(string Path, TextSpan PathSpan, TextSpan Span) : Declaration(Span);

/// <summary>`let name params [: type] = body` at the top level.</summary>
public sealed record LetDecl(Identifier Name, IReadOnlyList<Parameter> Parameters, TypeSyntax? ReturnType, Expr Body, TextSpan Span)
    : Declaration(Span);

/// <summary>`model Name (x: Tensor[N, 784]) [: Tensor[N, 10]] = body`</summary>
public sealed record ModelDecl(Identifier Name, IReadOnlyList<Parameter> Parameters, TypeSyntax? ReturnType, Expr Body, TextSpan Span)
    : Declaration(Span);

/// <summary>`loss name params = body`</summary>
public sealed record LossDecl(Identifier Name, IReadOnlyList<Parameter> Parameters, Expr Body, TextSpan Span) : Declaration(Span);

/// <summary>`train Target { ... }` and `agent Name { ... }`: a keyword, a name and a record of settings.</summary>
public sealed record JobDecl(JobKind Kind, Identifier Name, RecordExpr Settings, TextSpan Span) : Declaration(Span);

public enum JobKind
{
    Train,
    Agent,
}

/// <summary>
/// A parameter: `x`, `(x: Tensor[N, 784])`, `(channels: int)`, or a tuple pattern `(x, out)`
/// (then <see cref="Elements"/> holds the parts and <see cref="Name"/> is the first).
/// </summary>
public sealed record Parameter(Identifier Name, TypeSyntax? Type, TextSpan Span)
{
    public IReadOnlyList<Parameter>? Elements { get; init; }
}

// ---- types ----------------------------------------------------------------------------------

public abstract record TypeSyntax(TextSpan Span);

/// <summary>`int`, `float`, `bool`, `Layer` ...</summary>
public sealed record NamedType(Identifier Name, TextSpan Span) : TypeSyntax(Span);

/// <summary>`Tensor[N, 1, 28, 28]`, `Tensor[N, T] of int`.</summary>
public sealed record TensorType(IReadOnlyList<DimSyntax> Dims, Identifier? ElementType, TextSpan Span) : TypeSyntax(Span);

public abstract record DimSyntax(TextSpan Span);

public sealed record DimConst(int Value, TextSpan Span) : DimSyntax(Span);

public sealed record DimVar(string Name, TextSpan Span) : DimSyntax(Span);

// ---- expressions ----------------------------------------------------------------------------

public abstract record Expr(TextSpan Span);

/// <summary>A number as written: `256`, `0.3`, `1e-3`. <see cref="IsInteger"/> when written without `.` or exponent.</summary>
public sealed record NumberLit(double Value, bool IsInteger, string Text, TextSpan Span) : Expr(Span);

public sealed record StringLit(string Value, TextSpan Span) : Expr(Span);

public sealed record BoolLit(bool Value, TextSpan Span) : Expr(Span);

/// <summary>A use of a name: `x`, `relu`, `fashionMnist`, `N`.</summary>
public sealed record NameExpr(Identifier Name, TextSpan Span) : Expr(Span);

/// <summary>Application by juxtaposition: `dense 256` is Apply(dense, 256); `f a b` is Apply(Apply(f, a), b).</summary>
public sealed record ApplyExpr(Expr Function, Expr Argument, TextSpan Span) : Expr(Span);

/// <summary>A parenthesised group of named arguments: `(kernel = 3, padding = 1)`.</summary>
public sealed record NamedArgsExpr(IReadOnlyList<FieldInit> Arguments, TextSpan Span) : Expr(Span);

public enum BinaryOp
{
    /// <summary>`x |> f`: apply f to x.</summary>
    Pipe,

    /// <summary>`f >> g`: g after f.</summary>
    Compose,
    Add,
    Subtract,
    Multiply,
    Divide,
}

/// <summary>`a |> f`, `f >> g`, `a + b`. <see cref="OperatorSpan"/> is the operator token.</summary>
public sealed record BinaryExpr(BinaryOp Op, Expr Left, Expr Right, TextSpan OperatorSpan, TextSpan Span) : Expr(Span);

/// <summary>`-x`.</summary>
public sealed record NegateExpr(Expr Operand, TextSpan Span) : Expr(Span);

/// <summary>`{ lr = 1e-3; weightDecay = 1e-4 }`; fields may also be separated by newlines.</summary>
public sealed record RecordExpr(IReadOnlyList<FieldInit> Fields, TextSpan Span) : Expr(Span);

public sealed record FieldInit(Identifier Name, Expr Value, TextSpan Span);

/// <summary>`[ accuracy; topK 3 ]`</summary>
public sealed record ListExpr(IReadOnlyList<Expr> Items, TextSpan Span) : Expr(Span);

/// <summary>`a, b` (at least two items).</summary>
public sealed record TupleExpr(IReadOnlyList<Expr> Items, TextSpan Span) : Expr(Span);

/// <summary>`out.recon`</summary>
public sealed record MemberExpr(Expr Target, Identifier Member, TextSpan Span) : Expr(Span);

/// <summary>`fun x -> body`</summary>
public sealed record LambdaExpr(IReadOnlyList<Parameter> Parameters, Expr Body, TextSpan Span) : Expr(Span);

/// <summary>
/// `let name params = value` followed, on the next line at the same column, by the expression it scopes
/// over (<see cref="Body"/>): an F#-style sequence of lets ending in a result.
/// </summary>
public sealed record LetExpr(Identifier Name, IReadOnlyList<Parameter> Parameters, Expr Value, Expr Body, TextSpan Span) : Expr(Span);

/// <summary>`(e)` kept so spans and printing follow the source; it means the same as e.</summary>
public sealed record ParenExpr(Expr Inner, TextSpan Span) : Expr(Span);
