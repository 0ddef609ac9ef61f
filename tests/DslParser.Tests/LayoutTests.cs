using Dlc.Syntax;
using static Dlc.DslParser.Tests.Parsing;

namespace Dlc.DslParser.Tests;

/// <summary>The offside rule: which lines continue an expression, which start the next thing.</summary>
public class LayoutTests
{
    [Fact]
    public void A_pipeline_of_layers_parses_left_to_right_across_lines() =>
        Show(Body("x\n|> dense 10\n|> relu")).ShouldBe("(|> (|> x (dense 10)) relu)");

    [Fact]
    public void Lines_indented_more_than_the_body_continue_it() =>
        Show(Body("conv2d 32\n    (kernel = 3)\n    |> relu")).ShouldBe("(|> ((conv2d 32) (named kernel=3)) relu)");

    [Fact]
    public void Every_infix_operator_may_start_a_continuation_line() =>
        Show(Body("a\n+ b\n- c\n* d\n/ e\n>> f\n|> g")).ShouldBe("(|> (>> (- (+ a b) (/ (* c d) e)) f) g)");

    [Fact]
    public void An_infix_operator_may_sit_left_of_the_body_column() =>
        Show(Body("    x\n|> f")).ShouldBe("(|> x f)");

    [Fact]
    public void Application_does_not_swallow_the_body_of_a_let() =>
        Show(Body("let a = f x\ng a")).ShouldBe("(let a = (f x) in (g a))");

    [Fact]
    public void A_let_value_continues_on_lines_indented_more_than_the_let() =>
        Show(Body("let a = x\n    |> f\n  |> g\na")).ShouldBe("(let a = (|> (|> x f) g) in a)");

    [Fact]
    public void Lets_may_nest_inside_a_let_value_started_on_its_own_line() =>
        Show(Body("let a =\n    let b = x\n    b |> f\na")).ShouldBe("(let a = (let b = x in (|> b f)) in a)");

    [Fact]
    public void Newlines_inside_parentheses_are_insignificant() =>
        Show(Body("f (a\n+ b\n  , c)")).ShouldBe("(f (paren (, (+ a b) c)))");

    [Fact]
    public void Fields_on_their_own_lines_need_no_semicolons()
    {
        var record = Single<JobDecl>("train T {\n    a = 1\n    b = f\n        x\n    c = { d = 1\n          e = 2 }\n}\n").Settings;
        record.Fields.Select(Show).ShouldBe(["a=1", "b=(f x)", "c={d=1; e=2}"]);
    }

    [Fact]
    public void Semicolons_and_new_lines_may_be_mixed_and_a_trailing_separator_is_allowed()
    {
        var record = Single<JobDecl>("train T {\n    a = 1; b = 2;\n    c = 3\n    d = [ 1;\n          2; ]\n}\n").Settings;
        record.Fields.Select(Show).ShouldBe(["a=1", "b=2", "c=3", "d=[1; 2]"]);
    }

    [Fact]
    public void A_closing_brace_may_sit_anywhere_left_of_the_fields() =>
        Single<JobDecl>("train T {\n        a = 1\n    }\n").Settings.Fields.ShouldHaveSingleItem();

    [Fact]
    public void A_lambda_body_may_start_on_the_next_line() =>
        Show(Single<LetDecl>("let twice = fun f ->\n    f >> f\n").Body).ShouldBe("(fun f -> (>> f f))");

    [Fact]
    public void A_lambda_in_a_let_value_ends_at_the_let_body() =>
        Show(Body("let g = fun y -> y |> f\nx |> g")).ShouldBe("(let g = (fun y -> (|> y f)) in (|> x g))");

    [Fact]
    public void A_top_level_let_value_may_continue_on_indented_lines() =>
        Show(Single<LetDecl>("let stack = dense 10\n  >> relu\n    >> dense 2\n").Body).ShouldBe("(>> (>> (dense 10) relu) (dense 2))");

    [Fact]
    public void Blank_lines_and_comments_between_lines_do_not_matter() =>
        Show(Body("let a = x\n\n// the result\n\na |> f")).ShouldBe("(let a = x in (|> a f))");
}
