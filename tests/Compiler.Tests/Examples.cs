using Dlc.Compiler.Elaboration;
using Dlc.Diagnostics;

namespace Dlc.Compiler.Tests;

/// <summary>The .dl files under examples/, compiled from the repository as `dlc check` reads them.</summary>
internal static class Examples
{
    public static string Folder { get; } = Find();

    public static IEnumerable<string> Files => Directory.EnumerateFiles(Folder, "*.dl").Order(StringComparer.Ordinal);

    public static CompiledFile Compile(string name)
    {
        var path = Path.Combine(Folder, name);
        return ProgramCompiler.Compile(SourceText.FromFile(path));
    }

    public static string Render(CompiledFile file) => string.Join("\n", file.Diagnostics.Select(d => DiagnosticRenderer.Render(d)));

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "examples");
            if (Directory.Exists(candidate) && File.Exists(Path.Combine(dir.FullName, "docs", "language.md"))) return candidate;
        }
        throw new DirectoryNotFoundException("the repository's examples folder was not found above the test binaries");
    }
}
