using Dlc.Diagnostics;
using Dlc.Syntax;
using static Dlc.DslParser.Tests.Parsing;

namespace Dlc.DslParser.Tests;

public class PrinterTests
{
    [Theory]
    [MemberData(nameof(Examples.Names), MemberType = typeof(Examples))]
    public void Printing_an_example_and_parsing_it_again_gives_the_same_tree(string name)
    {
        var tree = Clean(Examples.All[name]);
        var printed = SyntaxPrinter.Print(tree);
        var reparsed = Clean(printed);
        SyntaxEquality.Difference(tree, reparsed).ShouldBeNull(printed);
    }

    [Theory]
    [MemberData(nameof(Examples.Names), MemberType = typeof(Examples))]
    public void Printing_is_idempotent(string name)
    {
        var once = SyntaxPrinter.Print(Clean(Examples.All[name]));
        SyntaxPrinter.Print(Clean(once)).ShouldBe(once);
    }

    [Fact]
    public void A_model_pipeline_prints_one_stage_per_line_and_a_train_record_one_field_per_line()
    {
        SyntaxPrinter.Print(Clean(Examples.FashionMlp)).ShouldBe("""
            let hidden = 256

            /// 784-256-256-10 with ReLU.
            model FashionMlp (image: Tensor[N, 784]) : Tensor[N, 10] =
                image
                |> dense hidden
                |> relu
                |> dense hidden >> relu
                |> dense 10

            train FashionMlp {
                data = fashionMnist { validation = 0.1 }
                loss = crossEntropy
                optimizer = adam { lr = 1e-3 }
                epochs = 5
                batch = 128
                seed = 42
            }

            """);
    }

    [Fact]
    public void Let_sequences_and_compositions_print_as_indented_blocks()
    {
        SyntaxPrinter.Print(Clean(Examples.FashionCnn + Examples.ResidualMlp + Examples.Vae)).ShouldStartWith("""
            /// Fashion-MNIST classifier: two conv blocks and a small head.
            let convBlock (channels: int) =
                conv2d channels (kernel = 3, padding = 1)
                >> batchNorm
                >> relu
                >> maxPool 2

            """);
        SyntaxPrinter.Print(Clean(Examples.ResidualMlp + Examples.Vae)).ShouldBe("""
            model ResidualMlp (x: Tensor[N, 784]) : Tensor[N, 10] =
                let h = x |> dense 256 |> relu
                let h = h + (h |> dense 256 |> relu)
                h |> dense 10

            model Vae (x: Tensor[N, 784]) =
                let h = x |> dense 400 |> relu
                let mu = h |> dense 20
                let logVar = h |> dense 20
                let recon = sampleNormal mu logVar |> dense 400 |> relu |> dense 784 |> sigmoid
                { recon = recon; mu = mu; logVar = logVar }

            loss elbo (x, out) =
                binaryCrossEntropy out.recon x (reduce = sum) + klNormal out.mu out.logVar

            """);
    }

    [Fact]
    public void Imports_stay_together_and_short_lets_stay_on_one_line()
    {
        SyntaxPrinter.Print(Clean("import \"a.dl\"\nimport \"b \\\"c\\\".dl\"\nlet twice = fun f -> f >> f\nlet pair = a, b\n")).ShouldBe("""
            import "a.dl"
            import "b \"c\".dl"

            let twice = fun f -> f >> f

            let pair = a, b

            """);
    }

    [Theory]
    [InlineData("f (a + b)")]
    [InlineData("x |> (fun y -> y)")]
    [InlineData("(f >> g) >> h")]
    [InlineData("a - (b - c)")]
    [InlineData("-(f x)")]
    [InlineData("(f x).y")]
    [InlineData("g (-1)")]
    [InlineData("{ f = fun x -> x; g = [ 1; (a, b) ] }")]
    [InlineData("h (k = (fun x -> x), m = fun y -> y)")]
    public void Written_parentheses_are_kept(string source)
    {
        var body = Body(source);
        SyntaxPrinter.Print(body).ShouldBe(source);
    }

    [Fact]
    public void Parentheses_are_added_where_precedence_requires_them()
    {
        var span = new TextSpan(0, 0);
        Expr Name(string n) => new NameExpr(new Identifier(n, span), span);
        var sum = new BinaryExpr(BinaryOp.Add, Name("a"), Name("b"), span, span);
        SyntaxPrinter.Print(new ApplyExpr(Name("f"), sum, span)).ShouldBe("f (a + b)");
        SyntaxPrinter.Print(new BinaryExpr(BinaryOp.Multiply, sum, Name("c"), span, span)).ShouldBe("(a + b) * c");
        SyntaxPrinter.Print(new BinaryExpr(BinaryOp.Subtract, Name("c"), sum, span, span)).ShouldBe("c - (a + b)");
        var lambda = new LambdaExpr([new Parameter(new Identifier("y", span), null, span)], Name("y"), span);
        SyntaxPrinter.Print(new BinaryExpr(BinaryOp.Pipe, Name("x"), lambda, span, span)).ShouldBe("x |> (fun y -> y)");
        SyntaxPrinter.Print(new MemberExpr(new ApplyExpr(Name("f"), Name("x"), span), new Identifier("m", span), span)).ShouldBe("(f x).m");
    }

    [Fact]
    public void Structural_equality_ignores_spans_but_not_content()
    {
        var a = Clean("let x = f 1\n");
        var b = Clean("let   x =   f    1\n");
        SyntaxEquality.Equal(a, b).ShouldBeTrue();
        a.ShouldNotBe(b);
        SyntaxEquality.Difference(a, Clean("let x = f 2\n")).ShouldBe("Declarations[0].Body.Argument.Value");
        SyntaxEquality.Difference(a, Clean("let x = f 1\nlet y = 2\n")).ShouldBe("Declarations (count 1 vs 2)");
        SyntaxEquality.Difference(a, Clean("let x = f (1)\n")).ShouldBe("Declarations[0].Body.Argument (NumberLit vs ParenExpr)");
    }

    [Fact]
    public void Doc_comments_print_back_line_by_line()
    {
        var printed = SyntaxPrinter.Print(Clean("/// One.\n///\n///   Indented.\nlet x = 1\n"));
        printed.ShouldBe("/// One.\n///\n///   Indented.\nlet x = 1\n");
    }
}
