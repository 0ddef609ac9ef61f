using Dlc.Diagnostics;
using Dlc.Syntax;

namespace Dlc.Compiler.Elaboration;

/// <summary>A parsed .dl file and the files it imports (`import "blocks.dl"`), whose top-level lets it sees.</summary>
public sealed class Module
{
    internal Module(SourceText source, CompilationUnit unit)
    {
        Source = source;
        Unit = unit;
    }

    public SourceText Source { get; }
    public CompilationUnit Unit { get; }
    public IReadOnlyList<Module> Imports => _imports;

    internal readonly List<Module> _imports = [];
}

/// <summary>
/// Reads a file and, transitively, what it imports. Import paths are relative to the importing file; a file
/// imported twice is read once; a cycle or a missing file is an error at the `import` that causes it, and an
/// error inside an imported file is reported in that file.
/// </summary>
public static class ModuleLoader
{
    /// <summary>Reads a file's text by full path, or returns null when there is no such file.</summary>
    public static string? ReadFile(string fullPath) => File.Exists(fullPath) ? File.ReadAllText(fullPath) : null;

    public static (Module Root, IReadOnlyList<Diagnostic> Diagnostics) Load(SourceText source, Func<string, string?>? read = null)
    {
        var loader = new Loader(read ?? ReadFile, Path.GetDirectoryName(Path.GetFullPath(source.Path)) ?? ".");
        var root = loader.Load(source, []);
        return (root, loader.Diagnostics);
    }

    private sealed class Loader(Func<string, string?> read, string rootFolder)
    {
        private readonly Dictionary<string, Module> _loaded = new(StringComparer.Ordinal);

        public List<Diagnostic> Diagnostics { get; } = [];

        public Module Load(SourceText source, List<string> stack)
        {
            var fullPath = Path.GetFullPath(source.Path);
            var parsed = DlParser.Parse(source);
            Diagnostics.AddRange(parsed.Diagnostics);
            var module = new Module(source, parsed.Unit);
            _loaded[fullPath] = module;
            stack.Add(fullPath);
            foreach (var import in parsed.Unit.Declarations.OfType<ImportDecl>())
            {
                var target = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(fullPath) ?? ".", import.Path));
                var cycleStart = stack.IndexOf(target);
                if (cycleStart >= 0)
                {
                    var chain = stack.Skip(cycleStart).Append(target).Select(Display);
                    Diagnostics.Add(DiagnosticCatalog.ImportCycle.At(source, import.PathSpan, $"import cycle: {string.Join(" → ", chain)}",
                        "files cannot import each other; move what both need into a third file that both import"));
                    continue;
                }
                if (_loaded.TryGetValue(target, out var done))
                {
                    module._imports.Add(done);
                    continue;
                }
                var text = read(target);
                if (text is null)
                {
                    Diagnostics.Add(DiagnosticCatalog.FileNotFound.At(source, import.PathSpan, $"cannot import `{import.Path}`: there is no file {Display(target)}",
                        "the path is relative to the file that imports it"));
                    continue;
                }
                module._imports.Add(Load(new SourceText(PathFor(source.Path, target), text), stack));
            }
            stack.RemoveAt(stack.Count - 1);
            return module;
        }

        /// <summary>How a file is named in messages: relative to the folder of the file being checked.</summary>
        private string Display(string fullPath) => Path.GetRelativePath(rootFolder, fullPath);

        /// <summary>An imported file's path in diagnostics: relative when the importing file's was, as the user wrote it.</summary>
        private static string PathFor(string importer, string fullPath) =>
            Path.IsPathRooted(importer) ? fullPath : Path.GetRelativePath(Environment.CurrentDirectory, fullPath);
    }
}
