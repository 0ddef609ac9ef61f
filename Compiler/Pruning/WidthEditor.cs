using System.Globalization;
using Dlc.Compiler.Elaboration;
using Dlc.Diagnostics;
using Dlc.Syntax;

namespace Dlc.Compiler.Pruning;

/// <summary>
/// Writes a model's .dl file again with new layer widths, changing nothing but the width literals:
/// `dense 128` becomes `dense 64`, a width given by a top-level `let hidden = 256` has that literal
/// changed (every layer using the name must then get the same new width), and a width that is a function's
/// parameter (`let convBlock (channels: int) = conv2d channels ...`) is changed where the function is called
/// (`convBlock 32`), when the call gives it as a number. A width that comes from elsewhere (an expression,
/// a value passed on, an imported file) is reported, not guessed.
/// </summary>
public static class WidthEditor
{
    /// <param name="file">The compiled file.</param>
    /// <param name="model">The model whose layers change (evaluation graph).</param>
    /// <param name="widths">New output widths by producing weight parameter name.</param>
    public static string Rewrite(CompiledFile file, ModelGraph model, IReadOnlyDictionary<string, int> widths)
    {
        var source = file.Source;
        var edits = new Dictionary<TextSpan, (int Width, string Layer)>();
        var lets = file.Unit.Declarations.OfType<LetDecl>().Where(l => l.Parameters.Count == 0).ToDictionary(l => l.Name.Name, StringComparer.Ordinal);
        foreach (var (weight, width) in widths)
        {
            var parameter = model.Graph.Parameters.First(p => p.Name == weight);
            if (parameter.Origin is not { } origin || model.SourceOf(parameter.Node) != source)
                throw Error(model.SourceOf(parameter.Node), parameter.Origin ?? default,
                    $"`{weight}` is made in another file; structured pruning rewrites only the file it is given");
            var layer = Application(file.Unit, origin)
                        ?? throw Error(source, origin, $"no layer application was found at the source of `{weight}`");
            var text = source.Text.Substring(origin.Start, origin.Length);
            var argument = layer.Argument is NameExpr parameterName && !lets.ContainsKey(parameterName.Name.Name)
                           && CallArgument(file.Unit, model, weight, parameterName.Name.Name, lets) is { } written
                ? written
                : layer.Argument;
            var (span, why) = argument switch
            {
                NumberLit { IsInteger: true } literal => (literal.Span, (string?)null),
                NameExpr name when lets.TryGetValue(name.Name.Name, out var let) && let.Body is NumberLit { IsInteger: true } bound
                    => (bound.Span, null),
                NameExpr name => (default(TextSpan), $"its width `{name.Name.Name}` is neither a top-level `let` of a whole number nor a function's parameter given as a number where it is called"),
                _ => (default, "its width is an expression, not a number"),
            };
            if (why is not null)
                throw Error(source, layer.Argument.Span, $"`{text}` cannot be given a new width: {why}",
                    "write the width as a number at the layer, or as `let name = number`, to prune it");
            if (edits.TryGetValue(span, out var other) && other.Width != width)
                throw Error(source, span,
                    $"`{source.Text.Substring(span.Start, span.Length)}` sets the width of `{other.Layer}` and of `{text}`, which keep {other.Width} and {width} channels",
                    "give each layer a width of its own to prune them to different widths");
            edits[span] = (width, text);
        }
        var result = source.Text;
        foreach (var (span, (width, _)) in edits.OrderByDescending(e => e.Key.Start))
            result = result[..span.Start] + width.ToString(CultureInfo.InvariantCulture) + result[span.End..];
        return result;
    }

    /// <summary>
    /// The source with every relative path that names an existing file beside <paramref name="from"/> (imports,
    /// data files) rewritten to reach the same file from <paramref name="toFolder"/>, so a copy of a model
    /// written elsewhere still finds its data and imports.
    /// </summary>
    public static string RebasePaths(string text, string from, string toFolder)
    {
        var parsed = DlParser.Parse(new SourceText(from, text));
        var folder = Path.GetDirectoryName(Path.GetFullPath(from))!;
        var edits = new List<(TextSpan Span, string Path)>();
        foreach (var declaration in parsed.Unit.Declarations)
        {
            if (declaration is ImportDecl import) Rebase(import.Path, import.PathSpan);
            if (declaration is not JobDecl job) continue;
            foreach (var literal in Expressions([job.Settings]).OfType<StringLit>()) Rebase(literal.Value, literal.Span);
        }
        foreach (var (span, path) in edits.OrderByDescending(e => e.Span.Start))
            text = text[..span.Start] + "\"" + path.Replace("\\", "/", StringComparison.Ordinal) + "\"" + text[span.End..];
        return text;

        void Rebase(string path, TextSpan span)
        {
            if (Path.IsPathRooted(path) || !File.Exists(Path.Combine(folder, path))) return;
            edits.Add((span, Path.GetRelativePath(Path.GetFullPath(toFolder), Path.Combine(folder, path))));
        }
    }

    /// <summary>The innermost `layer width` application at <paramref name="origin"/>: `conv2d 32 (kernel = 3)` gives `conv2d 32`.</summary>
    /// <summary>
    /// The expression a user function's call wrote for its parameter <paramref name="parameter"/>, for the call
    /// whose scope made <paramref name="weight"/> (`convBlock 32` for `FashionCnn.convBlock1.conv2d.weight`).
    /// </summary>
    private static Expr? CallArgument(CompilationUnit unit, ModelGraph model, string weight, string parameter, IReadOnlyDictionary<string, LetDecl> lets)
    {
        var instance = model.Layers.Select(r => r.Instance).FirstOrDefault(i => i is not null && weight.StartsWith(i.Path + ".", StringComparison.Ordinal));
        for (var scope = instance?.Scope; scope is not null; scope = scope.Parent)
        {
            if (!scope.Arguments.TryGetValue(parameter, out var span)) continue;
            var written = Expressions(unit).FirstOrDefault(e => e.Span == span && e is NumberLit or NameExpr);
            // A parameter passed on by name (`let twice (c: int) = block c >> block c`) is the outer call's argument.
            if (written is NameExpr passed && !lets.ContainsKey(passed.Name.Name))
            {
                parameter = passed.Name.Name;
                continue;
            }
            return written;
        }
        return null;
    }

    private static ApplyExpr? Application(CompilationUnit unit, TextSpan origin)
    {
        var found = Expressions(unit).OfType<ApplyExpr>().FirstOrDefault(a => a.Span == origin);
        while (found is not null && found.Function is ApplyExpr inner) found = inner;
        return found is { Function: NameExpr } ? found : null;
    }

    private static IEnumerable<Expr> Expressions(CompilationUnit unit) =>
        Expressions(unit.Declarations.SelectMany(d => d switch
        {
            LetDecl l => [l.Body],
            ModelDecl m => [m.Body],
            LossDecl l => [l.Body],
            _ => Array.Empty<Expr>(),
        }));

    private static IEnumerable<Expr> Expressions(IEnumerable<Expr> roots)
    {
        var stack = new Stack<Expr>(roots);
        while (stack.Count > 0)
        {
            var e = stack.Pop();
            yield return e;
            IEnumerable<Expr> children = e switch
            {
                ApplyExpr a => [a.Function, a.Argument],
                BinaryExpr b => [b.Left, b.Right],
                NegateExpr n => [n.Operand],
                ParenExpr p => [p.Inner],
                LetExpr l => [l.Value, l.Body],
                LambdaExpr l => [l.Body],
                TupleExpr t => t.Items,
                ListExpr l => l.Items,
                MemberExpr m => [m.Target],
                RecordExpr r => r.Fields.Select(f => f.Value),
                NamedArgsExpr n => n.Arguments.Select(f => f.Value),
                _ => [],
            };
            foreach (var child in children) stack.Push(child);
        }
    }

    private static DiagnosticException Error(SourceText source, TextSpan span, string message, string? help = null) =>
        new(DiagnosticCatalog.CannotRewriteWidth.At(source, span, message, help));
}
