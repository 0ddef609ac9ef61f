using System.Text;

namespace Dlc.Cli.Tests.Support;

/// <summary>
/// A stderr that interrupts the run, as Ctrl+C would, once it reports epoch <c>n</c> (and so after that epoch's
/// checkpoint): the way to leave a run of several epochs half done.
/// </summary>
public sealed class StopAfterEpoch(int epoch) : StringWriter
{
    private readonly StringBuilder _line = new();

    public CancellationTokenSource Cancel { get; } = new();

    public override void Write(char value)
    {
        base.Write(value);
        if (value != '\n')
        {
            _line.Append(value);
            return;
        }
        if (_line.ToString().StartsWith($"epoch {epoch}/", StringComparison.Ordinal)) Cancel.Cancel();
        _line.Clear();
    }

    public override void Write(string? value)
    {
        foreach (var c in value ?? "") Write(c);
    }

    public override void WriteLine(string? value)
    {
        Write(value);
        Write('\n');
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) Cancel.Dispose();
        base.Dispose(disposing);
    }
}
