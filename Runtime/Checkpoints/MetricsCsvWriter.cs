using System.Globalization;
using System.Text;
using Dlc.Runtime.Data;

namespace Dlc.Runtime.Checkpoints;

/// <summary>One line of metrics.csv. Missing values (no validation set, a regression model) are null and left empty.</summary>
public sealed record MetricsRow(
    int Epoch,
    long Step,
    double TrainLoss,
    double? TrainAccuracy,
    double? ValidationLoss,
    double? ValidationAccuracy,
    double LearningRate,
    double Seconds,
    double SamplesPerSecond);

/// <summary>
/// Appends rows to a run's metrics.csv, flushing each one so that a crash loses nothing already
/// reported and the file can be followed while training runs. An existing file (a resumed run)
/// is continued, provided it has the same columns.
/// </summary>
public sealed class MetricsCsvWriter : IDisposable
{
    public const string Header = "epoch,step,train_loss,train_accuracy,val_loss,val_accuracy,lr,seconds,samples_per_second";

    private readonly StreamWriter _writer;

    public MetricsCsvWriter(string path)
    {
        Path = path;
        try
        {
            var existing = File.Exists(path) ? File.ReadLines(path).FirstOrDefault() : null;
            if (existing is not null && existing != Header)
                throw new DataException(DataException.WriteFailed, path,
                    $"{path} already exists with the columns '{existing}', not '{Header}'",
                    "move the old file away or start a new run folder");
            var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read);
            _writer = new StreamWriter(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false)) { NewLine = "\n" };
            if (existing is null)
            {
                _writer.WriteLine(Header);
                _writer.Flush();
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataException(DataException.WriteFailed, path, $"could not open {path} for writing: {e.Message}", null, e);
        }
    }

    public string Path { get; }

    public void Append(MetricsRow row)
    {
        var line = string.Join(",",
            row.Epoch.ToString(CultureInfo.InvariantCulture),
            row.Step.ToString(CultureInfo.InvariantCulture),
            Short(row.TrainLoss),
            Short(row.TrainAccuracy),
            Short(row.ValidationLoss),
            Short(row.ValidationAccuracy),
            Short(row.LearningRate),
            row.Seconds.ToString("0.###", CultureInfo.InvariantCulture),
            row.SamplesPerSecond.ToString("0.#", CultureInfo.InvariantCulture));
        try
        {
            _writer.WriteLine(line);
            _writer.Flush();
        }
        catch (IOException e)
        {
            throw new DataException(DataException.WriteFailed, Path, $"could not append to {Path}: {e.Message}", null, e);
        }
    }

    public void Dispose() => _writer.Dispose();

    // Losses and rates are float32 in training: print the shortest text that round-trips as float,
    // so the file shows 0.3 rather than 0.30000001192092896.
    private static string Short(double? value) =>
        value is { } v ? ((float)v).ToString(CultureInfo.InvariantCulture) : "";
}
