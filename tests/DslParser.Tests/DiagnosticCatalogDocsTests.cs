using System.Text;
using Dlc.Diagnostics;

namespace Dlc.DslParser.Tests;

/// <summary>docs/diagnostics.md lists every code of the catalogue; run with DLC_REGENERATE=1 to rewrite it.</summary>
public class DiagnosticCatalogDocsTests
{
    [Fact]
    public void Every_code_is_unique_and_documented_in_docs_diagnostics_md()
    {
        DiagnosticCatalog.All.Select(d => d.Code).ShouldBeUnique();
        var path = Path.Combine(RepoRoot(), "docs", "diagnostics.md");
        var expected = Render();
        if (Environment.GetEnvironmentVariable("DLC_REGENERATE") == "1") File.WriteAllText(path, expected);
        File.ReadAllText(path).ShouldBe(expected);
    }

    private static string Render()
    {
        var sb = new StringBuilder();
        sb.AppendLine("# Diagnostics");
        sb.AppendLine();
        sb.AppendLine("Every message dlc prints about a file, its data or its options has a stable code. Codes are never");
        sb.AppendLine("reused or renumbered: DL01xx syntax, DL02xx names, DL03xx shapes and types, DL04xx jobs and their");
        sb.AppendLine("records, DL09xx files and data. `--json` prints the same diagnostics as JSON objects");
        sb.AppendLine("(code, severity, message, file, line, column, endLine, endColumn, help).");
        sb.AppendLine();
        sb.AppendLine("This page is generated from `DslParser/Diagnostics/DiagnosticCatalog.cs` by a test.");
        sb.AppendLine();
        sb.AppendLine("| code | severity | what it means |");
        sb.AppendLine("| --- | --- | --- |");
        foreach (var d in DiagnosticCatalog.All)
            sb.AppendLine($"| {d.Code} | {d.Severity.ToString().ToLowerInvariant()} | {d.Title.Replace("|", "\\|")} |");
        return sb.ToString();
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "dlc.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException("dlc.sln not found above the test folder");
    }
}
