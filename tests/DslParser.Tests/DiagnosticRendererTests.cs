using System.Text.Json;
using System.Text.RegularExpressions;
using Dlc.Diagnostics;

namespace Dlc.DslParser.Tests;

public class DiagnosticRendererTests
{
    private const string Residual = """
        model Residual (x: Tensor[N, 256]) =
            // a skip connection around one dense layer
            let h = x |> dense 256
            let h = h + (h |> dense 128 |> relu)
            h
        """;

    private static readonly SourceText Source = new("examples/residual.dl", Residual);

    private static Diagnostic At(int line, int column, int length, string? help = null, SourceText? source = null)
    {
        source ??= Source;
        var start = source.Text.Split('\n').Take(line - 1).Sum(l => l.Length + 1) + column - 1;
        return DiagnosticCatalog.ShapeMismatch.At(source, new TextSpan(start, length),
            "shape mismatch in `+`: left is Tensor[N, 256], right is Tensor[N, 128]", help);
    }

    [Fact]
    public void A_diagnostic_shows_its_header_location_source_line_carets_and_help()
    {
        DiagnosticRenderer.Render(At(4, 13, 28, "the right operand comes from `dense 128` (line 4); did you mean `dense 256`?")).ShouldBe("""
            error DL0301: shape mismatch in `+`: left is Tensor[N, 256], right is Tensor[N, 128]
              --> examples/residual.dl:4:13
               |
             4 |     let h = h + (h |> dense 128 |> relu)
               |             ^^^^^^^^^^^^^^^^^^^^^^^^^^^^
               = help: the right operand comes from `dense 128` (line 4); did you mean `dense 256`?

            """);
    }

    [Fact]
    public void Without_help_there_is_no_help_line()
    {
        DiagnosticRenderer.Render(At(3, 18, 5)).ShouldEndWith("""
             3 |     let h = x |> dense 256
               |                  ^^^^^

            """);
    }

    [Fact]
    public void The_gutter_widens_with_the_line_number()
    {
        var source = new SourceText("long.dl", string.Concat(Enumerable.Repeat("let a = 1\n", 11)) + "let b = c\n");
        DiagnosticRenderer.Render(At(12, 9, 1, "define `c` first", source)).ShouldBe("""
            error DL0301: shape mismatch in `+`: left is Tensor[N, 256], right is Tensor[N, 128]
               --> long.dl:12:9
                |
             12 | let b = c
                |         ^
                = help: define `c` first

            """);
    }

    [Fact]
    public void A_span_over_several_lines_is_underlined_to_the_end_of_its_first_line()
    {
        DiagnosticRenderer.Render(At(3, 13, 40)).ShouldEndWith("""
             3 |     let h = x |> dense 256
               |             ^^^^^^^^^^^^^^

            """);
    }

    [Fact]
    public void An_empty_span_gets_one_caret_even_at_the_end_of_a_line()
    {
        DiagnosticRenderer.Render(At(3, 27, 0)).ShouldEndWith("""
             3 |     let h = x |> dense 256
               |                           ^

            """);
    }

    [Fact]
    public void Tabs_are_expanded_so_the_carets_stay_under_the_span()
    {
        var source = new SourceText("tabs.dl", "model M =\n\tx |>\tbad\n");
        DiagnosticRenderer.Render(At(2, 6, 4, null, source)).ShouldEndWith("""
             2 |     x |>    bad
               |         ^^^^^^^

            """);
    }

    [Fact]
    public void Without_source_text_only_the_message_and_help_are_shown()
    {
        var d = DiagnosticCatalog.FileNotFound.At(null, default, "`data/train.csv` does not exist", "check the path in `data`");
        DiagnosticRenderer.Render(d).ShouldBe("""
            error DL0901: `data/train.csv` does not exist
              = help: check the path in `data`

            """);
    }

    [Fact]
    public void Colour_only_adds_escape_codes_around_the_same_text()
    {
        var d = At(4, 13, 28, "a help");
        var coloured = DiagnosticRenderer.Render(d, color: true);
        coloured.ShouldContain("\u001b[");
        Regex.Replace(coloured, "\u001b\\[[0-9;]*m", "").ShouldBe(DiagnosticRenderer.Render(d));
        DiagnosticRenderer.Render(d).ShouldNotContain("\u001b");
    }

    [Fact]
    public void Json_output_lists_code_severity_message_positions_and_help()
    {
        var withSource = At(4, 13, 28, "a help");
        var withoutSource = DiagnosticCatalog.MissingLibrary.At(null, default, "libtorch is missing");
        using var json = JsonDocument.Parse(DiagnosticRenderer.RenderJson([withSource, withoutSource]));
        var first = json.RootElement[0];
        first.GetProperty("code").GetString().ShouldBe("DL0301");
        first.GetProperty("severity").GetString().ShouldBe("error");
        first.GetProperty("message").GetString().ShouldBe(withSource.Message);
        first.GetProperty("file").GetString().ShouldBe("examples/residual.dl");
        (first.GetProperty("line").GetInt32(), first.GetProperty("column").GetInt32()).ShouldBe((4, 13));
        (first.GetProperty("endLine").GetInt32(), first.GetProperty("endColumn").GetInt32()).ShouldBe((4, 41));
        first.GetProperty("help").GetString().ShouldBe("a help");
        var second = json.RootElement[1];
        second.GetProperty("severity").GetString().ShouldBe("warning");
        second.GetProperty("file").ValueKind.ShouldBe(JsonValueKind.Null);
        second.GetProperty("help").ValueKind.ShouldBe(JsonValueKind.Null);
    }

    [Fact]
    public void Json_output_of_no_diagnostics_is_an_empty_array() =>
        JsonDocument.Parse(DiagnosticRenderer.RenderJson([])).RootElement.GetArrayLength().ShouldBe(0);
}
