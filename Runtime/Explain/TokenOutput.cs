using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Dlc.Runtime.Checkpoints;
using Dlc.Runtime.Data;

namespace Dlc.Runtime.Explain;

/// <summary>One token of an explained sequence: its position, text, index and attribution.</summary>
public sealed record TokenScore(int Position, string Text, int Index, double Attribution);

/// <summary>One explained sequence: its text, what was explained and the checks, and its tokens (the padding left out).</summary>
public sealed record TokenInputSummary(int Index, string Text, int Target, string TargetName, int? Label, string? LabelName,
    double Score, double BaselineScore, double Delta, int Steps, double? Probability, IReadOnlyList<TokenScore> Tokens)
{
    /// <summary>The position explained, for a model that scores every position.</summary>
    public int? Position { get; init; }
}

/// <summary>`dlc explain` of a model of token sequences: its `--json` document and `summary.json`.</summary>
public sealed record TokenExplainSummary(string Model, string Checkpoint, string Split, int First, int Count, string Method, string Baseline,
    double Seconds, double MaxDelta, IReadOnlyList<TokenInputSummary> Inputs, IReadOnlyList<string> Files)
{
    /// <summary>The position explained, for a model that scores every position, when it is the same for every input.</summary>
    public int? Position { get; init; }

    /// <summary>What a token is, in the plural: `characters` or `words`.</summary>
    public string Unit { get; init; } = "characters";

    /// <summary>Whether the prediction at a position was explained by the whole sequence (a model that reads ahead), not the tokens up to it.</summary>
    public bool ReadsAhead { get; init; }

    /// <summary>Whether the classes are tokens of the vocabulary (a language model), rather than names of their own (tags, labels).</summary>
    public bool ClassesAreTokens { get; init; }

    /// <summary>Deletion and insertion of tokens in the order of their attributions, and in random orders.</summary>
    public TokenFaithfulness? Faithfulness { get; init; }

    public SanitySummary? Sanity { get; init; }
}

/// <summary>
/// The areas under the target's probability as tokens are deleted (lower is better) or inserted (higher is better) in
/// the order of their attributions, next to the same in random orders, with the curves averaged over the inputs.
/// </summary>
public sealed record TokenFaithfulness(double Deletion, double Insertion, double RandomDeletion, double RandomInsertion,
    double[] DeletionCurve, double[] InsertionCurve, double[] RandomDeletionCurve, double[] RandomInsertionCurve)
{
    public static TokenFaithfulness Of(FaithfulnessScore attributed, FaithfulnessScore random) =>
        new(attributed.Deletion, attributed.Insertion, random.Deletion, random.Insertion,
            attributed.DeletionCurve, attributed.InsertionCurve, random.DeletionCurve, random.InsertionCurve);
}

/// <summary>
/// Writes token attributions into a folder, each file atomically: `tokens.csv` (a row per token), `tokens.html`
/// (each sequence as coloured tokens: red where a token raises the explained score, blue where it lowers it,
/// stronger for larger attributions, scaled per sequence) and `summary.json`.
/// </summary>
public static class TokenOutput
{
    /// <summary>
    /// A row per sequence with the tokens of its context (all of them for one prediction per sequence or a model that
    /// reads ahead, those up to the explained position for a language model), padding left out. Tokens are the
    /// characters of <paramref name="vocabulary"/> or the words of <paramref name="words"/>. A language model's classes
    /// are the tokens of its vocabulary, and its label at the position the token that came next.
    /// </summary>
    public static TokenExplainSummary Summarize(string model, string checkpoint, ExplainInputs inputs, TokenAttribution result, double seconds,
        CharVocabulary? vocabulary, IReadOnlyList<string>? classNames, bool classifier, WordVocabulary? words = null)
    {
        var perPosition = result.Positions.Any(p => p >= 0);
        string Token(int index) => words is not null ? words.Decode(index)
            : vocabulary is not null ? vocabulary.Decode(index).ToString()
            : $"#{index}";
        var classesAreTokens = perPosition && classNames is null && (words is not null || vocabulary is not null);
        string Name(int c) => classNames is not null && c < classNames.Count ? classNames[c]
            : classesAreTokens && c < (words?.Size ?? vocabulary!.Size) ? Token(c)
            : c.ToString(CultureInfo.InvariantCulture);
        var rows = new List<TokenInputSummary>();
        for (var i = 0; i < result.Count; i++)
        {
            var tokens = new List<TokenScore>();
            var values = result.Of(i);
            for (var p = 0; p <= result.Contexts[i]; p++)
            {
                var index = (int)result.Tokens[i * result.Length + p];
                if (index == 0) continue;
                tokens.Add(new TokenScore(p, Token(index), index, values[p]));
            }
            var position = result.Positions[i];
            var label = classifier && inputs.HasLabels ? (int)inputs.Labels[i * inputs.TargetSize + Math.Max(0, position) % inputs.TargetSize] : (int?)null;
            if (label < 0) label = null;
            rows.Add(new TokenInputSummary(inputs.First + i, string.Join(words is null ? "" : " ", tokens.Select(t => t.Text)), result.Targets[i], Name(result.Targets[i]),
                label, label is { } l ? Name(l) : null, result.Scores[i], result.BaselineScores[i], result.Deltas[i], result.Steps[i],
                result.Probabilities?[i], tokens)
            {
                Position = position >= 0 ? position : null,
            });
        }
        var common = result.Positions.Distinct().ToArray();
        return new TokenExplainSummary(model, checkpoint, inputs.Split, inputs.First, inputs.Count, "integrated-gradients",
            result.Baseline.ToString().ToLowerInvariant(), seconds, result.Deltas.DefaultIfEmpty().Max(), rows, [])
        {
            Position = perPosition && common.Length == 1 ? common[0] : null,
            Unit = words is null ? "characters" : "words",
            ReadsAhead = perPosition && result.ReadsAhead,
            ClassesAreTokens = classesAreTokens,
        };
    }

    public static TokenExplainSummary Write(string folder, TokenExplainSummary summary)
    {
        try
        {
            Directory.CreateDirectory(folder);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataException(DataException.WriteFailed, folder, $"cannot create the folder {folder}: {e.Message}");
        }
        AtomicFile.WriteAllBytes(Path.Combine(folder, "tokens.csv"), Encoding.UTF8.GetBytes(Csv(summary)));
        AtomicFile.WriteAllBytes(Path.Combine(folder, "tokens.html"), Encoding.UTF8.GetBytes(Html(summary)));
        var written = summary with { Files = ["tokens.csv", "tokens.html", "summary.json"] };
        AtomicFile.WriteAllBytes(Path.Combine(folder, "summary.json"), JsonSerializer.SerializeToUtf8Bytes(written, ExplainOutput.Json));
        return written;
    }

    public static string Csv(TokenExplainSummary summary)
    {
        var csv = new StringBuilder("input,position,token,index,attribution,target,explained\n");
        foreach (var input in summary.Inputs)
        {
            var explained = input.Position?.ToString(CultureInfo.InvariantCulture) ?? "";
            foreach (var t in input.Tokens)
                csv.Append(CultureInfo.InvariantCulture, $"{input.Index},{t.Position},{Quote(t.Text)},{t.Index},{t.Attribution:R},{Quote(input.TargetName)},{explained}\n");
        }
        return csv.ToString();
    }

    public static string Html(TokenExplainSummary summary)
    {
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>")
            .Append(WebUtility.HtmlEncode($"{summary.Model}: token attributions")).Append("</title>\n")
            .Append("<style>body{font-family:sans-serif} td{padding:2px 8px} .t{font-family:monospace;font-size:1.4em;padding:0 1px} " +
                    ".n{color:#666;font-size:.85em} .x{outline:2px solid #000}</style></head><body>\n")
            .Append(CultureInfo.InvariantCulture, $"<h1>{WebUtility.HtmlEncode(summary.Model)}</h1>\n<p>Integrated gradients on the embedding output, baseline: {summary.Baseline}; ")
            .Append(summary.Position is { } position ? $"the prediction at position {position} " : "")
            .Append(summary.Inputs.Any(i => i.Position is not null)
                ? $"{(summary.Position is null ? "the prediction at the outlined token of each row " : "(outlined) ")}from {(summary.ReadsAhead ? "the whole sequence" : "the tokens up to it")}; "
                : "")
            .Append("red raises the explained score, blue lowers it; each row is scaled to its largest attribution.</p>\n");
        if (summary.Faithfulness is { } f)
            html.Append(CultureInfo.InvariantCulture, $"<p>Deletion AUC {f.Deletion:0.0000} (random order {f.RandomDeletion:0.0000}; lower is better), ")
                .Append(CultureInfo.InvariantCulture, $"insertion AUC {f.Insertion:0.0000} (random order {f.RandomInsertion:0.0000}; higher is better).</p>\n");
        if (summary.Sanity is { } sanity)
            html.Append(CultureInfo.InvariantCulture, $"<p>Randomisation test: {(sanity.Passed ? "pass" : "fail")}, rank correlation with every layer randomised {sanity.Final:0.000}.</p>\n");
        html.Append("<table>\n")
            .Append("<tr><th>input</th><th>tokens</th><th>explained</th><th>label</th><th>score</th><th>delta</th></tr>\n");
        foreach (var input in summary.Inputs)
        {
            var max = input.Tokens.Select(t => Math.Abs(t.Attribution)).DefaultIfEmpty().Max();
            html.Append(CultureInfo.InvariantCulture, $"<tr><td>{input.Index}</td><td>");
            foreach (var t in input.Tokens)
            {
                var (r, g, b) = Colour(t.Attribution, max);
                html.Append(CultureInfo.InvariantCulture,
                    $"{(summary.Unit == "words" && t.Position != input.Tokens[0].Position ? " " : "")}<span class=\"t{(t.Position == input.Position ? " x" : "")}\" style=\"background:rgb({r},{g},{b})\" title=\"{t.Attribution:0.0000}\">{WebUtility.HtmlEncode(t.Text)}</span>");
            }
            var probability = input.Probability is { } p ? $" ({100 * p:0.0}%)" : "";
            html.Append(CultureInfo.InvariantCulture, $"</td><td>{WebUtility.HtmlEncode(input.TargetName)}{probability}</td>")
                .Append(CultureInfo.InvariantCulture, $"<td>{WebUtility.HtmlEncode(input.LabelName ?? "")}</td>")
                .Append(CultureInfo.InvariantCulture, $"<td>{input.Score:0.000}</td><td class=\"n\">{input.Delta:0.0000}</td></tr>\n");
        }
        return html.Append("</table>\n</body></html>\n").ToString();
    }

    /// <summary>White for 0, towards red (positive) or blue (negative) in proportion to |a| / max.</summary>
    public static (int R, int G, int B) Colour(double attribution, double max)
    {
        var strength = max > 0 ? Math.Clamp(Math.Abs(attribution) / max, 0, 1) : 0;
        var fade = (int)Math.Round(255 * (1 - 0.75 * strength));
        return attribution >= 0 ? (255, fade, fade) : (fade, fade, 255);
    }

    private static string Quote(string text) =>
        text.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : text;
}
