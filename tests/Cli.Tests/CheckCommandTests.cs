using System.Text.Json;
using Dlc.Cli.Tests.Support;

namespace Dlc.Cli.Tests;

/// <summary>`dlc check`: the layer table of every model, and what the user reads when a file is wrong.</summary>
public class CheckCommandTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public static TheoryData<string> Examples => new(Repository.Examples.Select(Path.GetFileName)!);

    [Theory]
    [MemberData(nameof(Examples))]
    public void Every_example_checks_and_prints_its_layer_table(string example)
    {
        var path = Path.Combine(Repository.Root, "examples", example);
        var run = Shell.Run("check", path).ShouldSucceed();
        run.Out.ShouldContain("  name ");
        run.Out.ShouldContain("parameters");
        run.Out.ShouldContain("total: ");
        run.Out.ShouldContain($"ok: {path} (");
        run.Error.ShouldBeEmpty();
    }

    [Fact]
    public void The_layer_table_lists_layers_with_their_output_shapes_and_parameter_counts()
    {
        var path = _folder.Write("tiny.dl", TinyProject.Source());
        var run = Shell.Run("check", path).ShouldSucceed();
        run.Out.ShouldStartWith("""
            model Tiny (image: Tensor[N, 64]) : Tensor[N, 4]
              name         layer     output         parameters  line
              Tiny.dense1  dense 16  Tensor[N, 16]       1,040     3
              relu         relu      Tensor[N, 16]           0     3
              Tiny.dense2  dense 4   Tensor[N, 4]           68     4
              total: 1,108 parameters (4.3 KiB)
            """);
        run.Out.ShouldContain("train Tiny: idx train-images.idx, crossEntropy, adam lr=0.01");
        run.Out.ShouldEndWith($"ok: {path} (1 model, 1 train record)\n");
    }

    [Theory]
    [MemberData(nameof(Examples))]
    public void Check_json_describes_the_models_layers_and_parameters(string example)
    {
        var run = Shell.Run("check", Path.Combine(Repository.Root, "examples", example), "--json").ShouldSucceed();
        using var json = JsonDocument.Parse(run.Out);
        var models = json.RootElement.GetProperty("models");
        models.GetArrayLength().ShouldBeGreaterThan(0);
        foreach (var model in models.EnumerateArray())
        {
            var layers = model.GetProperty("layers");
            layers.GetArrayLength().ShouldBeGreaterThan(0);
            var sum = layers.EnumerateArray().Sum(l => l.GetProperty("parameters").GetInt64());
            model.GetProperty("parameters").GetInt64().ShouldBe(sum);
            sum.ShouldBeGreaterThan(0);
        }
    }

    [Fact]
    public void Check_json_of_the_tiny_model_has_the_exact_counts()
    {
        var run = Shell.Run("check", _folder.Write("tiny.dl", TinyProject.Source()), "--json").ShouldSucceed();
        using var json = JsonDocument.Parse(run.Out);
        var model = json.RootElement.GetProperty("models")[0];
        model.GetProperty("name").GetString().ShouldBe("Tiny");
        model.GetProperty("parameters").GetInt64().ShouldBe(1108);
        model.GetProperty("layers").EnumerateArray().Select(l => l.GetProperty("name").GetString())
            .ShouldBe(["Tiny.dense1", "relu", "Tiny.dense2"]);
        json.RootElement.GetProperty("trains")[0].GetProperty("epochs").GetInt32().ShouldBe(2);
    }

    [Fact]
    public void A_syntax_error_is_shown_at_its_line_and_column_with_carets()
    {
        var path = _folder.Write("syntax.dl", "model M (x: Tensor[N, 4]) : Tensor[N, 2] =\n    x |> dense 2 |>\n");
        var run = Shell.Run("check", path).ShouldFailWith(ExitCodes.UserError);
        run.Out.ShouldBeEmpty();
        run.Error.ShouldBe($"""
            error DL0107: unexpected end of file, expected an expression
              --> {path}:2:20
               |
             2 |     x |> dense 2 |>
               |                    ^

            1 error

            """);
    }

    [Fact]
    public void An_unknown_layer_is_shown_with_a_did_you_mean()
    {
        var path = _folder.Write("typo.dl", "model M (x: Tensor[N, 4]) : Tensor[N, 2] =\n    x |> dense 3 |> rleu |> dense 2\n");
        var run = Shell.Run("check", path).ShouldFailWith(ExitCodes.UserError);
        run.Error.ShouldBe($"""
            error DL0201: `rleu` is not defined
              --> {path}:2:21
               |
             2 |     x |> dense 3 |> rleu |> dense 2
               |                     ^^^^
               = help: did you mean `relu`?

            1 error

            """);
    }

    [Fact]
    public void A_shape_mismatch_names_both_shapes_and_where_the_result_comes_from()
    {
        var path = _folder.Write("shape.dl", "model M (x: Tensor[N, 4]) : Tensor[N, 2] =\n    x |> dense 3 |> relu |> dense 5\n");
        Shell.Run("check", path).ShouldFailWith(ExitCodes.UserError,
            "error DL0303: `model M` returns Tensor[N, 5], but its type says Tensor[N, 2]",
            $"--> {path}:2:29",
            " 2 |     x |> dense 3 |> relu |> dense 5\n",
            "   |                             ^^^^^^^\n",
            "= help: the result comes from `dense 5` (line 2)",
            "1 error");
    }

    [Fact]
    public void Several_errors_are_each_shown_once_and_counted()
    {
        var path = _folder.Write("two.dl", "model A (x: Tensor[N, 4]) : Tensor[N, 2] =\n    x |> rleu |> dense 2\n\n" +
                                           "model B (x: Tensor[N, 4]) : Tensor[N, 2] =\n    x |> dense 3 |> sigmiod |> dense 2\n");
        var run = Shell.Run("check", path).ShouldFailWith(ExitCodes.UserError, "`rleu` is not defined", "`sigmiod` is not defined");
        run.Error.ShouldEndWith("\n\n2 errors\n");
        run.Error.ShouldNotContain("\n\n\n");
    }

    [Fact]
    public void A_missing_file_is_named_without_a_stack_trace()
    {
        var path = _folder["missing.dl"];
        Shell.Run("check", path).ShouldFailWith(ExitCodes.UserError, $"error DL0901: {path}: no such file");
    }

    [Fact]
    public void A_folder_given_as_the_file_says_so()
    {
        Shell.Run("check", _folder.Path).ShouldFailWith(ExitCodes.UserError, "DL0901", "this is a folder; give the path of a .dl file");
    }

    [Fact]
    public void Errors_with_json_are_a_json_array_of_diagnostics_on_stdout()
    {
        var path = _folder.Write("typo.dl", "model M (x: Tensor[N, 4]) : Tensor[N, 2] =\n    x |> dense 3 |> rleu |> dense 2\n");
        var run = Shell.Run("check", path, "--json");
        run.ExitCode.ShouldBe(ExitCodes.UserError);
        using var json = JsonDocument.Parse(run.Out);
        var d = json.RootElement[0];
        d.GetProperty("code").GetString().ShouldBe("DL0201");
        d.GetProperty("file").GetString().ShouldBe(path);
        d.GetProperty("line").GetInt32().ShouldBe(2);
        d.GetProperty("column").GetInt32().ShouldBe(21);
        d.GetProperty("help").GetString().ShouldBe("did you mean `relu`?");
    }

    [Theory]
    [InlineData("frobnicate {0}", "'frobnicate'")]
    [InlineData("check {0} --frob", "'--frob'")]
    [InlineData("train {0} --epochs", "'--epochs'")]
    public void An_unparsable_command_line_exits_2_and_points_to_help(string args, string named)
    {
        var run = Shell.Run(string.Format(args, _folder["x.dl"]).Split(' ')).ShouldFailWith(ExitCodes.Usage, named);
        run.Error.ShouldEndWith("run `dlc --help` for the commands and their options\n");
    }

    [Fact]
    public void Help_is_printed_on_stdout_and_exits_0()
    {
        var run = Shell.Run("--help").ShouldSucceed();
        run.Out.ShouldContain("check");
        run.Out.ShouldContain("train");
        run.Out.ShouldContain("bench");
    }

    public void Dispose() => _folder.Dispose();
}
