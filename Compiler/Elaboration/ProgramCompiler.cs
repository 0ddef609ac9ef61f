using Dlc.Compiler.Jobs;
using Dlc.Diagnostics;
using Dlc.Syntax;

namespace Dlc.Compiler.Elaboration;

/// <summary>A .dl file parsed and checked: its models in evaluation form, its train records, every diagnostic.</summary>
public sealed class CompiledFile
{
    public required SourceText Source { get; init; }
    public required CompilationUnit Unit { get; init; }
    public required IReadOnlyList<Diagnostic> Diagnostics { get; init; }
    public required IReadOnlyList<ModelGraph> Models { get; init; }
    public required IReadOnlyList<TrainSpec> Trains { get; init; }

    public bool HasErrors => Diagnostics.Any(d => d.IsError);

    public ModelDecl Declaration(string model) => Unit.Declarations.OfType<ModelDecl>().First(m => m.Name.Name == model);

    /// <summary>Elaborate a model again for a mode (training builds dropout masks; evaluation does not).</summary>
    public ModelGraph Elaborate(string model, bool training) =>
        ModelElaboration.Elaborate(Source, Unit, Declaration(model), training);
}

/// <summary>The front end in one call: parse, elaborate every model, read every train record.</summary>
public static class ProgramCompiler
{
    public static CompiledFile Compile(SourceText source)
    {
        var parsed = DlParser.Parse(source);
        var diagnostics = parsed.Diagnostics.ToList();
        var models = new List<ModelGraph>();
        var trains = new List<TrainSpec>();
        if (!parsed.HasErrors)
        {
            var unit = parsed.Unit;
            var seen = new Dictionary<string, Declaration>(StringComparer.Ordinal);
            foreach (var decl in unit.Declarations)
            {
                var name = decl switch { ModelDecl m => m.Name, LetDecl l => l.Name, LossDecl l => l.Name, _ => null };
                if (name is not null && !seen.TryAdd(name.Name, decl))
                    diagnostics.Add(DiagnosticCatalog.DuplicateDefinition.At(source, name.Span, $"`{name.Name}` is defined twice in this file",
                        $"the first definition is on line {source.GetPosition(seen[name.Name].Span.Start).Line}"));
            }
            foreach (var model in unit.Declarations.OfType<ModelDecl>())
            {
                try
                {
                    models.Add(ModelElaboration.Elaborate(source, unit, model, training: false));
                }
                catch (DiagnosticException ex)
                {
                    diagnostics.AddRange(ex.Diagnostics);
                }
            }
            foreach (var job in unit.Declarations.OfType<JobDecl>().Where(j => j.Kind == JobKind.Train))
            {
                try
                {
                    var spec = TrainRecordReader.Read(source, unit, job);
                    var model = unit.Declarations.OfType<ModelDecl>().FirstOrDefault(m => m.Name.Name == spec.Model);
                    if (model is null)
                    {
                        var suggestion = NameSuggestions.Closest(spec.Model, unit.Declarations.OfType<ModelDecl>().Select(m => m.Name.Name));
                        diagnostics.Add(DiagnosticCatalog.UnknownModel.At(source, job.Name.Span, $"there is no model `{spec.Model}` to train",
                            suggestion is null ? null : $"did you mean `{suggestion}`?"));
                        continue;
                    }
                    if (models.FirstOrDefault(m => m.Name == spec.Model) is { } graph && TrainingGraph.CheckLoss(source, graph, spec) is { } problem)
                        diagnostics.Add(problem);
                    trains.Add(spec);
                }
                catch (DiagnosticException ex)
                {
                    diagnostics.AddRange(ex.Diagnostics);
                }
            }
        }
        return new CompiledFile { Source = source, Unit = parsed.Unit, Diagnostics = diagnostics, Models = models, Trains = trains };
    }
}
