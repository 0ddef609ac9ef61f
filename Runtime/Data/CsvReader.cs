using System.Globalization;
using System.IO.Compression;
using System.Text;

namespace Dlc.Runtime.Data;

/// <summary>
/// Reads numeric CSV files (invariant culture, optionally gzip-compressed) into a float <see cref="Dataset"/>.
/// Besides a plain header line it understands the scikit-learn form whose first line is
/// "samples,features,class names…" (e.g. "150,4,setosa,versicolor,virginica"), optionally followed by a line of
/// column names. Text labels become class indices in sorted order; a header's names of the feature columns become the
/// data set's <see cref="Dataset.FeatureNames"/>, so every column of a header must have a name of its own (DL0902
/// otherwise, naming the file, its line and the columns).
/// </summary>
public static class CsvReader
{
    /// <summary>Whole-number labels below this make a classification set when not told otherwise.</summary>
    public const int MaxDetectedClasses = 100;

    public static Dataset Load(string path, CsvOptions? options = null)
    {
        options ??= new CsvOptions();
        var file = Path.GetFileName(path);
        var lines = ReadLines(path, file);
        var blanks = options.Separator == ',' && lines.Count > 0 && !lines[0].Text.Contains(',') && lines[0].Text.Trim().Any(char.IsWhiteSpace);
        var rows = lines.Select(l => (l.Number, Fields: blanks ? SplitAtBlanks(l.Text) : Split(l.Text, options.Separator))).ToList();
        if (options.TargetsPath is { } targetsPath) rows = WithTargets(rows, path, file, targetsPath, options);

        var at = 0;
        string[]? names = null;
        var headerLine = 0;
        string[]? classNames = null;
        int? announcedCount = null;
        if (options.HasHeader != false && rows.Count > 0 && SklearnHeader(rows) is { } sk)
        {
            announcedCount = sk.Count;
            classNames = sk.ClassNames.Length > 0 ? sk.ClassNames : null;
            at = 1;
            if (rows.Count > 1 && !rows[1].Fields.All(IsNumber)) (names, headerLine) = (rows[at].Fields, rows[at++].Number);
        }
        else if (options.HasHeader ?? LooksLikeHeader(rows))
        {
            if (rows.Count > 0) (names, headerLine) = (rows[at].Fields, rows[at++].Number);
        }
        // A targets file's column is appended to the header as "target"; only the data file's own names are checked.
        if (names is not null && !options.NamesGiven) CheckNames(options.TargetsPath is null ? names : names[..^1], path, file, headerLine);

        var data = rows.Skip(at).ToList();
        if (data.Count == 0)
            throw new DataException(DataException.Malformed, path, $"{file} has no data rows", null);
        if (announcedCount is { } announced && announced != data.Count)
            throw new DataException(announced > data.Count ? DataException.Truncated : DataException.Malformed, path,
                $"{file} announces {announced:N0} samples on its first line but has {data.Count:N0} data rows", null);

        var columns = names?.Length ?? data[0].Fields.Length;
        // Columns without a header are called by their positions (and so are unnamed ones when the record names the features).
        var header = names;
        names = Enumerable.Range(0, columns).Select(c => header?[c] is { Length: > 0 } n ? n : $"column {c + 1}").ToArray();
        var label = ResolveLabel(options.LabelColumn, names, path, file);
        if (columns < 2)
            throw new DataException(DataException.Malformed, path, $"{file} has {columns} column; expected features and a label", null);

        var features = new float[data.Count * (columns - 1)];
        var labelText = new string[data.Count];
        var labels = new float[data.Count];
        var allNumeric = true;
        for (var r = 0; r < data.Count; r++)
        {
            var (line, fields) = data[r];
            if (fields.Length != columns)
                throw new DataException(DataException.Malformed, path, $"{file}:{line}: expected {columns} columns, found {fields.Length}", null);
            var f = r * (columns - 1);
            for (var c = 0; c < columns; c++)
            {
                if (c == label)
                {
                    labelText[r] = fields[c];
                    if (TryNumber(fields[c], out var value)) labels[r] = value;
                    else allNumeric = false;
                    continue;
                }
                features[f++] = Number(fields[c], path, file, line, c, names[c]);
            }
        }

        int classCount;
        if (!allNumeric)
        {
            if (options.Classification == false)
            {
                var bad = Enumerable.Range(0, data.Count).First(r => !TryNumber(labelText[r], out _));
                Number(labelText[bad], path, file, data[bad].Number, label, names[label]);
            }
            // Text labels name the classes themselves; sorting makes the indices independent of row order.
            classNames = labelText.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
            var index = classNames.Select((name, i) => (name, i)).ToDictionary(p => p.name, p => (float)p.i, StringComparer.Ordinal);
            for (var r = 0; r < data.Count; r++) labels[r] = index[labelText[r]];
            classCount = classNames.Length;
        }
        else
        {
            classCount = ClassCount(labels, options.Classification, classNames, path, file, data, label, names[label]);
        }

        var name = Path.GetFileNameWithoutExtension(file.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? file[..^3] : file);
        var dataset = Dataset.FromFloats(name, features, [columns - 1], labels, classCount, classCount > 0 ? classNames : null);
        // A header names the features: every column but the label's, in order.
        return header is null ? dataset : dataset.WithFeatureNames(names.Where((_, c) => c != label).ToArray());
    }

    private static int ClassCount(float[] labels, bool? classification, string[]? classNames, string path, string file,
        List<(int Number, string[] Fields)> data, int column, string columnName)
    {
        var whole = true;
        var max = -1f;
        foreach (var v in labels)
        {
            whole &= v >= 0 && v == MathF.Floor(v) && v < 1 << 24;
            max = Math.Max(max, v);
        }
        var isClassification = classification ?? (classNames is not null || (whole && max < MaxDetectedClasses));
        if (!isClassification) return 0;

        var classCount = Math.Max((int)max + 1, classNames?.Length ?? 0);
        for (var r = 0; r < labels.Length; r++)
        {
            var v = labels[r];
            if (!(v >= 0 && v == MathF.Floor(v) && v < 1 << 24))
                throw new DataException(DataException.Malformed, path,
                    $"{file}:{data[r].Number}: label '{data[r].Fields[column]}' in column {column + 1} ({columnName}) is not a class index (a whole number from 0)", null);
            if (classNames is not null && v >= classNames.Length)
                throw new DataException(DataException.Malformed, path,
                    $"{file}:{data[r].Number}: label {v} is outside the {classNames.Length} classes the first line names (0..{classNames.Length - 1})", null);
        }
        return classCount;
    }

    private static List<(int Number, string Text)> ReadLines(string path, string file)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            Span<byte> probe = stackalloc byte[2];
            var gzip = stream.ReadAtLeast(probe, 2, throwOnEndOfStream: false) == 2 && probe[0] == 0x1f && probe[1] == 0x8b;
            stream.Position = 0;
            using var source = gzip ? new GZipStream(stream, CompressionMode.Decompress) : (Stream)stream;
            using var reader = new StreamReader(source, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
            var lines = new List<(int, string)>();
            var number = 0;
            while (reader.ReadLine() is { } text)
            {
                number++;
                if (!string.IsNullOrWhiteSpace(text)) lines.Add((number, text));
            }
            return lines;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new DataException(DataException.NotFound, path, $"{path} does not exist", null, e);
        }
        catch (InvalidDataException e)
        {
            throw new DataException(DataException.Malformed, path, $"{file} is not a valid gzip file: {e.Message}", null, e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataException(DataException.Malformed, path, $"{file} cannot be read: {e.Message}", null, e);
        }
    }

    /// <summary>The scikit-learn first line "count,features[,class names…]", recognised only when the file agrees with it.</summary>
    private static (int Count, string[] ClassNames)? SklearnHeader(List<(int Number, string[] Fields)> rows)
    {
        var first = rows[0].Fields;
        if (first.Length < 2 || !int.TryParse(first[0], NumberStyles.None, CultureInfo.InvariantCulture, out var count)
            || !int.TryParse(first[1], NumberStyles.None, CultureInfo.InvariantCulture, out var featureCount)
            || count <= 0 || featureCount <= 0 || first.Skip(2).Any(IsNumber))
            return null;
        var dataStart = rows.Count > 1 && !rows[1].Fields.All(IsNumber) ? 2 : 1;
        if (rows.Count <= dataStart || rows[dataStart].Fields.Length != featureCount + 1) return null;
        // Without class names, "150,4" could be an ordinary row: insist that the count matches too.
        if (first.Length == 2 && rows.Count - dataStart != count) return null;
        return (count, first[2..]);
    }

    private static bool LooksLikeHeader(List<(int Number, string[] Fields)> rows)
    {
        if (rows.Count == 0) return false;
        var first = rows[0].Fields;
        if (rows.Count == 1) return !first.All(IsNumber);
        var second = rows[1].Fields;
        // A text field above a number: a name, not a (text) label that repeats down the column.
        return first.Where((f, i) => !IsNumber(f) && i < second.Length && IsNumber(second[i])).Any();
    }

    /// <summary>
    /// Every column of a header named, and each name once: the names become the features' in the tables and charts of
    /// `dlc explain`, and a label column is chosen by its name. An unnamed column is most often the index pandas
    /// writes unless told `index=False`.
    /// </summary>
    private static void CheckNames(string[] names, string path, string file, int line)
    {
        var unnamed = Enumerable.Range(0, names.Length).Where(c => names[c].Length == 0).Select(c => c + 1).ToArray();
        if (unnamed.Length > 0)
            throw new DataException(DataException.Malformed, path,
                $"{file}:{line}: the header leaves column{(unnamed.Length == 1 ? "" : "s")} {Columns(unnamed)} without a name",
                "name every column of the header (a column pandas wrote for its index is left out with to_csv(..., index=False)), " +
                "or name the features with the record's `features`");
        var twice = names.Select((name, c) => (name, c)).GroupBy(n => n.name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (twice is not null)
            throw new DataException(DataException.Malformed, path,
                $"{file}:{line}: the header names {twice.Count()} columns '{twice.Key}' (columns {Columns(twice.Select(n => n.c + 1).ToArray())})",
                "give every column a name of its own, or name the features with the record's `features`");
    }

    private static string Columns(int[] columns) =>
        columns.Length == 1 ? columns[0].ToString(CultureInfo.InvariantCulture)
        : string.Join(", ", columns[..^1].Select(c => c.ToString(CultureInfo.InvariantCulture))) + " and " + columns[^1].ToString(CultureInfo.InvariantCulture);

    private static int ResolveLabel(CsvColumn column, string[] names, string path, string file)
    {
        if (column.Name is { } name)
        {
            // With names given by the record the header may repeat a name; the label's must still be one column.
            if (names.Count(n => n == name) > 1)
                throw new DataException(DataException.Malformed, path,
                    $"{file} has {names.Count(n => n == name)} columns named '{name}', so the label column is ambiguous", "give the label column by its position");
            var i = Array.IndexOf(names, name);
            if (i < 0) i = Array.FindIndex(names, n => string.Equals(n, name, StringComparison.OrdinalIgnoreCase));
            if (i < 0)
                throw new DataException(DataException.Malformed, path,
                    $"{file} has no column named '{name}'; its columns are {string.Join(", ", names)}", null);
            return i;
        }
        var index = column.Index < 0 ? names.Length + column.Index : column.Index;
        if (index < 0 || index >= names.Length)
            throw new DataException(DataException.Malformed, path,
                $"{file} has {names.Length} columns, so it has no label column {column.Index}", null);
        return index;
    }

    private static float Number(string text, string path, string file, int line, int column, string name)
    {
        if (TryNumber(text, out var value)) return value;
        var what = text.Length == 0 ? "is empty" : $"holds '{text}', which is not a finite number";
        throw new DataException(DataException.Malformed, path, $"{file}:{line}: column {column + 1} ({name}) {what}", null);
    }

    private static bool IsNumber(string text) => TryNumber(text, out _);

    private static bool TryNumber(string text, out float value) =>
        float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && float.IsFinite(value);

    /// <summary>
    /// The rows of a data file with the one column of its targets file appended, so the last column is the
    /// label. The targets file may have a header line; its row count must equal the data file's.
    /// </summary>
    private static List<(int Number, string[] Fields)> WithTargets(List<(int Number, string[] Fields)> rows, string path, string file, string targetsPath, CsvOptions options)
    {
        var targetsFile = Path.GetFileName(targetsPath);
        var targets = ReadLines(targetsPath, targetsFile).Select(l => (l.Number, Field: l.Text.Trim())).ToList();
        if (targets.Count > 0 && !IsNumber(targets[0].Field) && targets.Count > 1 && IsNumber(targets[1].Field)) targets.RemoveAt(0);
        var header = options.HasHeader ?? LooksLikeHeader(rows);
        var data = header ? rows.Count - 1 : rows.Count;
        if (targets.Count != data)
            throw new DataException(DataException.Malformed, targetsPath,
                $"{targetsFile} has {targets.Count:N0} targets, but {file} has {data:N0} data rows", "give one target per row, in the same order");
        var result = new List<(int Number, string[] Fields)>(rows.Count);
        if (header) result.Add((rows[0].Number, [.. rows[0].Fields, "target"]));
        for (var r = 0; r < data; r++)
        {
            var (number, fields) = rows[header ? r + 1 : r];
            result.Add((number, [.. fields, targets[r].Field]));
        }
        return result;
    }

    private static string[] SplitAtBlanks(string line) => line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Splits one line, trimming blanks and honouring double quotes ("" is a literal quote).</summary>
    private static string[] Split(string line, char separator)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < line.Length; i++)
        {
            var ch = line[i];
            if (quoted)
            {
                if (ch != '"') field.Append(ch);
                else if (i + 1 < line.Length && line[i + 1] == '"') field.Append(line[++i]);
                else quoted = false;
            }
            else if (ch == '"') quoted = true;
            else if (ch == separator)
            {
                fields.Add(field.ToString().Trim());
                field.Clear();
            }
            else field.Append(ch);
        }
        fields.Add(field.ToString().Trim());
        return fields.ToArray();
    }
}
