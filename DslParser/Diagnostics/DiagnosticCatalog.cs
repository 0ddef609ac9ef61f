namespace Dlc.Diagnostics;

/// <summary>
/// Every diagnostic dlc can report, in one place. Codes are stable and append-only: a code is never
/// reused or renumbered. DL01xx syntax, DL02xx names, DL03xx shapes and types, DL04xx jobs and
/// records, DL09xx files and data. docs/diagnostics.md lists them with their titles.
/// </summary>
public static class DiagnosticCatalog
{
    // DL01xx: syntax
    public static readonly DiagnosticDescriptor UnexpectedToken = Error("DL0101", "unexpected token");
    public static readonly DiagnosticDescriptor InvalidCharacter = Error("DL0102", "a character that is not part of the language");
    public static readonly DiagnosticDescriptor UnterminatedString = Error("DL0103", "a string literal without its closing quote");
    public static readonly DiagnosticDescriptor BadIndentation = Error("DL0104", "a line indented where the offside rule does not allow it");
    public static readonly DiagnosticDescriptor MissingEquals = Error("DL0105", "a declaration without `=` before its body");
    public static readonly DiagnosticDescriptor InvalidNumber = Error("DL0106", "a number literal that cannot be read");
    public static readonly DiagnosticDescriptor UnexpectedEnd = Error("DL0107", "the file ends in the middle of a declaration");
    public static readonly DiagnosticDescriptor MissingLetBody = Error("DL0108", "a `let` inside a body without the expression it scopes over");
    public static readonly DiagnosticDescriptor InvalidEscape = Error("DL0109", "a string escape sequence that is not `\\\"`, `\\\\`, `\\n` or `\\t`");
    public static readonly DiagnosticDescriptor NestedTooDeeply = Error("DL0110", "an expression nested more deeply than the parser reads");

    // DL02xx: names
    public static readonly DiagnosticDescriptor UnknownName = Error("DL0201", "a name that is not defined");
    public static readonly DiagnosticDescriptor UnknownLayer = Error("DL0202", "a layer or function that does not exist");
    public static readonly DiagnosticDescriptor UnknownField = Error("DL0203", "a record field that the record does not have");
    public static readonly DiagnosticDescriptor DuplicateDefinition = Error("DL0204", "a name defined twice in one scope");
    public static readonly DiagnosticDescriptor UnknownModel = Error("DL0205", "a train record for a model that does not exist");
    public static readonly DiagnosticDescriptor NoModel = Error("DL0206", "a file without a model to run");
    public static readonly DiagnosticDescriptor ImportCycle = Error("DL0207", "files that import each other, directly or through others");
    public static readonly DiagnosticDescriptor UnknownLayerName = Error("DL0208", "a layer name (on the command line) that the model does not have");
    public static readonly DiagnosticDescriptor ReservedInputName = Error("DL0209", "a model input named `target`, the name of the labels a training job feeds its loss");

    // DL03xx: shapes and types
    public static readonly DiagnosticDescriptor ShapeMismatch = Error("DL0301", "two shapes that must agree do not");
    public static readonly DiagnosticDescriptor WrongRank = Error("DL0302", "a tensor with the wrong number of dimensions for a layer");
    public static readonly DiagnosticDescriptor ReturnShapeMismatch = Error("DL0303", "a model whose result differs from its declared type");
    public static readonly DiagnosticDescriptor WrongArgumentType = Error("DL0304", "an argument of the wrong kind (number, tensor, layer, record)");
    public static readonly DiagnosticDescriptor WrongArgumentCount = Error("DL0305", "a layer or function given too many or too few arguments");
    public static readonly DiagnosticDescriptor InvalidArgument = Error("DL0306", "an argument value outside what the layer accepts");
    public static readonly DiagnosticDescriptor NotALayer = Error("DL0307", "something applied with `|>` or `>>` that is not a layer");

    // DL04xx: jobs and their records
    public static readonly DiagnosticDescriptor MissingField = Error("DL0401", "a required record field is missing");
    public static readonly DiagnosticDescriptor InvalidFieldValue = Error("DL0402", "a record field with a value it cannot take");
    public static readonly DiagnosticDescriptor NoTrainRecord = Error("DL0403", "a job that needs a train record, in a file without one");
    public static readonly DiagnosticDescriptor LossTargetMismatch = Error("DL0404", "a loss that does not fit the model's output or the data's labels");
    public static readonly DiagnosticDescriptor DataShapeMismatch = Error("DL0405", "a data set whose samples do not fit the model's input");
    public static readonly DiagnosticDescriptor NotYetSupported = Error("DL0406", "a construct the engine does not run yet");
    public static readonly DiagnosticDescriptor InvalidOption = Error("DL0407", "a command-line override with a value it cannot take");
    public static readonly DiagnosticDescriptor CannotRewriteWidth = Error("DL0408", "a layer width that structured pruning cannot rewrite in the source");
    public static readonly DiagnosticDescriptor MethodDoesNotFit = Error("DL0409", "an explanation method that does not fit the model or its input");

    // DL09xx: files and data
    public static readonly DiagnosticDescriptor FileNotFound = Error("DL0901", "a file or folder that does not exist");
    public static readonly DiagnosticDescriptor MalformedData = Error("DL0902", "a data file whose contents are not what its format says");
    public static readonly DiagnosticDescriptor TruncatedData = Error("DL0903", "a data file that ends before its header says it should");
    public static readonly DiagnosticDescriptor CheckpointMismatch = Error("DL0904", "a checkpoint that does not fit the model");
    public static readonly DiagnosticDescriptor MalformedCheckpoint = Error("DL0905", "a checkpoint file that cannot be read");
    public static readonly DiagnosticDescriptor WriteFailed = Error("DL0906", "an output that could not be written");
    public static readonly DiagnosticDescriptor MissingLibrary = Warning("DL0907", "a native library that is missing, so a slower path runs");

    /// <summary>Every descriptor, for docs and tests (codes must be unique).</summary>
    public static IReadOnlyList<DiagnosticDescriptor> All { get; } =
        typeof(DiagnosticCatalog).GetFields()
            .Where(f => f.FieldType == typeof(DiagnosticDescriptor))
            .Select(f => (DiagnosticDescriptor)f.GetValue(null)!)
            .OrderBy(d => d.Code, StringComparer.Ordinal)
            .ToArray();

    private static DiagnosticDescriptor Error(string code, string title) => new(code, Severity.Error, title);
    private static DiagnosticDescriptor Warning(string code, string title) => new(code, Severity.Warning, title);
}
