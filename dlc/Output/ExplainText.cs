using System.Globalization;
using Dlc.Runtime.Explain;

namespace Dlc.Cli.Output;

/// <summary>The plain-text summary of `dlc explain`: per method its targets, checks and files.</summary>
internal static class ExplainText
{
    public static void Write(TextWriter w, ExplainSummary s, string folder)
    {
        w.WriteLine($"{s.Model}: {s.Count} input{(s.Count == 1 ? "" : "s")} of {s.Split} from {s.First}, baseline {s.Baseline} -> {folder}");
        foreach (var m in s.Methods)
        {
            w.WriteLine();
            w.WriteLine($"{m.Method}{(m.Layer is null ? "" : $" ({m.Layer})")}  {F(m.Seconds, "0.0")} s");
            if (m.Importances is { } importances)
            {
                w.WriteLine($"  {m.Metric} {F(m.MetricBaseline ?? 0, "0.0000")}; drop when a feature is shuffled (mean ± std):");
                var width = importances.Max(i => i.Feature.Length);
                foreach (var i in importances) w.WriteLine($"  {i.Feature.PadRight(width)}  {F(i.Mean, "0.0000"),8} ± {F(i.Std, "0.0000")}");
                continue;
            }
            if (m.Inputs is { } inputs)
            {
                var targets = string.Join(" ", inputs.Take(16).Select(i => $"{i.Index}→{i.Target}"));
                w.WriteLine($"  targets (input→output): {targets}{(inputs.Count > 16 ? " ..." : "")}");
                if (m.MaxDelta is { } delta)
                    w.WriteLine($"  completeness: |Σ attributions − (f(x) − f(baseline))| at most {F(delta, "0.000000")} (mean {F(inputs.Average(i => i.Delta ?? 0), "0.000000")}), " +
                                $"{F(inputs.Average(i => i.Steps ?? 0), "0")} gradients per input");
            }
            if (m.Deletion is { } deletion) w.WriteLine($"  deletion AUC {F(deletion, "0.0000")} (lower is better)  insertion AUC {F(m.Insertion ?? 0, "0.0000")} (higher is better)");
            if (m.Sanity is { } sanity)
            {
                w.WriteLine($"  randomisation test: {(sanity.Passed ? "pass" : "FAIL")} ({sanity.Rule})");
                foreach (var step in sanity.Layers) w.WriteLine($"    randomised down to {step.Layer}: rank correlation {F(step.Correlation, "0.000")}");
            }
        }
    }

    private static string F(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);
}
