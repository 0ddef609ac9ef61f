namespace Dlc.Runtime.Data;

/// <summary>A CSV column named by its header or by its 0-based position (negative positions count from the end).</summary>
public readonly record struct CsvColumn
{
    private CsvColumn(string? name, int index)
    {
        Name = name;
        Index = index;
    }

    public string? Name { get; }

    public int Index { get; }

    /// <summary>The last column, the usual place for the label.</summary>
    public static CsvColumn Last => new(null, -1);

    public static implicit operator CsvColumn(string name) => new(name, 0);

    public static implicit operator CsvColumn(int index) => new(null, index);

    public override string ToString() => Name ?? Index.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>How <see cref="CsvReader"/> reads a file; the defaults detect what they can.</summary>
public sealed record CsvOptions
{
    /// <summary>The column holding the label or regression target; the last column by default.</summary>
    public CsvColumn LabelColumn { get; init; } = CsvColumn.Last;

    /// <summary>Whether the first line names the columns; null detects it (a non-number above a number).</summary>
    public bool? HasHeader { get; init; }

    /// <summary>
    /// Whether labels are class indices; null detects it: whole numbers from 0 to
    /// <see cref="CsvReader.MaxDetectedClasses"/> − 1, or text labels, make a classification set.
    /// </summary>
    public bool? Classification { get; init; }

    /// <summary>
    /// The field separator. With the default comma, a file whose first line has no comma but blanks between its
    /// fields (scikit-learn's diabetes files) is split at runs of blanks instead.
    /// </summary>
    public char Separator { get; init; } = ',';

    /// <summary>
    /// A file of targets, one per data row (one column, optionally gzip-compressed); every column of the data
    /// file is then a feature and <see cref="LabelColumn"/> is not used.
    /// </summary>
    public string? TargetsPath { get; init; }

    /// <summary>
    /// Whether the caller names the feature columns itself (a `csv` record's `features`): the header's names are then
    /// not the features' and are not checked for gaps and repeats.
    /// </summary>
    public bool NamesGiven { get; init; }
}
