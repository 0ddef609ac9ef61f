using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Dlc.Runtime.Checkpoints;

namespace Dlc.Runtime.Explain;

/// <summary>What a run of `dlc explain` found, as its `--json` document and the `summary.json` it writes.</summary>
public sealed record ExplainSummary(
    string Model,
    string Checkpoint,
    string Split,
    int First,
    int Count,
    string Baseline,
    IReadOnlyList<MethodSummary> Methods);

public sealed record InputSummary(int Index, int Target, double Score, double? Delta, double? BaselineScore)
{
    /// <summary>Integrated gradients: the gradients the adaptive rule took for this input.</summary>
    public int? Steps { get; init; }
}

public sealed record SanitySummary(IReadOnlyList<SanityStep> Layers, double Final, bool Passed, string Rule);

public sealed record ImportanceSummary(string Feature, double Mean, double Std);

public sealed record MethodSummary(string Method, double Seconds)
{
    public string? Layer { get; init; }
    public IReadOnlyList<InputSummary>? Inputs { get; init; }
    public double? MaxDelta { get; init; }
    public double? Deletion { get; init; }
    public double? Insertion { get; init; }
    public SanitySummary? Sanity { get; init; }
    public string? Metric { get; init; }
    public double? MetricBaseline { get; init; }
    public IReadOnlyList<ImportanceSummary>? Importances { get; init; }
    public IReadOnlyList<string> Files { get; init; } = [];
}

/// <summary>
/// Writes the files of a run into its output folder (created if missing), each atomically: per method a CSV and
/// a JSON of the attributions; for images a heatmap PNG per input and a grid of them all; for feature vectors a
/// bar chart of the importances with their spread; and summary.json.
/// </summary>
public static class ExplainOutput
{
    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static ExplainSummary Write(string folder, string model, string checkpoint, ExplainInputs inputs, ExplainSettings settings,
        IReadOnlyList<MethodResult> results, IReadOnlyList<string> featureNames)
    {
        try
        {
            Directory.CreateDirectory(folder);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new Data.DataException(Data.DataException.WriteFailed, folder, $"cannot create the folder {folder}: {e.Message}");
        }
        var methods = results.Select(r => WriteMethod(folder, inputs, r, featureNames)).ToList();
        var summary = new ExplainSummary(model, checkpoint, inputs.Split, inputs.First, inputs.Count,
            settings.Baseline.ToString().ToLowerInvariant(), methods);
        AtomicFile.WriteAllBytes(Path.Combine(folder, "summary.json"), JsonSerializer.SerializeToUtf8Bytes(summary, Json));
        return summary;
    }

    private static MethodSummary WriteMethod(string folder, ExplainInputs inputs, MethodResult result, IReadOnlyList<string> featureNames)
    {
        var name = Methods.NameOf(result.Method);
        var files = new List<string>();
        void Save(string file, byte[] bytes)
        {
            AtomicFile.WriteAllBytes(Path.Combine(folder, file), bytes);
            files.Add(file);
        }

        if (result.Importance is { } importance)
        {
            var rows = featureNames.Select((f, j) => new ImportanceSummary(f, importance.Mean[j], importance.Std[j])).ToList();
            var csv = new StringBuilder("feature,mean,std");
            for (var r = 0; r < importance.Repeats[0].Length; r++) csv.Append(CultureInfo.InvariantCulture, $",repeat{r + 1}");
            csv.Append('\n');
            for (var j = 0; j < rows.Count; j++)
                csv.Append(CultureInfo.InvariantCulture, $"{Csv(rows[j].Feature)},{F(rows[j].Mean)},{F(rows[j].Std)},{string.Join(",", importance.Repeats[j].Select(F))}\n");
            Save($"{name}.csv", Encoding.UTF8.GetBytes(csv.ToString()));
            Save($"{name}.json", JsonSerializer.SerializeToUtf8Bytes(new { metric = importance.Metric, baseline = importance.Baseline, features = rows, repeats = importance.Repeats }, Json));
            Save($"{name}.png", BarChart.Png($"permutation importance: drop of {importance.Metric} (mean ± std over {importance.Repeats[0].Length} shuffles)",
                featureNames, importance.Mean, importance.Std));
            return new MethodSummary(name, result.Seconds)
            {
                Metric = importance.Metric,
                MetricBaseline = importance.Baseline,
                Importances = rows.OrderByDescending(r => r.Mean).ToList(),
                Files = files,
            };
        }

        var a = result.Attribution!;
        var summaries = Enumerable.Range(0, a.Count).Select(i => new InputSummary(inputs.First + i, a.Targets[i], a.Scores[i], a.Deltas?[i], a.BaselineScores?[i]) { Steps = a.Steps?[i] }).ToList();
        var table = new StringBuilder("input,target,feature,attribution\n");
        for (var i = 0; i < a.Count; i++)
        {
            var values = a.Of(i);
            for (var j = 0; j < values.Length; j++)
                table.Append(CultureInfo.InvariantCulture, $"{inputs.First + i},{a.Targets[i]},{Csv(featureNames[j])},{F(values[j])}\n");
        }
        Save($"{name}.csv", Encoding.UTF8.GetBytes(table.ToString()));
        Save($"{name}.json", JsonSerializer.SerializeToUtf8Bytes(new
        {
            method = name,
            layer = a.Layer,
            sample_shape = a.SampleShape,
            features = featureNames,
            inputs = summaries,
            attributions = Enumerable.Range(0, a.Count).Select(i => a.Of(i).ToArray()).ToArray(),
        }, Json));

        if (a.SampleShape.Length is 2 or 3)
        {
            // Pictures of the first inputs only: a grid of thousands of images helps nobody (the CSV and JSON hold all).
            var signed = a.Method is not (MethodKind.Saliency or MethodKind.VarGrad or MethodKind.GradCam);
            var pairs = new List<(SkiaSharp.SKBitmap, SkiaSharp.SKBitmap)>();
            try
            {
                for (var i = 0; i < Math.Min(a.Count, MaxImages); i++)
                {
                    var x = inputs.Values.AsSpan(i * a.SampleSize, a.SampleSize);
                    var overlay = Heatmaps.Overlay(x, a.Of(i), a.SampleShape, signed);
                    pairs.Add((Heatmaps.Image(x, a.SampleShape), overlay));
                    Save($"{name}-{inputs.First + i}.png", Heatmaps.Png(overlay));
                }
                using var grid = Heatmaps.Grid(pairs);
                Save($"{name}-grid.png", Heatmaps.Png(grid));
            }
            finally
            {
                foreach (var (image, overlay) in pairs)
                {
                    image.Dispose();
                    overlay.Dispose();
                }
            }
        }
        else
        {
            // A feature vector: how large each feature's attribution is over the inputs, as a bar chart.
            var size = a.SampleSize;
            var mean = new double[size];
            var std = new double[size];
            for (var j = 0; j < size; j++)
            {
                var v = Enumerable.Range(0, a.Count).Select(i => (double)Math.Abs(a.Values[i * size + j])).ToArray();
                mean[j] = v.Average();
                std[j] = Math.Sqrt(v.Select(x => (x - mean[j]) * (x - mean[j])).Average());
            }
            Save($"{name}.png", BarChart.Png($"{name}: mean |attribution| (± std over {a.Count} inputs)", featureNames, mean, std));
        }

        return new MethodSummary(name, result.Seconds)
        {
            Layer = a.Layer,
            Inputs = summaries,
            MaxDelta = a.Deltas?.Max(),
            Deletion = result.Faithfulness?.Deletion,
            Insertion = result.Faithfulness?.Insertion,
            Sanity = result.Sanity is { } s ? Sanity(s) : null,
            Files = files,
        };
    }

    public static SanitySummary Sanity(SanityResult s) =>
        new(s.Steps, s.Final, s.Passed, $"passes when the rank correlation with every layer randomised is below {SanityCheck.PassBelow.ToString(CultureInfo.InvariantCulture)}");

    /// <summary>Heatmap PNGs are drawn for at most this many inputs, the first ones.</summary>
    public const int MaxImages = 64;

    private static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    private static string F(float v) => v.ToString("R", CultureInfo.InvariantCulture);

    private static string Csv(string s) => s.Contains(',') || s.Contains('"') ? $"\"{s.Replace("\"", "\"\"")}\"" : s;
}
