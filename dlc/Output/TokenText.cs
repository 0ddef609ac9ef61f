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
            var label = input.LabelName is { } l && l != input.TargetName ? $" (label {Name(l, s)})" : "";
            var (shown, before, after) = Window(input);
            var where = input.Position is { } explained && s.Position is null ? $" at {explained}" : "";
            w.WriteLine($"  {input.Index,5}  {(before ? "… " : "")}{Tokens(shown, color, s.Unit == "words")}{(after ? " …" : "")}  → {Name(input.TargetName, s)}{probability}{label}{where}  delta {F(input.Delta, "0.0000")}");
        }
        if (s.Inputs.Any(i => i.Position is not null && i.Tokens.Count > ContextShown))
            w.WriteLine($"  ({ContextShown} tokens of each context around the explained position; tokens.csv and tokens.html hold all)");
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

    /// <summary>
    /// The tokens coloured as in tokens.html (words apart by spaces), or followed by their attributions without colour;
    /// the token whose prediction was explained underlined, or in brackets.
    /// </summary>
    public static string Tokens(TokenInputSummary input, bool color, bool words = false)
    {
        var max = input.Tokens.Select(t => Math.Abs(t.Attribution)).DefaultIfEmpty().Max();
        // A language model's position is its context's last token; a word explained among others is marked.
        var marked = input.Position is { } position && input.Tokens.Count > 0 && (words || input.Tokens[^1].Position != position) ? position : (int?)null;
        var text = new StringBuilder();
        if (color)
        {
            foreach (var t in input.Tokens)
            {
                var (r, g, b) = TokenOutput.Colour(t.Attribution, max);
                if (words && text.Length > 0) text.Append("\u001b[0m ");
                text.Append(CultureInfo.InvariantCulture, $"\u001b[48;2;{r};{g};{b}m\u001b[38;2;0;0;0m{(t.Position == marked ? "\u001b[4m" : "")}{t.Text}{(t.Position == marked ? "\u001b[24m" : "")}");
            }
            return text.Append("\u001b[0m").ToString();
        }
        return string.Join(" ", input.Tokens.Select(t => $"{(t.Position == marked ? "[" : "")}{Visible(t.Text)}{(t.Position == marked ? "]" : "")}:{F(t.Attribution, "+0.00;-0.00;0.00")}"));
    }

    /// <summary>
    /// At most <see cref="ContextShown"/> tokens of a context explained at a position, around it (the last ones when it
    /// ends there), and whether tokens were left out before and after.
    /// </summary>
    private static (TokenInputSummary Shown, bool Before, bool After) Window(TokenInputSummary input)
    {
        if (input.Position is not { } position || input.Tokens.Count <= ContextShown) return (input, false, false);
        var at = Math.Max(0, input.Tokens.ToList().FindIndex(t => t.Position >= position));
        var first = Math.Clamp(at - ContextShown / 2, 0, input.Tokens.Count - ContextShown);
        return (input with { Tokens = input.Tokens.Skip(first).Take(ContextShown).ToList() }, first > 0, first + ContextShown < input.Tokens.Count);
    }

    /// <summary>Tokens of a context explained at a position shown on the terminal, around it; the files hold all.</summary>
    public const int ContextShown = 40;

    /// <summary>A space or line break as a visible sign, where it stands alone between other text.</summary>
    private static string Visible(string text) => text switch { " " => "␣", "\n" => "⏎", "\t" => "⇥", _ => text };

    /// <summary>A language model's class is a token: quoted, so that a space is seen.</summary>
    private static string Name(string name, TokenExplainSummary s) => s.ClassesAreTokens ? $"'{Visible(name)}'" : name;

    private static string F(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);
}
