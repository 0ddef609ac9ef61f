using System.Globalization;
using System.Text;
using Dlc.Runtime.Explain;

namespace Dlc.Cli.Output;

/// <summary>
/// The text summary of token attributions: a line per sequence with what was explained and its completeness delta,
/// then its tokens, coloured by attribution on a terminal (24-bit ANSI backgrounds, the colours of tokens.html), else
/// each token with its attribution; then the deletion and insertion scores against random orders, and the
/// randomisation test when it ran.
/// </summary>
internal static class TokenText
{
    public static void Write(TextWriter w, TokenExplainSummary s, string folder, bool color)
    {
        var at = s.Position is { } position ? $" at position {position}" : "";
        w.WriteLine($"{s.Model}: {s.Count} input{(s.Count == 1 ? "" : "s")} of {s.Split} from {s.First}{at}, {s.Method} on the embedding output, baseline {s.Baseline} -> {folder}");
        w.WriteLine($"  completeness: |Σ attributions − (f(x) − f(baseline))| at most {F(s.MaxDelta, "0.000000")}, " +
                    $"{F(s.Inputs.DefaultIfEmpty().Average(i => i?.Steps ?? 0), "0")} gradients per input, {F(s.Seconds, "0.0")} s");
        foreach (var input in s.Inputs)
        {
            var probability = input.Probability is { } p ? $" {F(100 * p, "0.0")}%" : "";
            var label = input.LabelName is { } l && l != input.TargetName ? $" (label {Name(l, s.Position)})" : "";
            var shown = s.Position is not null && input.Tokens.Count > ContextShown ? input with { Tokens = input.Tokens.TakeLast(ContextShown).ToList() } : input;
            var more = shown.Tokens.Count < input.Tokens.Count ? "… " : "";
            w.WriteLine($"  {input.Index,5}  {more}{Tokens(shown, color)}  → {Name(input.TargetName, s.Position)}{probability}{label}  delta {F(input.Delta, "0.0000")}");
        }
        if (s.Position is not null && s.Inputs.Any(i => i.Tokens.Count > ContextShown))
            w.WriteLine($"  (the last {ContextShown} tokens of each context; tokens.csv and tokens.html hold all)");
        if (s.Faithfulness is { } f)
        {
            w.WriteLine($"  deletion AUC {F(f.Deletion, "0.0000")} (random order {F(f.RandomDeletion, "0.0000")}, lower is better)  " +
                        $"insertion AUC {F(f.Insertion, "0.0000")} (random order {F(f.RandomInsertion, "0.0000")}, higher is better)");
        }
        if (s.Sanity is { } sanity)
        {
            w.WriteLine($"  randomisation test: {(sanity.Passed ? "pass" : "FAIL")} ({sanity.Rule})");
            foreach (var step in sanity.Layers) w.WriteLine($"    randomised down to {step.Layer}: rank correlation {F(step.Correlation, "0.000")}");
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
        return string.Join(" ", input.Tokens.Select(t => $"{Visible(t.Text)}:{F(t.Attribution, "+0.00;-0.00;0.00")}"));
    }

    /// <summary>Tokens of a language model's context shown on the terminal, the last ones; the files hold all.</summary>
    public const int ContextShown = 40;

    /// <summary>A space or line break as a visible sign, where it stands alone between other text.</summary>
    private static string Visible(string text) => text switch { " " => "␣", "\n" => "⏎", "\t" => "⇥", _ => text };

    /// <summary>A language model's class is a character: quoted, so that a space is seen.</summary>
    private static string Name(string name, int? position) => position is null ? name : $"'{Visible(name)}'";

    private static string F(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);
}
