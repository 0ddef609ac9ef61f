using System.Globalization;

namespace Dlc.Runtime.Data;

/// <summary>
/// A series of numbers read from one column of a CSV file, in row order, and cut into forecasting samples:
/// a window of consecutive values and the values that follow it. Built-in series are statsmodels' data sets
/// (Debian package python3-statsmodels).
/// </summary>
public static class TimeSeries
{
    public const string StatsmodelsRoot = "/usr/lib/python3/dist-packages/statsmodels/datasets";
    public const string EnvironmentVariable = "DLC_DATA_STATSMODELS";

    /// <summary>Built-in series: the file under statsmodels' data sets and the column read by default.</summary>
    public static readonly IReadOnlyList<(string Name, string File, string Column)> Known =
    [
        // Yearly mean sunspot numbers 1700–2008 (309 values), from the Royal Observatory of Belgium (SIDC).
        ("sunspots", "sunspots/sunspots.csv", "SUNACTIVITY"),
    ];

    /// <summary>The CSV file of a built-in series: under the environment variable's folder, else statsmodels'.</summary>
    public static string PathOf(string name)
    {
        var root = Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment : StatsmodelsRoot;
        return Path.Combine(root, Known.First(k => k.Name == name).File);
    }

    public static string DefaultColumn(string name) => Known.First(k => k.Name == name).Column;

    /// <summary>
    /// The values of <paramref name="column"/> (a header name, or a 0-based position; null for the last column) in row
    /// order. A first line with a field that is not a number is the header; quotes around fields are dropped.
    /// </summary>
    public static double[] Read(string path, string? column, string? help = null)
    {
        var file = Path.GetFileName(path);
        if (!File.Exists(path)) throw new DataException(DataException.NotFound, path, $"{path} does not exist", help);
        var lines = File.ReadAllLines(path);
        var rows = lines.Select((text, i) => (Number: i + 1, Fields: text.Split(',').Select(f => f.Trim().Trim('"').Trim()).ToArray()))
            .Where(r => r.Fields.Length > 1 || r.Fields[0].Length > 0).ToList();
        if (rows.Count == 0) throw new DataException(DataException.Malformed, path, $"{file} is empty", help);
        var header = rows[0].Fields.Any(f => !double.TryParse(f, NumberStyles.Float, CultureInfo.InvariantCulture, out _)) ? rows[0].Fields : null;
        var width = rows[0].Fields.Length;
        int index;
        if (column is null) index = width - 1;
        else if (header is not null && Array.IndexOf(header, column) is var named and >= 0) index = named;
        else if (int.TryParse(column, NumberStyles.None, CultureInfo.InvariantCulture, out var position) && position < width) index = position;
        else
            throw new DataException(DataException.Malformed, path, $"{file} has no column `{column}`",
                header is null ? $"it has no header; name a column by its position, 0 to {width - 1}" : $"its columns are {string.Join(", ", header.Select(h => $"`{h}`"))}");
        var values = new List<double>();
        foreach (var (number, fields) in rows.Skip(header is null ? 0 : 1))
        {
            if (fields.Length != width)
                throw new DataException(DataException.Malformed, path, $"{file}:{number}: expected {width} columns, found {fields.Length}", help);
            if (!double.TryParse(fields[index], NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
                throw new DataException(DataException.Malformed, path,
                    $"{file}:{number}: `{fields[index]}` in column {index + 1}{(header is null ? "" : $" ({header[index]})")} is not a number",
                    "a series has a number in every row; fill or drop the missing ones");
            values.Add(value);
        }
        return values.ToArray();
    }

    /// <summary>
    /// The windows of <paramref name="values"/>: sample i is values[i .. i + window), its targets values[i + window ..
    /// i + window + horizon), each value v stored as (v − mean) / std. The samples are in time order.
    /// </summary>
    public static Dataset Windows(string name, ReadOnlySpan<double> values, int window, int horizon, double mean, double std)
    {
        var count = values.Length - window - horizon + 1;
        if (count < 1) throw new ArgumentException($"{values.Length} values make no window of {window} and {horizon} after it", nameof(values));
        var features = new float[count * window];
        var targets = new float[count * horizon];
        for (var i = 0; i < count; i++)
        {
            for (var k = 0; k < window; k++) features[i * window + k] = (float)((values[i + k] - mean) / std);
            for (var k = 0; k < horizon; k++) targets[i * horizon + k] = (float)((values[i + window + k] - mean) / std);
        }
        return Dataset.FromFloats(name, features, [window], targets, 0, null, horizon);
    }
}
