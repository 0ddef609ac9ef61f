using System.Globalization;
using Dlc.Runtime.Training;

namespace Dlc.Cli.Output;

/// <summary>
/// What `eval` (and the test line of `train`) says beyond loss and accuracy: a classifier's per-class precision,
/// recall and F1 with their macro mean, a forecaster's mean absolute error next to the naive forecast's, and the exact
/// matches of a sequence-to-sequence model's greedy decoding.
/// </summary>
internal static class EvalReportText
{
    /// <summary>Classifiers with more classes than this (a character LM's 96) get the macro line only on a terminal.</summary>
    public const int MaxTableClasses = 30;

    public static void Write(TextWriter w, EvalResult result)
    {
        if (result.ExactMatch is { } exact)
            w.WriteLine($"  exact match {(100 * exact).ToString("0.00", CultureInfo.InvariantCulture)}% ({Math.Round(exact * result.Samples):N0} of {result.Samples:N0} decoded greedily, without teacher forcing)");
        if (result.Report is { } report)
        {
            if (report.Classes.Count <= MaxTableClasses)
            {
                var width = Math.Max(5, report.Classes.Max(c => c.Name.Length));
                w.WriteLine($"  {"class".PadRight(width)}  precision  recall      F1    support");
                foreach (var c in report.Classes)
                    w.WriteLine($"  {c.Name.PadRight(width)}  {F(c.Precision),9}  {F(c.Recall),6}  {F(c.F1),6}  {c.Support,9:N0}");
            }
            w.WriteLine($"  macro: precision {F(report.MacroPrecision)}  recall {F(report.MacroRecall)}  F1 {F(report.MacroF1)} ({report.Classes.Count} classes)");
        }
        if (result.Forecast is { } f)
        {
            w.WriteLine($"  MAE {G(f.ModelMae)} (naive last value: {G(f.NaiveMae)}, {(f.ModelMae / f.NaiveMae).ToString("0.000", CultureInfo.InvariantCulture)}×)  " +
                        $"RMSE {G(f.ModelRmse)} (naive: {G(f.NaiveRmse)}), in the series' units");
        }
    }

    /// <summary>The `--json` fields of the report, snake_case; empty for a result without one.</summary>
    public static Dictionary<string, object?> Json(EvalResult result, string prefix = "")
    {
        var fields = new Dictionary<string, object?>();
        if (result.ExactMatch is { } exact) fields[prefix + "exact_match"] = exact;
        if (result.Report is { } report)
        {
            fields[prefix + "macro_precision"] = report.MacroPrecision;
            fields[prefix + "macro_recall"] = report.MacroRecall;
            fields[prefix + "macro_f1"] = report.MacroF1;
            fields[prefix + "per_class"] = report.Classes.Select(c => new Dictionary<string, object>
            {
                ["class"] = c.Name, ["precision"] = c.Precision, ["recall"] = c.Recall, ["f1"] = c.F1, ["support"] = c.Support,
            }).ToList();
        }
        if (result.Forecast is { } f)
        {
            fields[prefix + "mae"] = f.ModelMae;
            fields[prefix + "naive_mae"] = f.NaiveMae;
            fields[prefix + "rmse"] = f.ModelRmse;
            fields[prefix + "naive_rmse"] = f.NaiveRmse;
        }
        return fields;
    }

    private static string F(double x) => x.ToString("0.0000", CultureInfo.InvariantCulture);

    private static string G(double x) => x.ToString("0.###", CultureInfo.InvariantCulture);
}
