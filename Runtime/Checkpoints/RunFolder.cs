using System.Globalization;
using System.Text;
using Dlc.Runtime.Data;

namespace Dlc.Runtime.Checkpoints;

/// <summary>
/// The folder of one training run, runs/&lt;model&gt;-&lt;yyyyMMdd-HHmmss&gt;, holding metrics.csv,
/// summary.yaml and the checkpoint files (written straight into it by <see cref="Checkpoint.Save"/>).
/// </summary>
public sealed class RunFolder
{
    public const string DefaultRoot = "runs";
    public const string MetricsFileName = "metrics.csv";
    public const string SummaryFileName = "summary.yaml";

    private RunFolder(string path) => Path = path;

    public string Path { get; }

    public string Name => System.IO.Path.GetFileName(Path);

    public string MetricsPath => System.IO.Path.Combine(Path, MetricsFileName);

    public string SummaryPath => System.IO.Path.Combine(Path, SummaryFileName);

    /// <summary>
    /// Creates a new, empty run folder under <paramref name="root"/>. Two runs started in the same
    /// second get -2, -3, … appended rather than sharing a folder.
    /// </summary>
    public static RunFolder Create(string modelName, DateTime now, string root = DefaultRoot)
    {
        var stem = $"{Slug(modelName)}-{now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)}";
        try
        {
            Directory.CreateDirectory(root);
            for (var n = 1; ; n++)
            {
                var path = System.IO.Path.Combine(root, n == 1 ? stem : $"{stem}-{n}");
                // Checked then created: runs are started by hand, so a race between two is not a concern.
                if (Directory.Exists(path) || File.Exists(path)) continue;
                Directory.CreateDirectory(path);
                return new RunFolder(path);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataException(DataException.WriteFailed, root, $"could not create a run folder in {root}: {e.Message}",
                "check that the folder is writable", e);
        }
    }

    /// <summary>An existing run folder, e.g. to resume training into it.</summary>
    public static RunFolder Open(string path) =>
        Directory.Exists(path)
            ? new RunFolder(path)
            : throw new DataException(DataException.NotFound, path, $"the run folder {path} does not exist");

    /// <summary>The model name as a folder name: lowercase letters, digits, '.', '_' and '-'.</summary>
    internal static string Slug(string modelName)
    {
        var slug = new StringBuilder(modelName.Length);
        foreach (var ch in modelName.Trim().ToLowerInvariant())
            slug.Append(char.IsAsciiLetterOrDigit(ch) || ch is '.' or '_' or '-' ? ch : '-');
        var text = slug.ToString().Trim('-', '.');
        return text.Length == 0 ? "model" : text;
    }
}
