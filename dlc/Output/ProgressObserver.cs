using System.Diagnostics;
using System.Globalization;
using Dlc.Runtime.Training;

namespace Dlc.Cli.Output;

/// <summary>
/// Training progress on stderr: a redrawn bar on a terminal (at most ten times a second), one plain
/// line per epoch otherwise, nothing at all with `--json` on a pipe.
/// </summary>
internal sealed class ProgressObserver(CliContext context, bool quiet) : ITrainingObserver
{
    private readonly Stopwatch _redraw = Stopwatch.StartNew();
    private int _epochs;

    public void Started(TrainStart s)
    {
        _epochs = s.Epochs;
        if (quiet) return;
        var validation = s.ValidationSamples is { } v ? $", {v:N0} for validation" : "";
        context.Error.WriteLine($"training {s.Model}: {s.Parameters:N0} parameters, {s.TrainSamples:N0} samples{validation}, " +
                                $"{s.BatchesPerEpoch} batches per epoch -> {s.RunDirectory}");
        if (s.FirstEpoch > 1) context.Error.WriteLine($"resuming at epoch {s.FirstEpoch}");
    }

    public void BatchDone(int epoch, int batch, int batches, double loss)
    {
        if (quiet || !context.Interactive) return;
        if (batch != batches && _redraw.ElapsedMilliseconds < 100) return;
        _redraw.Restart();
        const int width = 30;
        var filled = (int)Math.Round(width * batch / (double)batches);
        var bar = new string('#', filled) + new string('-', width - filled);
        context.Error.Write($"\repoch {epoch}/{_epochs} [{bar}] {batch}/{batches} loss {loss.ToString("0.0000", CultureInfo.InvariantCulture)}  ");
    }

    public void EpochDone(EpochMetrics m)
    {
        if (quiet) return;
        if (context.Interactive) context.Error.Write("\r" + new string(' ', 80) + "\r");
        context.Error.WriteLine(FormatEpoch(m, _epochs));
    }

    public static string FormatEpoch(EpochMetrics m, int epochs)
    {
        static string F(double x, string format) => x.ToString(format, CultureInfo.InvariantCulture);
        var line = $"epoch {m.Epoch}/{epochs}  loss {F(m.TrainLoss, "0.0000")}";
        if (m.IsLanguageModel) line += PerToken(m, m.TrainLoss);
        if (m.TrainAccuracy is { } a) line += $"  acc {F(100 * a, "0.00")}%";
        if (m.Validation is { } v)
        {
            line += $"  val_loss {F(v.Loss, "0.0000")}";
            if (m.IsLanguageModel) line += PerToken(m, v.Loss);
            if (v.Accuracy is { } va) line += $"  val_acc {F(100 * va, "0.00")}%";
            if (v.TopKAccuracy is { } vk) line += $"  val_top{v.K} {F(100 * vk, "0.00")}%";
            if (m.IsBest) line += " (best)";
        }
        line += $"  lr {((float)m.LearningRate).ToString("g4", CultureInfo.InvariantCulture)}";
        return line + (m.IsLanguageModel
            ? $"  {F(m.Seconds, "0.00")} s  {F(m.SamplesPerSecond * m.TokensPerSample, "N0")} {m.Unit switch { TokenUnit.Word => "words", TokenUnit.Token => "tokens", _ => "chars" }}/s"
            : $"  {F(m.Seconds, "0.00")} s  {F(m.SamplesPerSecond, "N0")} samples/s");
    }

    /// <summary>A language model's loss in its unit's usual terms: bits per character, or a word model's perplexity.</summary>
    private static string PerToken(EpochMetrics m, double loss) => m.Unit != TokenUnit.Character
        ? $" (perplexity {EpochMetrics.Perplexity(loss).ToString("0.0", CultureInfo.InvariantCulture)})"
        : $" ({EpochMetrics.BitsPerChar(loss).ToString("0.000", CultureInfo.InvariantCulture)} bits/char)";
}
