using System.CommandLine;
using System.Text;
using Dlc.Diagnostics;
using Dlc.Formatting;
using Dlc.Runtime.Checkpoints;

namespace Dlc.Cli.Commands;

/// <summary>
/// `dlc fmt files...`: rewrite .dl files in the canonical layout, keeping every comment. `--check` changes
/// nothing and fails when a file is not formatted (for CI); `--stdout` and `-` (stdin) print instead.
/// A file with syntax errors is reported as `dlc check` reports it and left as it was.
/// </summary>
internal static class FmtCommand
{
    private enum Mode { Write, Check, Print }

    public static Command Create(CliContext context)
    {
        var files = new Argument<string[]>("files")
        {
            Description = ".dl files, or folders (every .dl file under them); `-` reads stdin and writes stdout",
            Arity = ArgumentArity.OneOrMore,
        };
        var check = new Option<bool>("--check") { Description = "change nothing; list the files that are not formatted and exit with 1 if there are any" };
        var stdout = new Option<bool>("--stdout") { Description = "print the formatted text instead of rewriting the files" };
        var command = new Command("fmt", "rewrite .dl files in the canonical layout, keeping every comment") { files, check, stdout };
        command.SetAction(parse =>
            Run(context, parse.GetValue(files)!, parse.GetValue(check) ? Mode.Check : parse.GetValue(stdout) ? Mode.Print : Mode.Write));
        return command;
    }

    private static int Run(CliContext context, IReadOnlyList<string> arguments, Mode mode)
    {
        var exit = ExitCodes.Ok;
        var unformatted = 0;
        foreach (var path in Expand(context, arguments, ref exit))
        {
            var source = path == "-" ? new SourceText("<stdin>", context.In.ReadToEnd()) : SourceText.FromFile(path);
            var result = DlFormatter.Format(source);
            if (result.HasErrors)
            {
                context.Report(result.Diagnostics);
                exit = Math.Max(exit, ExitCodes.UserError);
            }
            else if (result.Failure is { } failure)
            {
                context.Error.WriteLine($"internal error: {path} was left as it was: {failure}");
                context.Error.WriteLine("this is a bug in dlc; please report it with the file");
                exit = ExitCodes.Internal;
            }
            else if (path == "-" || mode == Mode.Print)
                context.Out.Write(result.Text);
            else if (result.Unchanged(source))
                continue;
            else if (mode == Mode.Check)
            {
                context.Out.WriteLine(path);
                unformatted++;
            }
            else
            {
                AtomicFile.WriteAllBytes(path, Encoding.UTF8.GetBytes(result.Text!));
                context.Out.WriteLine($"formatted {path}");
            }
        }
        if (unformatted > 0)
        {
            context.Error.WriteLine($"{(unformatted == 1 ? "1 file is" : $"{unformatted} files are")} not formatted; `dlc fmt` rewrites them");
            exit = Math.Max(exit, ExitCodes.UserError);
        }
        return exit;
    }

    /// <summary>The files the arguments name, folders searched for .dl files; a missing one is reported (DL0901).</summary>
    private static List<string> Expand(CliContext context, IReadOnlyList<string> arguments, ref int exit)
    {
        var files = new List<string>();
        foreach (var argument in arguments)
        {
            if (argument == "-" || File.Exists(argument)) files.Add(argument);
            else if (Directory.Exists(argument))
                files.AddRange(Directory.EnumerateFiles(argument, "*.dl", SearchOption.AllDirectories).Order(StringComparer.Ordinal));
            else
            {
                context.Report([DiagnosticCatalog.FileNotFound.At(null, default, $"{argument}: no such file or folder")]);
                exit = Math.Max(exit, ExitCodes.UserError);
            }
        }
        return files;
    }
}
