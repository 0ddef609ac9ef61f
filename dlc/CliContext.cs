using Dlc.Diagnostics;

namespace Dlc.Cli;

/// <summary>Where commands write, and how: colours and progress only on a terminal, JSON when asked.</summary>
public sealed class CliContext(TextWriter stdout, TextWriter stderr)
{
    public TextWriter Out { get; } = stdout;
    public TextWriter Error { get; } = stderr;

    /// <summary>What `dlc fmt -` reads.</summary>
    public TextReader In { get; init; } = Console.In;

    /// <summary>True when stderr is a terminal: progress bars and colour; otherwise plain lines.</summary>
    public bool Interactive { get; init; } =
        ReferenceEquals(stderr, Console.Error) && !Console.IsErrorRedirected && Environment.GetEnvironmentVariable("TERM") is not (null or "dumb");

    public bool Json { get; set; }

    /// <summary>Stops a running job as Ctrl+C does (for hosts that run commands in-process, such as tests).</summary>
    public CancellationToken Cancel { get; init; }

    public void Report(IEnumerable<Diagnostic> diagnostics)
    {
        var list = diagnostics.ToList();
        if (Json)
        {
            Out.WriteLine(DiagnosticRenderer.RenderJson(list));
            return;
        }
        foreach (var d in list)
        {
            // Render ends with a newline; one blank line separates diagnostics.
            Error.Write(DiagnosticRenderer.Render(d, color: Interactive));
            Error.WriteLine();
        }
        var errors = list.Count(d => d.IsError);
        if (errors > 0) Error.WriteLine(errors == 1 ? "1 error" : $"{errors} errors");
    }
}
