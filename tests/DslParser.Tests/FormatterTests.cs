using Dlc.Diagnostics;
using Dlc.Formatting;
using Dlc.Syntax;
using static Dlc.DslParser.Tests.Parsing;

namespace Dlc.DslParser.Tests;

/// <summary>`dlc fmt`: the canonical layout, comments kept, meaning unchanged, idempotent.</summary>
public class FormatterTests
{
    public static TheoryData<string> ExampleFiles => new(ExampleFolder.Files);

    private static string Format(string text)
    {
        var result = DlFormatter.Format(new SourceText("test.dl", text));
        result.Diagnostics.ShouldBeEmpty();
        result.Failure.ShouldBeNull();
        return result.Text!;
    }

    [Theory]
    [MemberData(nameof(ExampleFiles))]
    public void Every_example_file_is_already_formatted(string file)
    {
        var source = SourceText.FromFile(Path.Combine(ExampleFolder.Root, file));
        var result = DlFormatter.Format(source);
        result.Failure.ShouldBeNull();
        result.Text.ShouldBe(source.Text, $"run `dlc fmt examples` and commit the result ({file})");
    }

    [Theory]
    [MemberData(nameof(Examples.Names), MemberType = typeof(Examples))]
    public void Formatting_a_program_of_the_sketch_keeps_its_tree_and_is_idempotent(string name)
    {
        var once = Format(Examples.All[name]);
        SyntaxEquality.Difference(Clean(Examples.All[name]), Clean(once)).ShouldBeNull(once);
        Format(once).ShouldBe(once);
    }

    [Theory]
    [MemberData(nameof(ExampleFiles))]
    public void Formatting_the_untidy_layout_of_an_example_gives_the_example_back(string file)
    {
        // Spaces taken away or doubled around operators, `=`, `,` and `:` outside comments.
        var text = File.ReadAllText(Path.Combine(ExampleFolder.Root, file));
        var untidy = string.Join('\n', text.Split('\n').Select(line => line.TrimStart().StartsWith("//", StringComparison.Ordinal)
            ? line
            : line.Replace(" = ", "=").Replace(" |> ", "  |>  ").Replace(", ", ",").Replace(": ", ":")));
        SyntaxEquality.Difference(Clean(text), Clean(untidy)).ShouldBeNull(untidy);
        Format(untidy).ShouldBe(text);
    }

    [Theory]
    [MemberData(nameof(ExampleFiles))]
    public void Comments_and_spaces_scattered_through_an_example_are_kept_and_formatting_twice_changes_nothing(string file)
    {
        var text = File.ReadAllText(Path.Combine(ExampleFolder.Root, file));
        var random = new Random(11);
        var formatted = 0;
        for (var trial = 0; trial < 25; trial++)
        {
            var lines = new List<string>();
            foreach (var line in text.Split('\n'))
            {
                var indent = line.Length - line.TrimStart().Length;
                var code = line.Trim().Length > 0 && !line.TrimStart().StartsWith("//", StringComparison.Ordinal);
                if (code && indent > 0 && random.Next(6) == 0) lines.Add(new string(' ', random.Next(indent + 3)) + $"// own line {trial}");
                var changed = code && random.Next(3) == 0 ? line.Replace(" = ", "  =").Replace(" |> ", "|>   ").Replace(", ", " ,") : line;
                if (code && indent > 0 && random.Next(8) == 0) changed = changed.Replace(" |> ", " (* inline *) |> ");
                if (code && !line.Contains("//", StringComparison.Ordinal) && random.Next(4) == 0) changed += $"   // end {trial}";
                lines.Add(changed);
                if (random.Next(8) == 0) lines.Add("");
            }
            var untidy = string.Join('\n', lines);
            // Spaces moved before a line's first token can change what the offside rule reads; such variants are skipped.
            if (Parse(untidy).HasErrors) continue;
            var result = DlFormatter.Format(new SourceText(file, untidy));
            result.Failure.ShouldBeNull(untidy);
            Format(result.Text!).ShouldBe(result.Text, untidy);
            formatted++;
        }
        formatted.ShouldBeGreaterThan(5);
    }

    [Fact]
    public void An_untidy_file_is_laid_out_canonically_with_every_comment_kept()
    {
        Format(Untidy).ShouldBe(Tidy);
        Format(Tidy).ShouldBe(Tidy);
    }

    [Fact]
    public void A_pipeline_keeps_its_line_breaks_and_one_written_on_one_line_stays_on_one()
    {
        Format("model M (x: Tensor[N, 4]) =\n  x |> dense 4\n       |> relu |> dense 2\n").ShouldBe(
            "model M (x: Tensor[N, 4]) =\n    x |> dense 4\n    |> relu |> dense 2\n");
        Format("let b = dense 4 >>   relu >> dense 2\n").ShouldBe("let b = dense 4 >> relu >> dense 2\n");
    }

    [Fact]
    public void A_line_broken_after_an_operator_breaks_before_it()
    {
        Format("let b =\n    dense 4 >>\n        relu\n").ShouldBe("let b =\n    dense 4\n    >> relu\n");
    }

    [Fact]
    public void A_let_value_continued_below_its_let_is_indented_under_it()
    {
        Format("model M (x: Tensor[N, 4]) =\n    let h = x |> dense 4\n              |> relu\n    h\n").ShouldBe(
            "model M (x: Tensor[N, 4]) =\n    let h = x |> dense 4\n        |> relu\n    h\n");
    }

    [Fact]
    public void A_comment_before_a_closing_brace_is_indented_like_the_fields()
    {
        Format("train M {\n    epochs = 1\n// the last\n}\n").ShouldBe("train M {\n    epochs = 1\n    // the last\n}\n");
    }

    [Fact]
    public void Trailing_comments_stay_at_the_end_of_their_lines()
    {
        Format("train M {\n  epochs=1   // one\n  batch = 2 // two\n}  // end\n").ShouldBe(
            "train M {\n    epochs = 1 // one\n    batch  = 2 // two\n} // end\n");
    }

    [Fact]
    public void A_comment_that_ended_a_line_inside_an_expression_ends_it_still()
    {
        var text = Format("let b = dense 4 >> // first\n        relu\n");
        // The break moves before the operator, as everywhere; the comment stays after the operator, ending its line.
        text.ShouldBe("let b = dense 4\n    >> // first\n        relu\n");
        Format(text).ShouldBe(text);
    }

    [Fact]
    public void A_comment_inside_a_tensor_type_breaks_the_line_deeper_than_the_first_dimension()
    {
        var text = Format("model M (x: Tensor[N, // batch\n                        784]) =\n    x\n");
        text.ShouldBe("model M (x: Tensor[N, // batch\n                    784]) =\n    x\n");
    }

    [Fact]
    public void Block_comments_keep_their_place_inline_and_on_lines_of_their_own()
    {
        Format("(* one\n   two *)\nlet a = 1 (* after *) + 2\n").ShouldBe("(* one\n   two *)\nlet a = 1 (* after *) + 2\n");
    }

    [Fact]
    public void Doc_comments_stay_attached_to_their_declarations()
    {
        var text = Format("let a = 1\n/// About b.\n///   indented\nlet b = 2\n");
        text.ShouldBe("let a = 1\n\n/// About b.\n///   indented\nlet b = 2\n");
        Clean(text).Declarations[1].Doc.ShouldBe("About b.\n  indented");
    }

    [Fact]
    public void Runs_of_blank_lines_collapse_to_one_and_the_file_ends_with_one_new_line()
    {
        Format("\n\n// a\n\n\n\n// b\nlet a = 1\n\n\n\n\n").ShouldBe("// a\n\n// b\nlet a = 1\n");
        Format("").ShouldBe("");
    }

    [Fact]
    public void Consecutive_imports_stay_together_and_other_declarations_are_one_blank_line_apart()
    {
        Format("import \"a.dl\"\nimport \"b.dl\"\nlet a = 1\nlet b = 2\n").ShouldBe(
            "import \"a.dl\"\nimport \"b.dl\"\n\nlet a = 1\n\nlet b = 2\n");
    }

    [Fact]
    public void Windows_line_ends_are_kept()
    {
        Format("let a =   1\r\nlet b = 2\r\n").ShouldBe("let a = 1\r\n\r\nlet b = 2\r\n");
    }

    [Fact]
    public void A_file_with_syntax_errors_gives_its_diagnostics_and_no_text()
    {
        var result = DlFormatter.Format(new SourceText("bad.dl", "model M (x: Tensor[N, 4]) =\n    x |> \n"));
        result.Text.ShouldBeNull();
        result.HasErrors.ShouldBeTrue();
        result.Diagnostics[0].Code.ShouldStartWith("DL01");
    }

    [Fact]
    public void Text_that_means_something_else_or_lost_a_comment_is_refused()
    {
        var source = new SourceText("m.dl", "let a = 1 + 2 // three\n");
        DlFormatter.Verify(source, "let a = 1 + 2 // three\n").ShouldBeNull();
        DlFormatter.Verify(source, "let a = 1 - 2 // three\n")!.ShouldContain("different tree (at Declarations[0].Body.Op)");
        DlFormatter.Verify(source, "let a = 1 + 2\n")!.ShouldContain("comments");
        DlFormatter.Verify(source, "let a = 1 +\n")!.ShouldContain("does not parse");
    }

    private const string Untidy = """
        // header comment   


        import   "lib/blocks.dl"
        import "other.dl" // trailing on import
        let   hidden=256 // the width
        /// Doc for the model.   
        ///second doc line
        model Mlp(image:Tensor[N,784]):Tensor[N,10]=
              // leading comment in body
              image |>dense hidden|>relu   // trailing after relu


              // own line between stages
              |> dense hidden
                 |> relu
              |>dense 10
            // after the body, indented
        train Mlp{
          data=fashionMnist{validation=0.1}
          loss =crossEntropy;optimizer= adam {lr=1e-3} // why adam
          // before epochs

          epochs=5
          metrics = [accuracy;
                       topK 3 ]
          // before the closing brace
        }
        let f = fun x -> x  |> dense   4
        let block (w: int) =
          dense w >>
            relu
        model R (x: Tensor[N, 4]) =
          let h = x |> dense 4 (* inline block *) |> relu
          let g = (
              let a = h
              a + h
              )
          let t = h,g
          (-h) + g*0.5 - (h)
        (* a block comment
           over two lines *)
        loss l (x, out) = out.a
        // end of file



        """;

    private const string Tidy = """
        // header comment

        import "lib/blocks.dl"
        import "other.dl" // trailing on import

        let hidden = 256 // the width

        /// Doc for the model.
        ///second doc line
        model Mlp (image: Tensor[N, 784]) : Tensor[N, 10] =
            // leading comment in body
            image |> dense hidden |> relu // trailing after relu

            // own line between stages
            |> dense hidden
            |> relu
            |> dense 10
            // after the body, indented

        train Mlp {
            data      = fashionMnist { validation = 0.1 }
            loss      = crossEntropy
            optimizer = adam { lr = 1e-3 } // why adam
            // before epochs

            epochs    = 5
            metrics   = [
                accuracy
                topK 3
            ]
            // before the closing brace
        }

        let f = fun x -> x |> dense 4

        let block (w: int) =
            dense w
            >> relu

        model R (x: Tensor[N, 4]) =
            let h = x |> dense 4 (* inline block *) |> relu
            let g = (
                let a = h
                a + h
            )
            let t = h, g
            (-h) + g * 0.5 - (h)

        (* a block comment
           over two lines *)
        loss l (x, out) =
            out.a
        // end of file

        """;
}

/// <summary>The repository's examples folder, found by walking up from the test assembly to dlc.sln.</summary>
public static class ExampleFolder
{
    public static string Root { get; } = Find();

    /// <summary>Every .dl file under examples/, relative to it.</summary>
    public static IEnumerable<string> Files =>
        Directory.EnumerateFiles(Root, "*.dl", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(Root, f)).Order(StringComparer.Ordinal);

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "dlc.sln"))) return Path.Combine(dir.FullName, "examples");
        throw new InvalidOperationException($"no dlc.sln above {AppContext.BaseDirectory}");
    }
}
