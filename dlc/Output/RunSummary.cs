using System.Globalization;
using Dlc.Compiler.Jobs;
using Dlc.Runtime.Training;

namespace Dlc.Cli.Output;

/// <summary>The end of a training run: summary.yaml, the `--json` document and the closing lines.</summary>
internal static class RunSummary
{
    public static Dictionary<string, object?> Build(TrainSpec spec, TrainResult result, IReadOnlyDictionary<string, string> settings, string gemm)
    {
        var last = result.Epochs.LastOrDefault();
        var summary = new Dictionary<string, object?>
        {
            ["model"] = spec.Model,
            ["run"] = result.RunDirectory,
            ["checkpoint"] = Path.Combine(result.RunDirectory, "model.safetensors"),
            ["settings"] = settings,
            ["epochs"] = result.Epochs.Select(m => new Dictionary<string, object?>
            {
                ["epoch"] = m.Epoch,
                ["train_loss"] = Round(m.TrainLoss),
                ["train_accuracy"] = m.TrainAccuracy is { } a ? Round(a) : null,
                ["val_loss"] = m.Validation is { } v ? Round(v.Loss) : null,
                ["val_accuracy"] = m.Validation?.Accuracy is { } va ? Round(va) : null,
                ["val_top_k_accuracy"] = m.Validation?.TopKAccuracy is { } vk ? Round(vk) : null,
                ["lr"] = double.Parse(((float)m.LearningRate).ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture),
                ["seconds"] = Round(m.Seconds),
                ["samples_per_second"] = Math.Round(m.SamplesPerSecond),
                // A character-level language model's losses are nats per character; these are the same in bits.
                ["train_bits_per_char"] = Chars(m) ? Round(EpochMetrics.BitsPerChar(m.TrainLoss)) : null,
                ["val_bits_per_char"] = Chars(m) && m.Validation is { } vb ? Round(EpochMetrics.BitsPerChar(vb.Loss)) : null,
                ["chars_per_second"] = Chars(m) ? Math.Round(m.SamplesPerSecond * m.TokensPerSample) : null,
                // A word-level model's losses are nats per word; perplexity is their exp.
                ["train_perplexity"] = Words(m) ? Round(EpochMetrics.Perplexity(m.TrainLoss)) : null,
                ["val_perplexity"] = Words(m) && m.Validation is { } vp ? Round(EpochMetrics.Perplexity(vp.Loss)) : null,
                ["words_per_second"] = Words(m) && m.Unit == TokenUnit.Word ? Math.Round(m.SamplesPerSecond * m.TokensPerSample) : null,
                ["tokens_per_second"] = Words(m) && m.Unit == TokenUnit.Token ? Math.Round(m.SamplesPerSecond * m.TokensPerSample) : null,
            }).ToList(),
            ["final_train_loss"] = last is null ? null : Round(last.TrainLoss),
            ["test_loss"] = result.Test is { } t ? Round(t.Loss) : null,
            ["test_accuracy"] = result.Test?.Accuracy is { } ta ? Round(ta) : null,
            ["top_k"] = result.Test?.K is > 0 ? result.Test.K : null,
            ["test_top_k_accuracy"] = result.Test?.TopKAccuracy is { } tk ? Round(tk) : null,
            ["best_epoch"] = result.Best.BestEpoch > 0 ? result.Best.BestEpoch : null,
            ["best_val_loss"] = result.Best.BestEpoch > 0 ? Round(result.Best.BestLoss) : null,
            ["best_val_bits_per_char"] = result.Best.BestEpoch > 0 && last is not null && Chars(last) ? Round(EpochMetrics.BitsPerChar(result.Best.BestLoss)) : null,
            ["best_val_perplexity"] = result.Best.BestEpoch > 0 && last is not null && Words(last) ? Round(EpochMetrics.Perplexity(result.Best.BestLoss)) : null,
            ["best_checkpoint"] = result.BestCheckpoint,
            ["stopped_early_after"] = result.StoppedEarlyAfter,
            ["seconds_to_first_step"] = double.IsNaN(result.SecondsToFirstStep) ? null : Round(result.SecondsToFirstStep),
            ["gemm"] = gemm,
        };
        if (result.Test is { } test)
        {
            foreach (var (key, value) in EvalReportText.Json(test, "test_")) summary[key] = value;
        }
        return summary;
    }

    public static void WriteText(TextWriter w, TrainResult result)
    {
        if (result.Test is { } test)
        {
            var accuracy = test.Accuracy is { } a ? $", accuracy {(100 * a).ToString("0.00", CultureInfo.InvariantCulture)}%" : "";
            if (test.TopKAccuracy is { } k) accuracy += $", top-{test.K} accuracy {(100 * k).ToString("0.00", CultureInfo.InvariantCulture)}%";
            w.WriteLine($"test ({test.Dataset}, {test.Samples:N0} samples): loss {test.Loss.ToString("0.0000", CultureInfo.InvariantCulture)}{accuracy}");
            EvalReportText.Write(w, test);
        }
        if (result.StoppedEarlyAfter is { } stopped)
            w.WriteLine($"stopped early after epoch {stopped}: the validation loss has not improved since epoch {result.Best.BestEpoch}");
        w.WriteLine($"run: {result.RunDirectory}");
        w.WriteLine($"checkpoint: {Path.Combine(result.RunDirectory, "model.safetensors")}");
        if (result.BestCheckpoint is { } best)
            w.WriteLine($"best: {best} (epoch {result.Best.BestEpoch}, val_loss {result.Best.BestLoss.ToString("0.0000", CultureInfo.InvariantCulture)})");
    }

    private static double Round(double x) => Math.Round(x, 6);

    private static bool Chars(EpochMetrics m) => m.IsLanguageModel && m.Unit == TokenUnit.Character;

    // Words and BPE tokens: losses per token reported as perplexity.
    private static bool Words(EpochMetrics m) => m.IsLanguageModel && m.Unit != TokenUnit.Character;
}
