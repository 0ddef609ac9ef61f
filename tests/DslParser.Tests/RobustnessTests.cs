using Dlc.Diagnostics;
using Dlc.Syntax;
using static Dlc.DslParser.Tests.Parsing;

namespace Dlc.DslParser.Tests;

/// <summary>No input makes the parser throw or hang: mistakes are diagnostics.</summary>
public class RobustnessTests
{
    private static readonly string AllExamples = string.Concat(Examples.All.Values);

    [Fact]
    public void Every_truncation_of_the_examples_parses_without_throwing()
    {
        // Every third length (a different third for each example) keeps the run short but reaches every construct.
        var offset = 0;
        foreach (var example in Examples.All.Values)
        {
            for (var length = offset++ % 3; length <= example.Length; length += 3)
            {
                var result = Parse(example[..length]);
                result.Diagnostics.ShouldAllBe(d => d.Code.StartsWith("DL01"));
            }
        }
    }

    [Fact]
    public void Random_deletions_and_insertions_never_throw()
    {
        var random = new Random(1234);
        const string alphabet = "()[]{}|>-=:,;.\"\\\n\t *+/$'_aZ09(*";
        for (var round = 0; round < 400; round++)
        {
            var text = new System.Text.StringBuilder(AllExamples);
            for (var edit = 0; edit < 1 + round % 6; edit++)
            {
                var at = random.Next(text.Length);
                if (random.Next(2) == 0) text.Remove(at, Math.Min(text.Length - at, random.Next(1, 8)));
                else text.Insert(at, alphabet[random.Next(alphabet.Length)]);
            }
            var result = Parse(text.ToString());
            result.Diagnostics.ShouldAllBe(d => d.Span.Start >= 0 && d.Span.End <= text.Length);
            foreach (var d in result.Diagnostics) DiagnosticRenderer.Render(d).ShouldStartWith("error DL01");
        }
    }

    [Fact]
    public void Odd_characters_are_reported_and_render_as_json()
    {
        var result = Parse("let a = \"\ud800\"\nlet b = \ud800\nlet c = \0\n");
        result.Diagnostics.Select(d => d.Message).ShouldBe([
            "the character U+D800 is not part of the language", "the character U+0000 is not part of the language"]);
        result.Unit.Declarations.ShouldHaveSingleItem();
        using var json = System.Text.Json.JsonDocument.Parse(DiagnosticRenderer.RenderJson(Parse("train X \"\ud800\"\n").Diagnostics));
        json.RootElement[0].GetProperty("message").GetString().ShouldBe("unexpected string `\"\uFFFD\"`, expected `{`");
    }

    [Fact]
    public void Syntax_codes_are_unique_and_all_in_the_DL01_group()
    {
        DiagnosticCatalog.All.Select(d => d.Code).ShouldBeUnique();
        DiagnosticCatalog.All.Count(d => d.Code.StartsWith("DL01")).ShouldBe(10);
    }

    [Fact]
    public void An_empty_file_has_no_declarations_and_no_errors()
    {
        var result = Parse("");
        result.Unit.Declarations.ShouldBeEmpty();
        result.HasErrors.ShouldBeFalse();
        Parse("// only a comment\n\n").Diagnostics.ShouldBeEmpty();
    }

    [Fact]
    public void A_very_long_pipeline_parses()
    {
        var body = "x" + string.Concat(Enumerable.Repeat("\n    |> relu", 20000));
        var model = Single<ModelDecl>("model M (x: Tensor[N, 4]) =\n    " + body + "\n");
        model.Body.ShouldBeOfType<BinaryExpr>();
    }

    [Fact]
    public void Absurdly_deep_nesting_is_a_diagnostic_not_a_crash()
    {
        var deep = new string('(', 5000) + "x" + new string(')', 5000);
        Parse($"let a = {deep}\n").Diagnostics.ShouldHaveSingleItem().Code.ShouldBe("DL0110");
        Parse($"let a = {string.Concat(Enumerable.Repeat("- ", 5000))}x\n").Diagnostics.ShouldHaveSingleItem().Code.ShouldBe("DL0110");
        Parse($"let a = {new string('(', 100)}x{new string(')', 100)}\n").Diagnostics.ShouldBeEmpty();
    }
}
