using Dlc.Diagnostics;
using static Dlc.DslParser.Tests.Parsing;

namespace Dlc.DslParser.Tests;

/// <summary>The exact text users see for each kind of syntax error.</summary>
public class ParserDiagnosticTests
{
    private static string Diagnose(string text) =>
        string.Concat(Parse(text, "bad.dl").Diagnostics.Select(d => DiagnosticRenderer.Render(d))).TrimEnd('\n');

    [Fact]
    public void A_model_without_equals_before_its_body_asks_for_it_at_the_end_of_the_header()
    {
        Diagnose("""
            model Mlp (x: Tensor[N, 784]) : Tensor[N, 10]
                x |> dense 10
            """).ShouldBe("""
            error DL0105: expected `=` before the body of `model Mlp`
              --> bad.dl:2:5
               |
             2 |     x |> dense 10
               |     ^
               = help: end line 1 with `=`: `model Mlp (x: Tensor[N, 784]) : Tensor[N, 10] =`
            """);
    }

    [Fact]
    public void A_let_indented_deeper_than_the_let_above_it_says_which_columns_differ()
    {
        Diagnose("""
            model M (x: Tensor[N, 784]) : Tensor[N, 10] =
                let h = x |> dense 10
                  let g = h
                g
            """).ShouldBe("""
            error DL0101: unexpected keyword `let`, expected the body of the `let` on the next line, at its column
              --> bad.dl:3:7
               |
             3 |       let g = h
               |       ^^^
               = help: the `let`s of a body line up: the one on line 2 is at column 5, this one at column 7
            """);
    }

    [Fact]
    public void A_missing_equals_on_the_header_line_is_reported_at_the_body()
    {
        Diagnose("let twice f f >> f\n").ShouldBe("""
            error DL0105: expected `=` before the body of `let twice`
              --> bad.dl:1:15
               |
             1 | let twice f f >> f
               |               ^^
               = help: write `=` between the header of `let twice` and its body
            """);
    }

    [Fact]
    public void A_model_body_that_is_not_indented_is_reported_with_the_model_name()
    {
        Diagnose("""
            model Mlp (x: Tensor[N, 784]) : Tensor[N, 10] =
            x |> dense 10
            """).ShouldBe("""
            error DL0104: this line is not indented, so it cannot continue the body of `model Mlp`
              --> bad.dl:2:1
               |
             2 | x |> dense 10
               | ^
               = help: indent the body of `model Mlp` by four spaces
            """);
    }

    [Fact]
    public void A_body_line_left_of_its_let_is_bad_indentation()
    {
        Diagnose("""
            model Res (x: Tensor[N, 784]) =
                let h = x |> dense 784
              h + x
            """).ShouldBe("""
            error DL0104: this line is less indented than `let h` on line 2, so it cannot be the body of that `let`
              --> bad.dl:3:3
               |
             3 |   h + x
               |   ^
               = help: start the body of `let h` at column 5, under `let`
            """);
    }

    [Fact]
    public void A_body_line_right_of_its_let_continues_the_value_and_is_reported_when_the_body_is_missing()
    {
        Diagnose("""
            model Res (x: Tensor[N, 784]) =
                let h = x |> dense 784
                  h + x
            """).ShouldBe("""
            error DL0104: this line is indented more than `let h` on line 2, so it continues its value instead of starting its body
              --> bad.dl:3:7
               |
             3 |       h + x
               |       ^
               = help: start the body of `let h` at column 5, under `let`
            """);
    }

    [Fact]
    public void A_line_between_a_let_and_its_value_column_is_bad_indentation()
    {
        Diagnose("""
            model Res (x: Tensor[N, 784]) =
                let h =
                        x |> dense 784
                  h + x
            """).ShouldBe("""
            error DL0104: this line is less indented than the value of `let h`, so it neither continues the value nor starts the body of the `let`
              --> bad.dl:4:7
               |
             4 |       h + x
               |       ^
               = help: indent it to column 13 to continue the value, or start it at column 5 to begin the body
            """);
    }

    [Fact]
    public void An_operator_at_the_column_of_a_let_cannot_start_its_body()
    {
        Diagnose("""
            model Res (x: Tensor[N, 784]) =
                let h = x
                |> dense 10
                h
            """).ShouldBe("""
            error DL0104: this line starts at the column of `let h`, so it begins the body of the `let`, which cannot start with `|>`
              --> bad.dl:3:5
               |
             3 |     |> dense 10
               |     ^^
               = help: indent it further to continue the value of `let h`
            """);
    }

    [Fact]
    public void A_second_expression_at_the_body_column_is_bad_indentation()
    {
        Diagnose("""
            model M (x: Tensor[N, 4]) =
                x |> dense 10
                relu
            """).ShouldBe("""
            error DL0104: this line starts at the same column as the body of `model M`, so it cannot continue it
              --> bad.dl:3:5
               |
             3 |     relu
               |     ^^^^
               = help: indent it further to continue the expression above, or start it with an operator such as `|>`; a second expression needs the line above to be a `let`
            """);
    }

    [Fact]
    public void A_record_field_left_of_the_fields_above_is_bad_indentation()
    {
        Diagnose("train X {\n    data = mnist\n  loss = crossEntropy\n}\n").ShouldBe("""
            error DL0104: this line is less indented than the fields above it, which start at column 5
              --> bad.dl:3:3
               |
             3 |   loss = crossEntropy
               |   ^^^^
               = help: start it at column 5, like the fields above, or indent it further to continue the one above
            """);
    }

    [Fact]
    public void A_let_that_ends_the_body_has_nothing_to_scope_over()
    {
        Diagnose("model M (x: Tensor[N, 4]) =\n    let h = x |> dense 10\n").ShouldBe("""
            error DL0108: `let h` is not followed by an expression that uses it
              --> bad.dl:2:5
               |
             2 |     let h = x |> dense 10
               |     ^^^^^
               = help: add a line at column 5, under `let`, with the expression it scopes over, e.g. `h`
            """);
    }

    [Fact]
    public void An_unexpected_closing_parenthesis_says_what_was_expected()
    {
        Diagnose("model M (x: Tensor[N, 4]) =\n    x |> dense (10 + ) |> relu\n").ShouldBe("""
            error DL0101: unexpected `)`, expected an expression
              --> bad.dl:2:22
               |
             2 |     x |> dense (10 + ) |> relu
               |                      ^
            """);
    }

    [Fact]
    public void A_closing_bracket_without_an_opening_one_says_so()
    {
        Diagnose("let x = f 1 )\n").ShouldBe("""
            error DL0101: unexpected `)`
              --> bad.dl:1:13
               |
             1 | let x = f 1 )
               |             ^
               = help: this `)` has no `(` to close
            """);
    }

    [Fact]
    public void An_unterminated_string_is_underlined_to_the_end_of_its_line()
    {
        Diagnose("train X { data = csv \"data/train.csv }\n").ShouldBe("""
            error DL0103: this string has no closing `"`
              --> bad.dl:1:22
               |
             1 | train X { data = csv "data/train.csv }
               |                      ^^^^^^^^^^^^^^^^^
               = help: add `"` where the string ends; a string cannot span lines (write `\n` for a line break)
            """);
    }

    [Fact]
    public void A_stray_character_is_named()
    {
        Diagnose("let cost = price $ 2\n").ShouldBe("""
            error DL0102: the character `$` is not part of the language
              --> bad.dl:1:18
               |
             1 | let cost = price $ 2
               |                  ^
            """);
    }

    [Fact]
    public void A_lone_bar_suggests_the_pipe()
    {
        Diagnose("let y = x | relu\n").ShouldBe("""
            error DL0102: the character `|` is not part of the language
              --> bad.dl:1:11
               |
             1 | let y = x | relu
               |           ^
               = help: did you mean `|>`?
            """);
    }

    [Fact]
    public void A_file_that_ends_mid_declaration_points_just_after_the_last_token()
    {
        Diagnose("model M (x: Tensor[N, 4]) =\n    x |>\n").ShouldBe("""
            error DL0107: unexpected end of file, expected an expression
              --> bad.dl:2:9
               |
             2 |     x |>
               |         ^
            """);
    }

    [Fact]
    public void An_unclosed_bracket_at_the_end_of_the_file_is_named_in_the_help()
    {
        Diagnose("train X {\n    data = mnist\n").ShouldBe("""
            error DL0107: unexpected end of file, expected `}`
              --> bad.dl:2:17
               |
             2 |     data = mnist
               |                 ^
               = help: the `{` on line 1 is never closed
            """);
    }

    [Fact]
    public void Bad_numbers_and_escapes_have_their_own_codes()
    {
        Parse("let a = 1e\n").Diagnostics.ShouldHaveSingleItem().Code.ShouldBe("DL0106");
        Parse("let a = 3x\n").Diagnostics.ShouldHaveSingleItem().Message.ShouldBe("`3x` is not a number");
        Parse("let a = \"\\q\"\n").Diagnostics.ShouldHaveSingleItem().Code.ShouldBe("DL0109");
        Parse("let a = 1 (* open\n").Diagnostics.ShouldHaveSingleItem().Message.ShouldBe("the file ends inside this `(*` comment");
    }

    [Fact]
    public void Text_before_the_first_declaration_is_reported_once()
    {
        var result = Parse("x |> f\ny\nlet a = 1\n");
        result.Diagnostics.ShouldHaveSingleItem().Message.ShouldBe("unexpected identifier `x`, expected a declaration");
        result.Unit.Declarations.ShouldHaveSingleItem();
        Parse("  model M = 1\n").Diagnostics.ShouldHaveSingleItem().Message.ShouldBe("`model` must start at column 1 to begin a declaration");
    }

    [Fact]
    public void Errors_in_several_declarations_are_all_reported_and_the_good_ones_kept()
    {
        var result = Parse("""
            let a = (1 +
            let b = 2
            model M (x: Tensor[N, 4]) : Tensor[N, 4]
                x
            train M { data = $ }
            let c = 3
            """);
        result.Diagnostics.Select(d => (d.Code, d.Source!.GetPosition(d.Span.Start).Line)).ShouldBe(
            [("DL0101", 1), ("DL0105", 4), ("DL0102", 5)]);
        result.Diagnostics[0].Message.ShouldBe("unexpected end of `let a`, expected an expression");
        result.Unit.Declarations.Select(d => d.GetType().Name).ShouldBe(["LetDecl", "LetDecl"]);
        result.HasErrors.ShouldBeTrue();
    }

    [Fact]
    public void Only_the_first_mistake_of_a_declaration_is_reported()
    {
        Parse("model M (x: Tensor[N, 4]) =\n    x |> ) |> (\n    $\n").Diagnostics.ShouldHaveSingleItem().Span.Start.ShouldBe(37);
    }
}
