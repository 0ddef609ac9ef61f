using Dlc.Diagnostics;
using Dlc.Syntax;

namespace Dlc.DslParser.Tests;

/// <summary>Shorthands for the tests: parse text, insist on no errors, reach into the tree.</summary>
public static class Parsing
{
    public static ParseResult Parse(string text, string path = "test.dl") => DlParser.Parse(new SourceText(path, text));

    public static CompilationUnit Clean(string text)
    {
        var result = Parse(text);
        result.Diagnostics.ShouldBeEmpty(string.Join("\n", result.Diagnostics.Select(d => DiagnosticRenderer.Render(d))));
        return result.Unit;
    }

    public static T Single<T>(string text) where T : Declaration => Clean(text).Declarations.ShouldHaveSingleItem().ShouldBeOfType<T>();

    /// <summary>The body of a one-parameter model whose body is <paramref name="body"/> (indented by the helper).</summary>
    public static Expr Body(string body)
    {
        var indented = string.Join("\n", body.Split('\n').Select(line => "    " + line));
        return Single<ModelDecl>($"model M (x: Tensor[N, 4]) =\n{indented}\n").Body;
    }

    /// <summary>A compact, span-free picture of an expression, so a test can state a whole tree on one line.</summary>
    public static string Show(Expr e) => e switch
    {
        NumberLit n => n.Text,
        StringLit s => $"\"{s.Value}\"",
        BoolLit b => b.Value ? "true" : "false",
        NameExpr n => n.Name.Name,
        ApplyExpr a => $"({Show(a.Function)} {Show(a.Argument)})",
        MemberExpr m => $"(. {Show(m.Target)} {m.Member})",
        BinaryExpr b => $"({Op(b.Op)} {Show(b.Left)} {Show(b.Right)})",
        NegateExpr n => $"(neg {Show(n.Operand)})",
        NamedArgsExpr n => $"(named {string.Join(" ", n.Arguments.Select(Show))})",
        RecordExpr r => $"{{{string.Join("; ", r.Fields.Select(Show))}}}",
        ListExpr l => $"[{string.Join("; ", l.Items.Select(Show))}]",
        TupleExpr t => $"(, {string.Join(" ", t.Items.Select(Show))})",
        ParenExpr p => $"(paren {Show(p.Inner)})",
        LambdaExpr l => $"(fun {string.Join(" ", l.Parameters.Select(Show))} -> {Show(l.Body)})",
        LetExpr l => $"(let {string.Join(" ", new[] { l.Name.Name }.Concat(l.Parameters.Select(Show)))} = {Show(l.Value)} in {Show(l.Body)})",
        _ => e.GetType().Name,
    };

    public static string Show(FieldInit f) => $"{f.Name}={Show(f.Value)}";

    public static string Show(Parameter p) =>
        p.Elements is { } parts ? $"({string.Join(", ", parts.Select(Show))})"
        : p.Type is null ? p.Name.Name
        : $"({p.Name}: {Show(p.Type)})";

    public static string Show(TypeSyntax t) => t switch
    {
        NamedType n => n.Name.Name,
        TensorType tensor => $"Tensor[{string.Join(", ", tensor.Dims.Select(d => d is DimConst c ? c.Value.ToString() : ((DimVar)d).Name))}]"
                             + (tensor.ElementType is { } element ? $" of {element}" : ""),
        _ => t.GetType().Name,
    };

    private static string Op(BinaryOp op) => op switch
    {
        BinaryOp.Pipe => "|>",
        BinaryOp.Compose => ">>",
        BinaryOp.Add => "+",
        BinaryOp.Subtract => "-",
        BinaryOp.Multiply => "*",
        _ => "/",
    };
}
