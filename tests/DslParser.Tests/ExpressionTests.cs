using Dlc.Syntax;
using static Dlc.DslParser.Tests.Parsing;

namespace Dlc.DslParser.Tests;

public class ExpressionTests
{
    [Theory]
    [InlineData("x |> dense 10 |> relu", "(|> (|> x (dense 10)) relu)")]
    [InlineData("x |> dense 10 >> relu", "(|> x (>> (dense 10) relu))")]
    [InlineData("f >> g >> h", "(>> (>> f g) h)")]
    [InlineData("a + b * c - d / e", "(- (+ a (* b c)) (/ d e))")]
    [InlineData("a + b >> c", "(>> (+ a b) c)")]
    [InlineData("-a * b", "(* (neg a) b)")]
    [InlineData("- - a", "(neg (neg a))")]
    [InlineData("f -1", "(- f 1)")]
    [InlineData("h + (h |> f)", "(+ h (paren (|> h f)))")]
    [InlineData("bce out.recon x", "((bce (. out recon)) x)")]
    [InlineData("a.b.c d", "((. (. a b) c) d)")]
    [InlineData("f (g x) y", "((f (paren (g x))) y)")]
    [InlineData("conv2d 32 (kernel = 3, padding = 1)", "((conv2d 32) (named kernel=3 padding=1))")]
    [InlineData("adam { lr = 1e-3 }", "(adam {lr=1e-3})")]
    [InlineData("[ 1; 2; 3 ]", "[1; 2; 3]")]
    [InlineData("[]", "[]")]
    [InlineData("{}", "{}")]
    [InlineData("f \"a\\\"b\" true false", "(((f \"a\"b\") true) false)")]
    [InlineData("fun a b -> a + b", "(fun a b -> (+ a b))")]
    [InlineData("fun (a, b) (c: int) -> a", "(fun (a, b) (c: int) -> a)")]
    [InlineData("x |> (fun y -> y)", "(|> x (paren (fun y -> y)))")]
    [InlineData("(a, b |> f, c)", "(paren (, a (|> b f) c))")]
    [InlineData("a, b", "(, a b)")]
    [InlineData("(x)", "(paren x)")]
    public void Operators_bind_by_precedence_and_associate_to_the_left(string source, string tree) =>
        Show(Body(source)).ShouldBe(tree);

    [Fact]
    public void A_let_with_parameters_defines_a_local_function()
    {
        Show(Body("let block c = dense c >> relu\nx |> block 4")).ShouldBe("(let block c = (>> (dense c) relu) in (|> x (block 4)))");
    }

    [Fact]
    public void A_let_value_may_be_a_tuple_and_may_start_on_its_own_line()
    {
        Show(Body("let p = a, b\np")).ShouldBe("(let p = (, a b) in p)");
        Show(Body("let h =\n    x\n    |> f\nh")).ShouldBe("(let h = (|> x f) in h)");
    }

    [Fact]
    public void Numbers_keep_their_text_value_and_integer_flag()
    {
        var numbers = ((ListExpr)Body("[ 256; 0.3; 1e-3; 2.5E+4 ]")).Items.Cast<NumberLit>().ToList();
        numbers.Select(n => n.Text).ShouldBe(["256", "0.3", "1e-3", "2.5E+4"]);
        numbers.Select(n => n.Value).ShouldBe([256, 0.3, 0.001, 25000]);
        numbers.Select(n => n.IsInteger).ShouldBe([true, false, false, false]);
    }

    [Fact]
    public void Strings_understand_their_four_escapes()
    {
        var text = ((StringLit)Body("\"q\\\" b\\\\ n\\n t\\t\"")).Value;
        text.ShouldBe("q\" b\\ n\n t\t");
    }

    [Fact]
    public void Identifiers_may_contain_digits_underscores_and_primes()
    {
        Show(Body("_a1 b' c_d'")).ShouldBe("((_a1 b') c_d')");
    }

    [Fact]
    public void Comments_of_both_kinds_are_ignored_and_block_comments_nest()
    {
        var text = "model M (x: Tensor[N, 4]) = // the model\n    x (* a (* nested *) comment *) |> relu\n";
        Show(Single<ModelDecl>(text).Body).ShouldBe("(|> x relu)");
    }

    [Fact]
    public void Doc_comment_lines_join_with_new_lines_and_lose_their_slashes()
    {
        var let = Single<LetDecl>("/// First line.\n///Second line.\n///   indented\nlet x = 1\n");
        let.Doc.ShouldBe("First line.\nSecond line.\n  indented");
    }

    [Fact]
    public void Four_slashes_make_an_ordinary_comment()
    {
        Single<LetDecl>("//// not documentation\nlet x = 1\n").Doc.ShouldBeNull();
    }

    [Fact]
    public void Parameters_can_be_plain_typed_or_tuple_patterns_and_types_can_be_named()
    {
        var let = Single<LetDecl>("let f a (b: float) (c, d, e) : Layer = a\n");
        let.Parameters.Select(Show).ShouldBe(["a", "(b: float)", "(c, d, e)"]);
        Show(let.ReturnType!).ShouldBe("Layer");
    }

    [Fact]
    public void Windows_line_endings_parse_like_unix_ones()
    {
        var unit = Clean(Examples.FashionCnn.Replace("\n", "\r\n"));
        unit.Declarations.Count.ShouldBe(3);
        unit.Declarations[0].Doc.ShouldBe("Fashion-MNIST classifier: two conv blocks and a small head.");
    }
}
