using Dlc.Compiler.Jobs;
using Dlc.Diagnostics;
using Dlc.Syntax;

namespace Dlc.Compiler.Elaboration;

/// <summary>A .dl file parsed and checked: its models in evaluation form, its job records, every diagnostic.</summary>
public sealed class CompiledFile
{
    public required SourceText Source { get; init; }
    public required CompilationUnit Unit { get; init; }

    /// <summary>The file with the files it imports.</summary>
    public required Module Root { get; init; }

    public required IReadOnlyList<Diagnostic> Diagnostics { get; init; }
    public required IReadOnlyList<ModelGraph> Models { get; init; }
    public required IReadOnlyList<TrainSpec> Trains { get; init; }
    public IReadOnlyList<AgentSpec> Agents { get; init; } = [];

    public bool HasErrors => Diagnostics.Any(d => d.IsError);

    public ModelDecl Declaration(string model) => Unit.Declarations.OfType<ModelDecl>().First(m => m.Name.Name == model);

    /// <summary>Elaborate a model again for a mode (training builds dropout masks; evaluation does not).</summary>
    public ModelGraph Elaborate(string model, bool training) =>
        ModelElaboration.Elaborate(Root, Declaration(model), training);

    /// <summary>A model with a `loss` declaration of the file as its `loss` output.</summary>
    public ModelGraph Elaborate(string model, string loss, bool training) =>
        ModelElaboration.Elaborate(Root, Declaration(model), training, Unit.Declarations.OfType<LossDecl>().First(l => l.Name.Name == loss));
}

/// <summary>The front end in one call: read the file and its imports, elaborate every model, read every job record.</summary>
public static class ProgramCompiler
{
    /// <param name="source">The file to compile.</param>
    /// <param name="readFile">Reads an imported file by full path (null when missing); the file system by default.</param>
    public static CompiledFile Compile(SourceText source, Func<string, string?>? readFile = null)
    {
        var (root, loaded) = ModuleLoader.Load(source, readFile);
        var diagnostics = loaded.ToList();
        var models = new List<ModelGraph>();
        var trains = new List<TrainSpec>();
        var agents = new List<AgentSpec>();
        if (!diagnostics.Any(d => d.IsError))
        {
            foreach (var module in Modules(root)) diagnostics.AddRange(Duplicates(module));
            foreach (var model in root.Unit.Declarations.OfType<ModelDecl>())
            {
                try
                {
                    models.Add(ModelElaboration.Elaborate(root, model, training: false));
                }
                catch (DiagnosticException ex)
                {
                    diagnostics.AddRange(ex.Diagnostics);
                }
            }
            foreach (var job in root.Unit.Declarations.OfType<JobDecl>())
            {
                try
                {
                    if (job.Kind == JobKind.Agent)
                    {
                        var agent = AgentRecordReader.Read(root, job);
                        diagnostics.AddRange(JobChecks.Agent(root, models, agent));
                        agents.Add(agent);
                        continue;
                    }
                    var spec = TrainRecordReader.Read(root, job);
                    var problems = JobChecks.Train(root, models, spec).ToList();
                    diagnostics.AddRange(problems);
                    if (problems.Count == 0) trains.Add(spec);
                }
                catch (DiagnosticException ex)
                {
                    diagnostics.AddRange(ex.Diagnostics);
                }
            }
        }
        return new CompiledFile
        {
            Source = source, Unit = root.Unit, Root = root, Diagnostics = diagnostics, Models = models, Trains = trains, Agents = agents,
        };
    }

    /// <summary>The file and every file it imports, each once.</summary>
    private static IEnumerable<Module> Modules(Module root)
    {
        var seen = new HashSet<Module>();
        var stack = new Stack<Module>([root]);
        while (stack.Count > 0)
        {
            var module = stack.Pop();
            if (!seen.Add(module)) continue;
            yield return module;
            foreach (var import in module.Imports) stack.Push(import);
        }
    }

    private static IEnumerable<Diagnostic> Duplicates(Module module)
    {
        var seen = new Dictionary<string, Declaration>(StringComparer.Ordinal);
        foreach (var decl in module.Unit.Declarations)
        {
            var name = decl switch { ModelDecl m => m.Name, LetDecl l => l.Name, LossDecl l => l.Name, _ => null };
            if (name is not null && !seen.TryAdd(name.Name, decl))
                yield return DiagnosticCatalog.DuplicateDefinition.At(module.Source, name.Span, $"`{name.Name}` is defined twice in this file",
                    $"the first definition is on line {module.Source.GetPosition(seen[name.Name].Span.Start).Line}");
        }
    }
}
