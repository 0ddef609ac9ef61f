using System.Text.RegularExpressions;
using Dlc.Compiler.Elaboration;
using Dlc.Compiler.Ir;
using Dlc.Diagnostics;
using Dlc.Syntax;

namespace Dlc.Compiler.Jobs;

/// <summary>
/// Checks of a job record against the models it names, once both are read: the loss fits the output, the
/// data fits the input, GAN networks fit each other, an agent's network fits its environment.
/// </summary>
internal static class JobChecks
{
    public static IEnumerable<Diagnostic> Train(Module root, IReadOnlyList<ModelGraph> models, TrainSpec spec)
    {
        var source = root.Source;
        var declared = root.Unit.Declarations.OfType<ModelDecl>().Select(m => m.Name.Name).ToList();
        if (spec.Gan is { } gan)
        {
            foreach (var d in Gan(source, models, gan)) yield return d;
            yield break;
        }
        if (!declared.Contains(spec.Model))
        {
            var suggestion = NameSuggestions.Closest(spec.Model, declared);
            yield return DiagnosticCatalog.UnknownModel.At(source, spec.ModelSpan, $"there is no model `{spec.Model}` to train",
                suggestion is null ? null : $"did you mean `{suggestion}`?");
            yield break;
        }
        // A model that did not elaborate has reported its own error.
        if (models.FirstOrDefault(m => m.Name == spec.Model) is not { } model) yield break;

        // The training graph feeds the labels as an input of that name: a model input of the same name would read them.
        if (spec.Loss != LossKind.Declared && model.Inputs.FirstOrDefault(i => i.Name == TrainingGraph.TargetInput) is { } clash)
            yield return DiagnosticCatalog.ReservedInputName.At(source, clash.Span,
                $"`{clash.Name}` is the name of the labels the loss reads while `{model.Name}` trains, so it cannot name an input",
                "rename the input, for example `previous` for a decoder's input (the target characters before each position)");
        var loss = spec.Loss == LossKind.Declared ? DeclaredLoss(root, model, spec) : TrainingGraph.CheckLoss(source, model, spec);
        if (loss is not null) yield return loss;
        if (DataFits(source, model, spec.Data) is { } data) yield return data;
        if (spec.Augment is { } augment && model.Inputs.Count > 0 && model.Inputs[0].Shape.Rank != 4)
        {
            var field = augment.CropPadding > 0 ? "crop" : "flip";
            yield return DiagnosticCatalog.DataShapeMismatch.At(source, field == "crop" ? augment.CropSpan : augment.FlipSpan,
                $"`{field}` changes images [N, C, H, W], but `{model.Name}` takes {model.Inputs[0].Shape}",
                "declare the input as images, for example `(image: Tensor[N, 1, 28, 28])`, and `flatten` them where rows are needed");
        }
        if (spec.TopK is { } topK && model.HasSingleOutput && model.OutputShape.Rank >= 2 && !model.OutputShape.Last.IsSymbolic
            && topK.K > model.OutputShape.Last.Size)
            yield return DiagnosticCatalog.InvalidFieldValue.At(source, topK.Span,
                $"`topK {topK.K}` needs at least {topK.K} classes, but `{model.Name}` scores {model.OutputShape.Last.Size}");
        foreach (var pattern in spec.Freeze)
        {
            if (!Matches(pattern.Pattern, model))
                yield return DiagnosticCatalog.InvalidFieldValue.At(source, pattern.Span, $"\"{pattern.Pattern}\" matches no parameter of `{model.Name}`",
                    $"its parameters are named like {string.Join(", ", model.Graph.Parameters.Take(3).Select(p => $"`{p.Name}`"))}");
        }
        if (spec.Distill?.TeacherModel is { } teacherName && models.FirstOrDefault(m => m.Name == teacherName) is { } teacher
            && teacher.HasSingleOutput && model.HasSingleOutput && teacher.OutputShape != model.OutputShape)
            yield return DiagnosticCatalog.ShapeMismatch.At(source, spec.Distill.TeacherSpan,
                $"the teacher `{teacher.Name}` returns {teacher.OutputShape}, but the student `{model.Name}` returns {model.OutputShape}",
                "a student learns the teacher's scores, so both score the same classes");
    }

    public static IEnumerable<Diagnostic> Agent(Module root, IReadOnlyList<ModelGraph> models, AgentSpec agent)
    {
        if (models.FirstOrDefault(m => m.Name == agent.Network) is not { } network) yield break;
        var env = agent.Environment;
        var input = network.Inputs.Count == 1 ? network.Inputs[0].Shape : null;
        if (input is null || input.Rank != 2 || input[1] != Dim.Of(env.Observations))
            yield return DiagnosticCatalog.DataShapeMismatch.At(root.Source, agent.NetworkSpan,
                $"`{env.Name}` observes {env.Observations} numbers, but `{network.Name}` takes {(input is null ? $"{network.Inputs.Count} inputs" : input.ToString())}",
                $"declare its input as `(state: Tensor[N, {env.Observations}])`");
        else if (!network.HasSingleOutput || network.OutputShape != new Shape(input[0], env.Actions))
            yield return DiagnosticCatalog.LossTargetMismatch.At(root.Source, agent.NetworkSpan,
                $"`{env.Name}` has {env.Actions} actions, so `{network.Name}` must return one value per action, Tensor[N, {env.Actions}]; it returns {(network.HasSingleOutput ? network.OutputShape.ToString() : "a record")}");
    }

    private static IEnumerable<Diagnostic> Gan(SourceText source, IReadOnlyList<ModelGraph> models, GanSpec gan)
    {
        var generator = models.FirstOrDefault(m => m.Name == gan.Generator);
        var discriminator = models.FirstOrDefault(m => m.Name == gan.Discriminator);
        if (generator is null || discriminator is null) yield break;
        if (!generator.HasSingleOutput || discriminator.Inputs.Count != 1 || generator.OutputShape != discriminator.Inputs[0].Shape)
            yield return DiagnosticCatalog.ShapeMismatch.At(source, gan.DiscriminatorSpan,
                $"`{generator.Name}` makes {(generator.HasSingleOutput ? generator.OutputShape.ToString() : "a record")}, but `{discriminator.Name}` takes {string.Join(", ", discriminator.Inputs.Select(i => i.Shape))}",
                "the discriminator judges what the generator makes, so its input is the generator's result");
        else if (!discriminator.HasSingleOutput || !IsScore(discriminator.OutputShape))
            yield return DiagnosticCatalog.LossTargetMismatch.At(source, gan.DiscriminatorSpan,
                $"a discriminator returns one score per sample, Tensor[N, 1]; `{discriminator.Name}` returns {(discriminator.HasSingleOutput ? discriminator.OutputShape.ToString() : "a record")}");
    }

    private static bool IsScore(Shape s) => s.Rank == 1 || (s.Rank == 2 && s[1] == Dim.Of(1));

    private static Diagnostic? DeclaredLoss(Module root, ModelGraph model, TrainSpec spec)
    {
        var loss = root.Unit.Declarations.OfType<LossDecl>().First(l => l.Name.Name == spec.LossName);
        try
        {
            ModelElaboration.Elaborate(root, root.Unit.Declarations.OfType<ModelDecl>().First(m => m.Name.Name == model.Name), training: false, loss);
            return null;
        }
        catch (DiagnosticException ex)
        {
            return ex.Diagnostics[0];
        }
    }

    private static Diagnostic? DataFits(SourceText source, ModelGraph model, DataSpec data)
    {
        if (data.Kind == DataKind.None || model.Inputs.Count == 0) return null;
        if (data.IsSequencePairs) return PairsFit(source, model);
        if (model.Inputs.Count > 1)
            return DiagnosticCatalog.DataShapeMismatch.At(source, model.Span,
                $"`{model.Name}` takes {model.Inputs.Count} inputs ({string.Join(", ", model.Inputs.Select(i => $"`{i.Name}`"))}), but this data set gives one",
                "models of two inputs, a source and the decoder's input, train on pairs of sequences such as `dates`; give this one a single input");
        var input = model.Inputs[0];
        var text = data.Kind is DataKind.TextCorpus or DataKind.BrownCorpus or DataKind.WordLists;
        if (text && !input.IsIndex)
            return DiagnosticCatalog.DataShapeMismatch.At(source, data.Span,
                $"`{data.Kind switch { DataKind.BrownCorpus => "brownCorpus", DataKind.WordLists => "wordLists", _ => "textCorpus" }}` gives sequences of token indices, but `{model.Name}` takes {input.Shape} of numbers",
                $"declare the input as indices: `({input.Name}: Tensor[N, T] of int)`, then `|> embedding vocabulary dim`");
        if (!text && input.IsIndex)
            return DiagnosticCatalog.DataShapeMismatch.At(source, data.Span,
                $"this data set gives numbers, but `{model.Name}` takes integer indices {input.Shape}",
                "integer inputs come from `textCorpus`, `brownCorpus` or `wordLists`; for images, tables and series leave out `of int`");
        return SequenceDataFits(source, model, data);
    }

    /// <summary>
    /// `dates` gives two inputs, the source's characters [N, S] and the decoder's input [N, T] (both token indices), and
    /// scores the next target character at each decoder position, [N, T, V].
    /// </summary>
    private static Diagnostic? PairsFit(SourceText source, ModelGraph model)
    {
        const string declare = "declare `model M (source: Tensor[N, S] of int) (previous: Tensor[N, T] of int) : Tensor[N, T, V]`";
        if (model.Inputs.Count != 2)
            return DiagnosticCatalog.DataShapeMismatch.At(source, model.Span,
                $"`dates` gives two inputs, the source characters Tensor[N, {DatesSpec.SourceLength}] of int and the decoder's input Tensor[N, {DatesSpec.TargetLength}] of int, " +
                $"but `{model.Name}` takes {model.Inputs.Count} ({string.Join(", ", model.Inputs.Select(i => $"`{i.Name}`"))})", declare);
        (string What, int Length)[] given = [("the source characters", DatesSpec.SourceLength), ("the decoder's input", DatesSpec.TargetLength)];
        Dim? batch = model.Inputs[0].Shape.Rank > 0 ? model.Inputs[0].Shape[0] : null;
        for (var i = 0; i < 2; i++)
        {
            var input = model.Inputs[i];
            var shape = input.Shape;
            if (!input.IsIndex || shape.Rank != 2 || shape[0] != batch || (!shape[1].IsSymbolic && shape[1].Size != given[i].Length))
                return DiagnosticCatalog.DataShapeMismatch.At(source, input.Span,
                    $"`dates` gives {given[i].What} as Tensor[{batch}, {given[i].Length}] of int, but `{input.Name}` is {shape}{(input.IsIndex ? "" : " of numbers")}", declare);
        }
        var (s, t) = (model.Inputs[0].Shape[1], model.Inputs[1].Shape[1]);
        if (s.IsSymbolic && s == t)
            return DiagnosticCatalog.DataShapeMismatch.At(source, model.Inputs[1].Span,
                $"`{model.Inputs[0].Name}` and `{model.Inputs[1].Name}` share the length `{s.Symbol}`, but `dates` gives {DatesSpec.SourceLength} source characters and {DatesSpec.TargetLength} decoder positions",
                "give each its own length: Tensor[N, S] and Tensor[N, T]");
        if (!model.HasSingleOutput || model.OutputShape.Rank != 3 || model.OutputShape[0] != batch || model.OutputShape[1] != t)
            return DiagnosticCatalog.LossTargetMismatch.At(source, model.Span,
                $"`dates` scores the next target character at each decoder position, Tensor[{batch}, {t}, V], but `{model.Name}` returns {(model.HasSingleOutput ? model.OutputShape.ToString() : "a record")}",
                "end the decoder with `dense V`, a score per character at each position");
        return null;
    }

    /// <summary>A word-list classifier scores each language; a forecaster returns the `horizon` values that follow a window.</summary>
    private static Diagnostic? SequenceDataFits(SourceText source, ModelGraph model, DataSpec data)
    {
        if (!model.HasSingleOutput) return null;
        var output = model.OutputShape;
        if (data.WordLists is { } words && (output.Rank != 2 || output[1] != Dim.Of(words.Languages.Count)))
            return DiagnosticCatalog.LossTargetMismatch.At(source, words.LanguagesSpan,
                $"`wordLists` labels each word with one of {words.Languages.Count} languages, but `{model.Name}` returns {output}",
                $"end the model with `dense {words.Languages.Count}`, one score per language, Tensor[N, {words.Languages.Count}]");
        if (data.Series is { } series && (output.Rank != 2 || output[1] != Dim.Of(series.Horizon)))
            return DiagnosticCatalog.LossTargetMismatch.At(source, data.Span,
                $"`timeSeries` with `horizon = {series.Horizon}` gives {series.Horizon} target value{(series.Horizon == 1 ? "" : "s")} per window, but `{model.Name}` returns {output}",
                $"end the model with `dense {series.Horizon}`, Tensor[N, {series.Horizon}]");
        return null;
    }

    /// <summary>
    /// A freeze pattern names parameters with `*` for any run of characters. Its first segment is the model's
    /// name, or the name of the model the `from` checkpoint was trained as, which this file may not know.
    /// </summary>
    private static bool Matches(string pattern, ModelGraph model)
    {
        var regex = new Regex("^" + string.Join(".*", pattern.Split('*').Select(Regex.Escape)) + "$", RegexOptions.CultureInvariant);
        var dot = pattern.IndexOf('.', StringComparison.Ordinal);
        var rest = dot >= 0 ? new Regex("^" + string.Join(".*", pattern[(dot + 1)..].Split('*').Select(Regex.Escape)) + "$", RegexOptions.CultureInvariant) : null;
        return model.Graph.Parameters.Any(p => regex.IsMatch(p.Name)
            || (rest is not null && rest.IsMatch(p.Name[(model.Name.Length + 1)..])));
    }
}
