using System.Globalization;
using System.Text;
using Dlc.Runtime.Explain;

namespace Dlc.Cli.Output;

/// <summary>
/// The text summary of token attributions: a line per sequence with what was explained and its completeness delta,
/// then its tokens, coloured by attribution on a terminal (24-bit ANSI backgrounds, the colours of tokens.html), else
/// each token with its attribution.
/// </summary>
internal static class TokenText
{
    public static void Write(TextWriter w, TokenExplainSummary s, string folder, bool color)
    {
        w.WriteLine($"{s.Model}: {s.Count} input{(s.Count == 1 ? "" : "s")} of {s.Split} from {s.First}, {s.Method} on the embedding output, baseline {s.Baseline} -> {folder}");
        w.WriteLine($"  completeness: |Σ attributions − (f(x) − f(baseline))| at most {F(s.MaxDelta, "0.000000")}, " +
                    $"{F(s.Inputs.DefaultIfEmpty().Average(i => i?.Steps ?? 0), "0")} gradients per input, {F(s.Seconds, "0.0")} s");
        foreach (var input in s.Inputs)
        {
            var probability = input.Probability is { } p ? $" {F(100 * p, "0.0")}%" : "";
            var label = input.LabelName is { } l && l != input.TargetName ? $" (label {l})" : "";
            w.WriteLine($"  {input.Index,5}  {Tokens(input, color)}  → {input.TargetName}{probability}{label}  delta {F(input.Delta, "0.0000")}");
        }
        w.WriteLine($"  files: {string.Join(", ", s.Files)}");
    }

    /// <summary>The tokens coloured as in tokens.html, or followed by their attributions without colour.</summary>
    public static string Tokens(TokenInputSummary input, bool color)
    {
        var max = input.Tokens.Select(t => Math.Abs(t.Attribution)).DefaultIfEmpty().Max();
        var text = new StringBuilder();
        if (color)
        {
            foreach (var t in input.Tokens)
            {
                var (r, g, b) = TokenOutput.Colour(t.Attribution, max);
                text.Append(CultureInfo.InvariantCulture, $"\u001b[48;2;{r};{g};{b}m\u001b[38;2;0;0;0m{t.Text}");
            }
            return text.Append("\u001b[0m").ToString();
        }
        return string.Join(" ", input.Tokens.Select(t => $"{t.Text}:{F(t.Attribution, "+0.00;-0.00;0.00")}"));
    }

    private static string F(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);
}
