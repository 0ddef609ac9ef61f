using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Dlc.Diagnostics;

/// <summary>
/// Renders diagnostics for people (Rust/Elm style: header, location, the source line, carets under the
/// span, help) and for tools (`--json`).
/// </summary>
public static class DiagnosticRenderer
{
    private const int TabWidth = 4;
    private const string Reset = "\u001b[0m";
    private const string Bold = "\u001b[1m";
    private const string Blue = "\u001b[1;34m";
    private const string Cyan = "\u001b[1;36m";

    public static string Render(Diagnostic d, bool color = false)
    {
        ArgumentNullException.ThrowIfNull(d);
        string Paint(string style, string text) => color ? style + text + Reset : text;

        var severity = d.Severity.ToString().ToLowerInvariant();
        var builder = new StringBuilder();
        builder.Append(Paint(SeverityStyle(d.Severity), $"{severity} {d.Code}")).Append(Paint(Bold, $": {d.Message}")).Append('\n');
        if (d.Source is null)
        {
            if (d.Help is not null) builder.Append("  ").Append(Paint(Cyan, "= help")).Append(": ").Append(d.Help).Append('\n');
            return builder.ToString();
        }

        var start = d.Source.GetPosition(d.Span.Start);
        var number = start.Line.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var pad = new string(' ', number.Length + 1);
        var text = d.Source.GetLine(start.Line);
        var (shown, caretOffset, caretCount) = Underline(text, start.Column - 1, d.Span.Length);

        builder.Append(pad).Append(Paint(Blue, "-->")).Append(' ').Append(d.Location).Append('\n');
        builder.Append(pad).Append(Paint(Blue, " |")).Append('\n');
        builder.Append(Paint(Blue, $" {number} |")).Append((" " + shown).TrimEnd()).Append('\n');
        builder.Append(pad).Append(Paint(Blue, " |")).Append(' ').Append(new string(' ', caretOffset))
            .Append(Paint(SeverityStyle(d.Severity), new string('^', caretCount))).Append('\n');
        if (d.Help is not null) builder.Append(pad).Append(Paint(Cyan, " = help")).Append(": ").Append(d.Help).Append('\n');
        return builder.ToString();
    }

    /// <summary>
    /// The line with tabs expanded, and where the carets go: from the span's column to its end, or to the
    /// end of the line when the span runs on; at least one caret, so an empty span still shows where.
    /// </summary>
    private static (string Shown, int Offset, int Count) Underline(string line, int column, int length)
    {
        column = Math.Clamp(column, 0, line.Length);
        var end = Math.Clamp(column + length, column, line.Length);
        var shown = new StringBuilder();
        int offset = 0, count = 0;
        for (var i = 0; i <= line.Length; i++)
        {
            if (i == column) offset = shown.Length;
            if (i == end) count = shown.Length - offset;
            if (i == line.Length) break;
            if (line[i] == '\t') shown.Append(' ', TabWidth - shown.Length % TabWidth);
            else shown.Append(line[i]);
        }
        return (shown.ToString(), offset, Math.Max(1, count));
    }

    private static string SeverityStyle(Severity severity) => severity switch
    {
        Severity.Error => "\u001b[1;31m",
        Severity.Warning => "\u001b[1;33m",
        _ => "\u001b[1;36m",
    };

    /// <summary>
    /// A JSON array of {code, severity, message, file, line, column, endLine, endColumn, help}; positions are
    /// 1-based and the end is exclusive; location fields are null when the diagnostic has no source. Text is
    /// escaped for JSON only (not for HTML), so backticks and non-ASCII names stay readable.
    /// </summary>
    public static string RenderJson(IEnumerable<Diagnostic> diagnostics)
    {
        ArgumentNullException.ThrowIfNull(diagnostics);
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartArray();
            foreach (var d in diagnostics)
            {
                json.WriteStartObject();
                json.WriteString("code", d.Code);
                json.WriteString("severity", d.Severity.ToString().ToLowerInvariant());
                json.WriteString("message", WellFormed(d.Message));
                if (d.Source is { } source)
                {
                    var start = source.GetPosition(d.Span.Start);
                    var end = source.GetPosition(d.Span.End);
                    json.WriteString("file", source.Path);
                    json.WriteNumber("line", start.Line);
                    json.WriteNumber("column", start.Column);
                    json.WriteNumber("endLine", end.Line);
                    json.WriteNumber("endColumn", end.Column);
                }
                else
                {
                    foreach (var name in new[] { "file", "line", "column", "endLine", "endColumn" }) json.WriteNull(name);
                }
                if (d.Help is null) json.WriteNull("help");
                else json.WriteString("help", WellFormed(d.Help));
                json.WriteEndObject();
            }
            json.WriteEndArray();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>Messages quote source text, which may hold a lone surrogate; JSON cannot, so it becomes U+FFFD.</summary>
    private static string WellFormed(string text)
    {
        var builder = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) builder.Append(text, i++, 2);
            else builder.Append(char.IsSurrogate(text[i]) ? '\uFFFD' : text[i]);
        }
        return builder.ToString();
    }
}
