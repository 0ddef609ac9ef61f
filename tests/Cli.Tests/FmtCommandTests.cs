using Dlc.Cli.Tests.Support;

namespace Dlc.Cli.Tests;

/// <summary>`dlc fmt`: rewriting in place, `--check` for CI, printing, and files it must not touch.</summary>
public class FmtCommandTests : IDisposable
{
    private const string Untidy = "// a model\nmodel M (x:Tensor[N,4]) =\n  x|>dense 2 // two\n";
    private const string Tidy = "// a model\nmodel M (x: Tensor[N, 4]) =\n    x |> dense 2 // two\n";

    private readonly TempFolder _folder = new();

    [Fact]
    public void Fmt_rewrites_an_untidy_file_in_place_and_names_it()
    {
        var path = _folder.Write("m.dl", Untidy);
        Shell.Run("fmt", path).ShouldSucceed().Out.ShouldBe($"formatted {path}\n");
        File.ReadAllText(path).ShouldBe(Tidy);
        Shell.Run("fmt", path).ShouldSucceed().Out.ShouldBeEmpty();
        _folder.Files().ShouldBe(["m.dl"]);
    }

    [Fact]
    public void Check_lists_the_files_that_are_not_formatted_exits_with_1_and_changes_nothing()
    {
        var untidy = _folder.Write("a.dl", Untidy);
        var tidy = _folder.Write("b.dl", Tidy);
        var run = Shell.Run("fmt", "--check", _folder.Path).ShouldFailWith(ExitCodes.UserError, "1 file is not formatted");
        run.Out.ShouldBe($"{untidy}\n");
        File.ReadAllText(untidy).ShouldBe(Untidy);
        Shell.Run("fmt", "--check", tidy).ShouldSucceed().Out.ShouldBeEmpty();
    }

    [Fact]
    public void Every_example_is_formatted()
    {
        var run = Shell.Run("fmt", "--check", Path.Combine(Repository.Root, "examples"));
        run.ExitCode.ShouldBe(ExitCodes.Ok, run.ToString());
    }

    [Fact]
    public void A_file_with_a_syntax_error_is_reported_as_check_reports_it_and_left_alone()
    {
        var text = "model M (x: Tensor[N, 4]) =\n    x |>\n";
        var path = _folder.Write("bad.dl", text);
        Shell.Run("fmt", path).ShouldFailWith(ExitCodes.UserError, "error DL01", $"--> {path}:", "1 error");
        File.ReadAllText(path).ShouldBe(text);
    }

    [Fact]
    public void Stdout_prints_the_formatted_text_and_leaves_the_file()
    {
        var path = _folder.Write("m.dl", Untidy);
        Shell.Run("fmt", "--stdout", path).ShouldSucceed().Out.ShouldBe(Tidy);
        File.ReadAllText(path).ShouldBe(Untidy);
    }

    [Fact]
    public void A_dash_formats_stdin_to_stdout()
    {
        var stdout = new StringWriter();
        var code = DlcCli.Run(["fmt", "-"], stdout, new StringWriter(), CancellationToken.None, new StringReader(Untidy));
        code.ShouldBe(ExitCodes.Ok);
        stdout.ToString().ShouldBe(Tidy);
    }

    [Fact]
    public void A_missing_file_is_DL0901()
    {
        Shell.Run("fmt", _folder["none.dl"]).ShouldFailWith(ExitCodes.UserError, "error DL0901", "none.dl: no such file or folder");
    }

    public void Dispose() => _folder.Dispose();
}
