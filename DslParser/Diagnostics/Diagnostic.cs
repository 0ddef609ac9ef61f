namespace Dlc.Diagnostics;

public enum Severity
{
    Error,
    Warning,
    Note,
}

/// <summary>
/// One finding about a user's input: a stable code from <see cref="DiagnosticCatalog"/>, where it is,
/// a one-line message and, where one helps, a hint. Diagnostics are data; the CLI renders them.
/// </summary>
public sealed record Diagnostic(
    DiagnosticDescriptor Descriptor,
    SourceText? Source,
    TextSpan Span,
    string Message,
    string? Help = null)
{
    public string Code => Descriptor.Code;
    public Severity Severity => Descriptor.Severity;
    public bool IsError => Severity == Severity.Error;

    /// <summary>file:line:col, or just the file when there is no source text.</summary>
    public string Location => Source is null ? "" : $"{Source.Path}:{Source.GetPosition(Span.Start)}";

    public override string ToString() => $"{Severity.ToString().ToLowerInvariant()} {Code}: {Message}";
}

/// <summary>A code, its severity and a one-line explanation for docs and `--json` output.</summary>
public sealed record DiagnosticDescriptor(string Code, Severity Severity, string Title)
{
    /// <summary>Make a diagnostic of this kind at a span of a source file.</summary>
    public Diagnostic At(SourceText? source, TextSpan span, string message, string? help = null) =>
        new(this, source, span, message, help);
}

/// <summary>Thrown by library code when user input is wrong; the CLI renders the diagnostics and exits 1.</summary>
public sealed class DiagnosticException(IReadOnlyList<Diagnostic> diagnostics)
    : Exception(string.Join(Environment.NewLine, diagnostics.Select(d => d.ToString())))
{
    public DiagnosticException(Diagnostic diagnostic) : this([diagnostic]) { }

    public IReadOnlyList<Diagnostic> Diagnostics { get; } = diagnostics;
}
