using System.CommandLine;

namespace Dlc.Cli.Tests;

/// <summary>The command line as parsed, without running anything: which arguments are accepted and what they mean.</summary>
public class ParsingTests
{
    private static ParseResult Parse(params string[] args) =>
        DlcCli.BuildRoot(new CliContext(TextWriter.Null, TextWriter.Null)).Parse(args);

    private static string Errors(ParseResult parse) => string.Join("\n", parse.Errors.Select(e => e.Message));

    [Theory]
    [InlineData("check", "model.dl")]
    [InlineData("check", "model.dl", "--json")]
    [InlineData("train", "model.dl", "--epochs", "3", "--batch", "16", "--lr", "0.001", "--seed", "7", "--out", "run", "--json")]
    [InlineData("train", "model.dl", "--resume", "run/model.safetensors", "--threads", "4", "--gemm", "managed", "--model", "M")]
    [InlineData("eval", "model.dl", "--checkpoint", "run", "--split", "validation", "--gemm", "mkl")]
    [InlineData("bench", "model.dl", "--epochs", "1", "--json")]
    public void Well_formed_command_lines_parse_without_errors(params string[] args) =>
        Parse(args).Errors.ShouldBeEmpty();

    [Fact]
    public void An_unknown_command_is_an_error_naming_it() =>
        Errors(Parse("frobnicate", "model.dl")).ShouldContain("'frobnicate'");

    [Fact]
    public void An_unknown_option_is_an_error_naming_it() =>
        Errors(Parse("check", "model.dl", "--frob")).ShouldContain("'--frob'");

    [Fact]
    public void A_command_without_its_file_is_an_error() =>
        Parse("check").Errors.ShouldNotBeEmpty();

    [Fact]
    public void Eval_without_a_checkpoint_is_an_error_naming_the_option() =>
        Errors(Parse("eval", "model.dl")).ShouldContain("--checkpoint");

    [Theory]
    [InlineData("train", "--epochs", "0", "--epochs must be 1 or more")]
    [InlineData("train", "--epochs", "-2", "--epochs must be 1 or more")]
    [InlineData("train", "--epochs", "abc", "--epochs must be a whole number, not 'abc'")]
    [InlineData("train", "--epochs", "2.5", "--epochs must be a whole number, not '2.5'")]
    [InlineData("train", "--batch", "-1", "--batch must be 1 or more")]
    [InlineData("train", "--batch", "many", "--batch must be a whole number, not 'many'")]
    [InlineData("train", "--lr", "0", "--lr must be a number above 0")]
    [InlineData("train", "--lr", "-0.1", "--lr must be a number above 0")]
    [InlineData("train", "--lr", "NaN", "--lr must be a number above 0")]
    [InlineData("train", "--lr", "fast", "--lr must be a number, not 'fast'")]
    [InlineData("train", "--seed", "-1", "--seed must be 0 or more")]
    [InlineData("train", "--seed", "x", "--seed must be a whole number, not 'x'")]
    [InlineData("train", "--threads", "0", "--threads must be between 1 and 1024")]
    [InlineData("train", "--threads", "1025", "--threads must be between 1 and 1024")]
    [InlineData("eval", "--threads", "two", "--threads must be a whole number, not 'two'")]
    [InlineData("train", "--gemm", "foo", "--gemm must be `auto`, `mkl` or `managed`")]
    [InlineData("bench", "--gemm", "cuda", "--gemm must be `auto`, `mkl` or `managed`")]
    [InlineData("bench", "--epochs", "0", "--epochs must be 1 or more")]
    [InlineData("bench", "--epochs", "abc", "--epochs must be a whole number, not 'abc'")]
    [InlineData("eval", "--split", "everything", "--split must be test, validation or train")]
    public void A_bad_option_value_is_a_parse_error_that_names_the_option(string command, string option, string value, string message)
    {
        string[] args = command == "eval" ? [command, "model.dl", "--checkpoint", "run", option, value] : [command, "model.dl", option, value];
        Errors(Parse(args)).ShouldBe(message);
    }

    [Fact]
    public void Threads_default_to_two_and_the_gemm_to_the_best_available()
    {
        var parse = Parse("train", "model.dl");
        parse.Errors.ShouldBeEmpty();
        parse.GetValue<int>("--threads").ShouldBe(Math.Min(2, Environment.ProcessorCount));
        parse.GetValue<string?>("--gemm").ShouldBeNull();
    }

    [Fact]
    public void Training_options_not_given_leave_the_train_record_in_charge()
    {
        var parse = Parse("train", "model.dl");
        parse.GetValue<int?>("--epochs").ShouldBeNull();
        parse.GetValue<int?>("--batch").ShouldBeNull();
        parse.GetValue<double?>("--lr").ShouldBeNull();
        parse.GetValue<long?>("--seed").ShouldBeNull();
        parse.GetValue<string?>("--out").ShouldBeNull();
        parse.GetValue<string?>("--resume").ShouldBeNull();
    }

    [Fact]
    public void Option_values_are_read_as_invariant_numbers()
    {
        var parse = Parse("train", "model.dl", "--epochs", "3", "--lr", "1e-3", "--seed", "12345678901");
        parse.Errors.ShouldBeEmpty();
        parse.GetValue<int?>("--epochs").ShouldBe(3);
        parse.GetValue<double?>("--lr").ShouldBe(1e-3);
        parse.GetValue<long?>("--seed").ShouldBe(12345678901L);
    }

    [Fact]
    public void Eval_evaluates_the_test_split_by_default() =>
        Parse("eval", "model.dl", "--checkpoint", "run").GetValue<string>("--split").ShouldBe("test");

    [Fact]
    public void Bench_times_three_epochs_by_default() =>
        Parse("bench", "model.dl").GetValue<int>("--epochs").ShouldBe(3);
}
