namespace Dlc.Cli;

/// <summary>The process exit codes, stable for scripts.</summary>
public static class ExitCodes
{
    /// <summary>The job ran and succeeded.</summary>
    public const int Ok = 0;

    /// <summary>The model, its data or an option value is wrong; diagnostics were printed.</summary>
    public const int UserError = 1;

    /// <summary>The command line does not parse (an unknown command or option, a required option missing).</summary>
    public const int Usage = 2;

    /// <summary>dlc itself failed; the message says what happened.</summary>
    public const int Internal = 3;

    /// <summary>Interrupted (Ctrl+C); the last completed checkpoint is kept. 128 + SIGINT, as shells report it.</summary>
    public const int Interrupted = 130;
}
