using System.CommandLine;
using Dlc.Cli.Commands;
using Dlc.Cli.Output;
using Dlc.Diagnostics;
using Dlc.Runtime.Data;

namespace Dlc.Cli;

/// <summary>
/// The command line: one command per file under Commands/. This is the one place that turns
/// exceptions into messages and exit codes; library code never prints or exits.
/// </summary>
public static class DlcCli
{
    public static RootCommand BuildRoot(CliContext context)
    {
        var root = new RootCommand("dlc: check, train, evaluate, benchmark and format models written in .dl files");
        root.Subcommands.Add(CheckCommand.Create(context));
        root.Subcommands.Add(TrainCommand.Create(context));
        root.Subcommands.Add(EvalCommand.Create(context));
        root.Subcommands.Add(BenchCommand.Create(context));
        root.Subcommands.Add(FmtCommand.Create(context));
        root.Subcommands.Add(CompileCommand.Create(context));
        root.Subcommands.Add(PruneCommand.Create(context));
        root.Subcommands.Add(ExplainCommand.Create(context));
        root.Subcommands.Add(SampleCommand.Create(context));
        return root;
    }

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr) => Run(args, stdout, stderr, CancellationToken.None);

    /// <summary>Runs a command; <paramref name="cancel"/> interrupts a running job as Ctrl+C does.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancel, TextReader? stdin = null)
    {
        var context = new CliContext(stdout, stderr) { Cancel = cancel, In = stdin ?? Console.In };
        var root = BuildRoot(context);
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors) stderr.WriteLine($"error: {error.Message}");
            stderr.WriteLine("run `dlc --help` for the commands and their options");
            // A value given to an option or argument and refused (`--lr 0`, `--epochs abc`) is wrong input, as a wrong
            // model is; a line that does not parse (an unknown command or option, a required one missing) is a usage error.
            var valuesOnly = parse.Errors.All(e => e.SymbolResult is System.CommandLine.Parsing.OptionResult { Tokens.Count: > 0 }
                or System.CommandLine.Parsing.ArgumentResult { Tokens.Count: > 0 });
            return valuesOnly ? ExitCodes.UserError : ExitCodes.Usage;
        }
        try
        {
            return parse.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
        }
        catch (DiagnosticException ex)
        {
            context.Report(ex.Diagnostics);
            return ExitCodes.UserError;
        }
        catch (DataException ex)
        {
            context.Report([Runtime.Training.DataDiagnostics.From(ex)]);
            return ExitCodes.UserError;
        }
        catch (UsageException ex)
        {
            stderr.WriteLine($"error: {ex.Message}");
            return ExitCodes.UserError;
        }
        catch (OperationCanceledException)
        {
            stderr.WriteLine("stopped: interrupted (the last completed checkpoint is kept)");
            return ExitCodes.Interrupted;
        }
        catch (Exception ex)
        {
            stderr.WriteLine($"internal error: {ex.GetType().Name}: {ex.Message}");
            stderr.WriteLine("this is a bug in dlc; the stack trace follows for the report");
            stderr.WriteLine(ex.StackTrace);
            return ExitCodes.Internal;
        }
    }
}

/// <summary>
/// A command line that parsed but whose values do not make sense (a value out of range, a model the file does not
/// have, options that exclude each other): exit code 1, as for any wrong input; 2 is for a line that does not parse.
/// </summary>
public sealed class UsageException(string message) : Exception(message);
