using System.Globalization;
using System.Text;
using static Dlc.Syntax.Precedence;

namespace Dlc.Syntax;

/// <summary>
/// Prints a syntax tree as canonical .dl text: four-space indents, one pipeline or composition stage per
/// line when a body chains more than two, one field per line in `train` and `agent` records, and
/// parentheses only where precedence needs them (written ones, <see cref="ParenExpr"/>, are kept).
/// Parsing the output gives the same tree, and printing it again gives the same text.
/// </summary>
public static class SyntaxPrinter
{
    private const string Indent = "    ";

    // Binding strength, loosest first: a subexpression weaker than its position requires gets parentheses.
    public static string Print(CompilationUnit unit)
    {
        ArgumentNullException.ThrowIfNull(unit);
        var text = new StringBuilder();
        Declaration? previous = null;
        foreach (var declaration in unit.Declarations)
        {
            if (previous is not null && !(previous is ImportDecl && declaration is ImportDecl)) text.Append('\n');
            if (declaration.Doc is { } doc)
            {
                foreach (var line in doc.Split('\n')) text.Append(line.Length == 0 ? "///" : "/// " + line).Append('\n');
            }
            text.Append(Print(declaration)).Append('\n');
            previous = declaration;
        }
        return text.ToString();
    }

    public static string Print(Declaration declaration) => declaration switch
    {
        ImportDecl import => $"import {Quote(import.Path)}",
        LetDecl let => Header("let", let.Name, let.Parameters, let.ReturnType) + Body(let.Body, onOwnLine: IsMultiline(let.Body)),
        ModelDecl model => Header("model", model.Name, model.Parameters, model.ReturnType) + Body(model.Body, onOwnLine: true),
        LossDecl loss => Header("loss", loss.Name, loss.Parameters, null) + Body(loss.Body, onOwnLine: true),
        JobDecl job => $"{(job.Kind == JobKind.Train ? "train" : "agent")} {job.Name} " + Settings(job.Settings),
        _ => throw new ArgumentException($"unknown declaration {declaration.GetType().Name}", nameof(declaration)),
    };

    /// <summary>An expression on one line, as it would appear where any expression may stand.</summary>
    public static string Print(Expr expr) => Inline(expr, TuplePrec, "");

    private static string Header(string keyword, Identifier name, IReadOnlyList<Parameter> parameters, TypeSyntax? type) =>
        $"{keyword} {name}{string.Concat(parameters.Select(p => " " + Print(p)))}{(type is null ? "" : " : " + Print(type))} =";

    private static string Body(Expr body, bool onOwnLine) =>
        onOwnLine ? "\n" + Block(body, Indent) : " " + Inline(body, TuplePrec, "");

    private static string Settings(RecordExpr record) =>
        record.Fields.Count == 0
            ? "{}"
            : "{\n" + string.Concat(record.Fields.Select(f => $"{Indent}{f.Name} = {Inline(f.Value, LambdaPrec, Indent)}\n")) + "}";

    public static string Print(Parameter parameter) =>
        parameter.Elements is { Count: > 0 } parts ? $"({string.Join(", ", parts.Select(p => p.Name.Name))})"
        : parameter.Type is { } type ? $"({parameter.Name}: {Print(type)})"
        : parameter.Name.Name;

    public static string Print(TypeSyntax type) => type switch
    {
        TensorType tensor => $"Tensor[{string.Join(", ", tensor.Dims.Select(Print))}]" + (tensor.ElementType is { } e ? $" of {e}" : ""),
        NamedType named => named.Name.Name,
        _ => throw new ArgumentException($"unknown type {type.GetType().Name}", nameof(type)),
    };

    private static string Print(DimSyntax dim) => dim switch
    {
        DimConst constant => constant.Value.ToString(CultureInfo.InvariantCulture),
        DimVar variable => variable.Name,
        _ => throw new ArgumentException($"unknown dimension {dim.GetType().Name}", nameof(dim)),
    };

    /// <summary>Lines of a body at <paramref name="indent"/>: `let` sequences, long chains one stage per line.</summary>
    private static string Block(Expr expr, string indent)
    {
        switch (expr)
        {
            case LetExpr let:
                var head = $"{indent}let {let.Name}{string.Concat(let.Parameters.Select(p => " " + Print(p)))} =";
                var value = NeedsLines(let.Value) ? "\n" + Block(let.Value, indent + Indent) : " " + Inline(let.Value, TuplePrec, indent);
                return head + value + "\n" + Block(let.Body, indent);
            case BinaryExpr { Op: BinaryOp.Pipe or BinaryOp.Compose } chain when Stages(chain).Count > 2:
                var stages = Stages(chain);
                var symbol = chain.Op == BinaryOp.Pipe ? "|>" : ">>";
                var prec = Prec(chain);
                return indent + Inline(stages[0], prec, indent)
                    + string.Concat(stages.Skip(1).Select(s => $"\n{indent}{symbol} {Inline(s, prec + 1, indent)}"));
            case LambdaExpr lambda when NeedsLines(lambda.Body):
                return $"{indent}fun {string.Join(" ", lambda.Parameters.Select(Print))} ->\n" + Block(lambda.Body, indent + Indent);
            default:
                return indent + Inline(expr, TuplePrec, indent);
        }
    }

    /// <summary>A body printed below its header: one that needs lines, or a chain of more than two stages.</summary>
    private static bool IsMultiline(Expr expr) =>
        NeedsLines(expr) || (expr is BinaryExpr { Op: BinaryOp.Pipe or BinaryOp.Compose } chain && Stages(chain).Count > 2);

    /// <summary>A `let` sequence cannot be written on one line (nor a `fun` whose body is one).</summary>
    private static bool NeedsLines(Expr expr) => expr is LetExpr || (expr is LambdaExpr lambda && NeedsLines(lambda.Body));

    /// <summary>`a |> b |> c` as [a, b, c]: the left spine of one left-associative operator.</summary>
    private static List<Expr> Stages(BinaryExpr chain)
    {
        var stages = new List<Expr>();
        Expr current = chain;
        while (current is BinaryExpr binary && binary.Op == chain.Op)
        {
            stages.Add(binary.Right);
            current = binary.Left;
        }
        stages.Add(current);
        stages.Reverse();
        return stages;
    }

    private static string Inline(Expr expr, int minPrec, string indent)
    {
        if (expr is LetExpr)
            // A `let` sequence needs lines of its own; inside parentheses it may have them.
            return "(\n" + Block(expr, indent + Indent) + "\n" + indent + ")";
        var text = Raw(expr, indent);
        return Prec(expr) < minPrec ? $"({text})" : text;
    }

    private static string Raw(Expr expr, string indent) => expr switch
    {
        NumberLit number => number.Text.Length > 0 ? number.Text : number.Value.ToString("R", CultureInfo.InvariantCulture),
        StringLit s => Quote(s.Value),
        BoolLit b => b.Value ? "true" : "false",
        NameExpr name => name.Name.Name,
        ApplyExpr apply => $"{Inline(apply.Function, ApplyPrec, indent)} {Inline(apply.Argument, PostfixPrec, indent)}",
        MemberExpr member => $"{Inline(member.Target, PostfixPrec, indent)}.{member.Member}",
        NegateExpr negate => "-" + Inline(negate.Operand, NegatePrec, indent),
        BinaryExpr binary => $"{Inline(binary.Left, Prec(binary), indent)} {Symbol(binary.Op)} {Inline(binary.Right, Prec(binary) + 1, indent)}",
        NamedArgsExpr named => "(" + string.Join(", ", named.Arguments.Select((a, i) =>
            // A `fun` swallows a following `, name = ...`, so only the last argument may be one unparenthesised.
            $"{a.Name} = {Inline(a.Value, i == named.Arguments.Count - 1 ? LambdaPrec : PipePrec, indent)}")) + ")",
        RecordExpr record => record.Fields.Count == 0 ? "{}"
            : "{ " + string.Join("; ", record.Fields.Select(f => $"{f.Name} = {Inline(f.Value, LambdaPrec, indent)}")) + " }",
        ListExpr list => list.Items.Count == 0 ? "[]" : "[ " + string.Join("; ", list.Items.Select(i => Inline(i, LambdaPrec, indent))) + " ]",
        TupleExpr tuple => string.Join(", ", tuple.Items.Select(i => Inline(i, PipePrec, indent))),
        ParenExpr paren => "(" + Inline(paren.Inner, TuplePrec, indent) + ")",
        LambdaExpr lambda => $"fun {string.Join(" ", lambda.Parameters.Select(Print))} -> {Inline(lambda.Body, TuplePrec, indent)}",
        _ => throw new ArgumentException($"unknown expression {expr.GetType().Name}", nameof(expr)),
    };

    private static string Quote(string value)
    {
        var text = new StringBuilder("\"");
        foreach (var c in value)
        {
            text.Append(c switch { '"' => "\\\"", '\\' => "\\\\", '\n' => "\\n", '\t' => "\\t", _ => c.ToString() });
        }
        return text.Append('"').ToString();
    }
}
