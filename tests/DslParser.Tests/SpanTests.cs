using Dlc.Diagnostics;
using Dlc.Syntax;
using static Dlc.DslParser.Tests.Parsing;

namespace Dlc.DslParser.Tests;

/// <summary>Every node's span covers exactly its source text, so later phases can point at it.</summary>
public class SpanTests
{
    private const string Text = "model M (x: Tensor[N, 4]) : Tensor[N, 2] =\n    let h = -x * 2\n    h |> dense 2 >> f.g (k = 1)\n";

    private static string Slice(TextSpan span) => Text.Substring(span.Start, span.Length);

    [Fact]
    public void Declarations_parameters_and_types_cover_their_text()
    {
        var model = Single<ModelDecl>(Text);
        Slice(model.Span).ShouldBe(Text.TrimEnd('\n'));
        Slice(model.Name.Span).ShouldBe("M");
        Slice(model.Parameters[0].Span).ShouldBe("(x: Tensor[N, 4])");
        Slice(model.Parameters[0].Type!.Span).ShouldBe("Tensor[N, 4]");
        Slice(((TensorType)model.ReturnType!).Dims[1].Span).ShouldBe("2");
    }

    [Fact]
    public void Expressions_cover_their_text_and_binary_operators_know_their_token()
    {
        var let = (LetExpr)Single<ModelDecl>(Text).Body;
        Slice(let.Span).ShouldBe("let h = -x * 2\n    h |> dense 2 >> f.g (k = 1)");
        var product = (BinaryExpr)let.Value;
        Slice(product.Span).ShouldBe("-x * 2");
        Slice(product.OperatorSpan).ShouldBe("*");
        Slice(((NegateExpr)product.Left).Span).ShouldBe("-x");

        var pipe = (BinaryExpr)let.Body;
        Slice(pipe.OperatorSpan).ShouldBe("|>");
        var compose = (BinaryExpr)pipe.Right;
        Slice(compose.Span).ShouldBe("dense 2 >> f.g (k = 1)");
        var apply = (ApplyExpr)compose.Right;
        Slice(apply.Function.Span).ShouldBe("f.g");
        Slice(((MemberExpr)apply.Function).Member.Span).ShouldBe("g");
        var named = (NamedArgsExpr)apply.Argument;
        Slice(named.Span).ShouldBe("(k = 1)");
        Slice(named.Arguments[0].Span).ShouldBe("k = 1");
    }

    [Fact]
    public void Records_lists_imports_and_jobs_cover_their_brackets_and_quotes()
    {
        const string text = "import \"a.dl\"\ntrain T {\n    m = [ 1; 2 ]\n}\n";
        var declarations = Clean(text).Declarations;
        var import = (ImportDecl)declarations[0];
        text.Substring(import.PathSpan.Start, import.PathSpan.Length).ShouldBe("\"a.dl\"");
        var job = (JobDecl)declarations[1];
        text.Substring(job.Span.Start, job.Span.Length).ShouldBe("train T {\n    m = [ 1; 2 ]\n}");
        var list = job.Settings.Fields[0].Value;
        text.Substring(list.Span.Start, list.Span.Length).ShouldBe("[ 1; 2 ]");
    }

    [Fact]
    public void The_unit_spans_the_whole_file() => Clean(Text).Span.ShouldBe(new TextSpan(0, Text.Length));

    [Fact]
    public void Tuple_patterns_and_lambdas_cover_their_text()
    {
        const string text = "let f (a, b) = fun y -> a, b\n";
        var let = Single<LetDecl>(text);
        text.Substring(let.Parameters[0].Span.Start, let.Parameters[0].Span.Length).ShouldBe("(a, b)");
        text.Substring(let.Parameters[0].Elements![1].Span.Start, 1).ShouldBe("b");
        text.Substring(let.Body.Span.Start, let.Body.Span.Length).ShouldBe("fun y -> a, b");
    }
}
