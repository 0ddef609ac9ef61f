using Dlc.Compiler.Ir;

namespace Dlc.Compiler.Tests;

/// <summary>`import "file.dl"`: relative paths, the lets it makes visible, cycles, missing files, errors in the imported file.</summary>
public class ImportTests
{
    private const string Blocks = """
        let width = 32

        /// A hidden layer with its activation.
        let block (units: int) = dense units >> relu
        """;

    [Fact]
    public void The_top_level_lets_of_an_imported_file_are_visible()
    {
        var file = Compile.WithFiles("""
            import "lib/blocks.dl"

            model M (x: Tensor[N, 8]) : Tensor[N, 2] =
                x |> block width |> dense 2
            """, ("lib/blocks.dl", Blocks));
        Compile.Rendered(file).ShouldBeEmpty();
        file.Models[0].Graph.Parameters.Select(p => $"{p.Name} {p.Shape}").ShouldBe(
            ["M.block.dense.weight Tensor[32, 8]", "M.block.dense.bias Tensor[32]", "M.dense.weight Tensor[2, 32]", "M.dense.bias Tensor[2]"]);
    }

    [Fact]
    public void An_import_path_is_relative_to_the_file_that_imports()
    {
        var file = Compile.WithFiles("""
            import "lib/a.dl"

            model M (x: Tensor[N, 8]) : Tensor[N, 4] =
                x |> twice 4
            """, ("lib/a.dl", "import \"b.dl\"\n\nlet twice (units: int) = single units >> single units\n"),
                 ("lib/b.dl", "let single (units: int) = dense units >> relu\n"));
        Compile.Rendered(file).ShouldBeEmpty();
        file.Models[0].OutputShape.ShouldBe(new Shape(Dim.Sym("N"), 4));
    }

    [Fact]
    public void What_an_imported_file_imports_is_not_visible_to_the_importer()
    {
        var file = Compile.WithFiles("import \"a.dl\"\n\nmodel M (x: Tensor[N, 8]) =\n    x |> single 4\n",
            ("a.dl", "import \"b.dl\"\n\nlet twice (units: int) = single units >> single units\n"),
            ("b.dl", "let single (units: int) = dense units >> relu\n"));
        Compile.Rendered(file).ShouldStartWith("error DL0201: `single` is not defined");
    }

    [Fact]
    public void A_layer_written_in_an_imported_file_is_located_in_that_file()
    {
        var model = Compile.WithFiles("import \"blocks.dl\"\n\nmodel M (x: Tensor[N, 8]) =\n    x |> block 4\n", ("blocks.dl", Blocks)).Models[0];
        var dense = model.Layers[0];
        (dense.Origin.Source.Path, dense.Origin.Source.GetPosition(dense.Origin.Span.Start).Line).ShouldBe(("blocks.dl", 4));
        var matmul = model.Graph.Nodes.First(n => n.Op == Op.MatMul);
        model.SourceOf(matmul.Id).Path.ShouldBe("blocks.dl");
    }

    [Fact]
    public void An_import_cycle_is_reported_at_the_import_that_closes_it()
    {
        var file = Compile.WithFiles("import \"a.dl\"\n", ("a.dl", "import \"b.dl\"\n"), ("b.dl", "let x = 1\n\nimport \"a.dl\"\n"));
        Compile.Rendered(file).ShouldBe("""
            error DL0207: import cycle: a.dl → b.dl → a.dl
              --> b.dl:3:8
               |
             3 | import "a.dl"
               |        ^^^^^^
               = help: files cannot import each other; move what both need into a third file that both import
            """);
    }

    [Fact]
    public void A_file_that_imports_itself_is_a_cycle()
    {
        Compile.Rendered(Compile.WithFiles("import \"main.dl\"\n")).ShouldStartWith("error DL0207: import cycle: main.dl → main.dl");
    }

    [Fact]
    public void A_missing_imported_file_is_reported_at_its_path()
    {
        Compile.Rendered(Compile.WithFiles("import \"blocks.dl\"\n\nmodel M (x: Tensor[N, 8]) =\n    x |> dense 2\n")).ShouldBe("""
            error DL0901: cannot import `blocks.dl`: there is no file blocks.dl
              --> main.dl:1:8
               |
             1 | import "blocks.dl"
               |        ^^^^^^^^^^^
               = help: the path is relative to the file that imports it
            """);
    }

    [Fact]
    public void A_syntax_error_in_an_imported_file_is_reported_in_that_file()
    {
        var file = Compile.WithFiles("import \"blocks.dl\"\n", ("blocks.dl", "let block (units: int) dense units\n"));
        file.Diagnostics.ShouldHaveSingleItem().Source!.Path.ShouldBe("blocks.dl");
        Compile.Rendered(file).ShouldStartWith("error DL0107: unexpected end of file, expected `=`\n  --> blocks.dl:1:35");
    }

    [Fact]
    public void A_shape_error_inside_an_imported_function_is_reported_in_that_file()
    {
        var file = Compile.WithFiles("import \"blocks.dl\"\n\nmodel M (x: Tensor[N, 8]) =\n    x |> residual 4\n",
            ("blocks.dl", "let residual (units: int) =\n    fun x -> x + (x |> dense units)\n"));
        Compile.Rendered(file).ShouldBe("""
            error DL0301: shape mismatch in `+`: left is Tensor[N, 8], right is Tensor[N, 4]
              --> blocks.dl:2:14
               |
             2 |     fun x -> x + (x |> dense units)
               |              ^^^^^^^^^^^^^^^^^^^^^^
               = help: axis 1 is 8 on the left and 4 on the right, and neither is 1, so they do not broadcast; the right operand comes from `dense 4` (line 2); did you mean `dense 8`?
            """);
    }

    [Fact]
    public void A_let_of_the_importing_file_shadows_an_imported_one()
    {
        var file = Compile.WithFiles("import \"blocks.dl\"\n\nlet width = 3\n\nmodel M (x: Tensor[N, 8]) =\n    x |> dense width\n", ("blocks.dl", Blocks));
        file.Models[0].OutputShape.ShouldBe(new Shape(Dim.Sym("N"), 3));
    }
}
