namespace Dlc.Runtime.Data;

/// <summary>
/// A problem with a data set, checkpoint or output file that the user can act on.
/// The command line turns it into one diagnostic line plus an optional hint, so
/// <see cref="Exception.Message"/> names the file and says what was expected and what was found.
/// </summary>
public sealed class DataException : Exception
{
    /// <summary>File or folder does not exist.</summary>
    public const string NotFound = "DL0901";
    /// <summary>Malformed data file.</summary>
    public const string Malformed = "DL0902";
    /// <summary>Truncated data file.</summary>
    public const string Truncated = "DL0903";
    /// <summary>Checkpoint does not fit the model.</summary>
    public const string CheckpointMismatch = "DL0904";
    /// <summary>Checkpoint cannot be read.</summary>
    public const string CheckpointUnreadable = "DL0905";
    /// <summary>Output could not be written.</summary>
    public const string WriteFailed = "DL0906";

    public DataException(string code, string path, string message, string? help = null, Exception? inner = null)
        : base(message, inner)
    {
        Code = code;
        Path = path;
        Help = help;
    }

    /// <summary>One of the DL09xx codes above.</summary>
    public string Code { get; }

    /// <summary>The file or folder the problem is about.</summary>
    public string Path { get; }

    /// <summary>What the user can do about it, if there is something specific.</summary>
    public string? Help { get; }

    /// <summary>The same problem with a more specific hint, for callers that know where the file came from.</summary>
    public DataException WithHelp(string? help) =>
        help is null ? this : new DataException(Code, Path, Message, help, InnerException);
}
