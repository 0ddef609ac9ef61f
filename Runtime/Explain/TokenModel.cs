using Dlc.Compiler.Elaboration;
using Dlc.Compiler.Jobs;
using Dlc.Diagnostics;
using Dlc.Runtime.Training;

namespace Dlc.Runtime.Explain;

/// <summary>
/// A model of token sequences as token attributions see it: the model from its embedding on
/// (<see cref="AttributionGraph.FromEmbedding"/>) with the lookup done here, from the embedding table's current
/// values (the randomisation test redraws them). Its output is one prediction per sequence, Tensor[N, classes], or
/// one per position, Tensor[N, T, classes] (a language model, a tagger), explained at one position.
/// </summary>
public sealed class TokenModel : IDisposable
{
    private readonly ModelRuntime _runtime;
    private readonly string _table;

    public TokenModel(ModelRuntime runtime)
    {
        _runtime = runtime;
        var view = AttributionGraph.FromEmbedding(runtime.Eval, out _table);
        var input = view.Inputs[0].Shape;
        var output = view.HasSingleOutput ? view.OutputShape : null;
        PerPosition = output is { Rank: 3 } && output[1] == input[1];
        if (output is null || (output.Rank != 2 && !PerPosition))
            throw new DiagnosticException(DiagnosticCatalog.MethodDoesNotFit.At(runtime.Eval.Source, runtime.Eval.Span,
                $"token attributions explain an output Tensor[N, outputs] or Tensor[N, {input[1]}, classes] (a score per position), but `{view.Name}` returns {(output?.ToString() ?? "a record")}"));
        Model = new AttributionModel(runtime, view);
        Length = Model.SampleShape[0];
        Dim = Model.SampleSize / Length;
    }

    public ModelRuntime Runtime => _runtime;

    /// <summary>The model from the embedding output on; its input is [N, T, D].</summary>
    public AttributionModel Model { get; }

    /// <summary>Whether the output scores every position (Tensor[N, T, classes]) rather than the sequence.</summary>
    public bool PerPosition { get; }

    /// <summary>T, the tokens per sequence.</summary>
    public int Length { get; }

    /// <summary>D, the embedding's width.</summary>
    public int Dim { get; }

    public int Classes => Model.Classes;

    /// <summary>
    /// The position explained: <paramref name="requested"/> (`--position`), else the last one of a model that
    /// scores every position, else none (-1). A position the model does not have is DL0407, and one asked of a
    /// model with one prediction per sequence DL0409, both at the model's declaration.
    /// </summary>
    public int Position(int? requested)
    {
        var model = _runtime.Eval;
        if (!PerPosition)
        {
            if (requested is { } p)
                throw new DiagnosticException(DiagnosticCatalog.MethodDoesNotFit.At(model.Source, model.Span,
                    $"--position {p}: `{model.Name}` returns {model.OutputShape}, one prediction per sequence, not one per position",
                    "leave out --position"));
            return -1;
        }
        var position = requested ?? Length - 1;
        if (position < 0 || position >= Length)
            throw new DiagnosticException(DiagnosticCatalog.InvalidOption.At(model.Source, model.Span,
                $"--position {position}: `{model.Name}` scores {Length} positions of each sequence (0 to {Length - 1})",
                $"choose a position from 0 to {Length - 1}; the last, {Length - 1}, is the default"));
        return position;
    }

    /// <summary>The output index of class <paramref name="target"/> at <paramref name="position"/> (-1: the sequence's own output).</summary>
    public int Output(int target, int position) => Math.Max(position, 0) * Classes + target;

    /// <summary>
    /// The class each sequence's output is explained for: <paramref name="requested"/> (`--target`, DL0407 outside the
    /// classes), else the one the model scores highest at <paramref name="position"/>; as classes, not output indices.
    /// </summary>
    public int[] Targets(float[] embedded, int count, int? requested, int position)
    {
        if (requested is { } t)
        {
            if (t < 0 || t >= Classes)
                throw new DiagnosticException(DiagnosticCatalog.InvalidOption.At(null, default,
                    $"--target {t}: `{_runtime.Eval.Name}` has {Classes} {(PerPosition ? "classes at each position" : "outputs")} (0 to {Classes - 1})"));
            return Enumerable.Repeat(t, count).ToArray();
        }
        if (!Model.IsClassifier) return new int[count];
        return Model.PredictedClasses(embedded, count, Math.Max(position, 0)).Select(o => o % Classes).ToArray();
    }

    /// <summary>The embedding of each token, [count, T, D], from the table's current values.</summary>
    public float[] Embed(float[] tokens)
    {
        var weights = _runtime.Parameters.Value(_table);
        var vocabulary = weights.Length / Dim;
        var embedded = new float[tokens.Length * Dim];
        for (var p = 0; p < tokens.Length; p++)
        {
            var index = (int)tokens[p];
            if (index < 0 || index >= vocabulary)
                throw new ArgumentOutOfRangeException(nameof(tokens), $"token {index} is outside the embedding's {vocabulary} rows");
            weights.Slice(index * Dim, Dim).CopyTo(embedded.AsSpan(p * Dim, Dim));
        }
        return embedded;
    }

    /// <summary>
    /// Where the integrated-gradients path starts, and what deletion puts in a token's place: the padding's embedding
    /// or zeros at every position up to <paramref name="position"/> (all of them when -1). Later positions keep their
    /// tokens, so that they have no attribution: the explanation is of the context before the prediction.
    /// </summary>
    public float[] Baseline(float[] embedded, TokenBaseline baseline, int position)
    {
        var start = new float[embedded.Length];
        var padding = _runtime.Parameters.Value(_table)[..Dim];
        var last = position < 0 ? Length - 1 : position;
        for (var p = 0; p < embedded.Length / Dim; p++)
        {
            var target = start.AsSpan(p * Dim, Dim);
            if (p % Length > last) embedded.AsSpan(p * Dim, Dim).CopyTo(target);
            else if (baseline == TokenBaseline.Padding) padding.CopyTo(target);
        }
        return start;
    }

    /// <summary>The tokens an explanation is about, [count, T]: not padding (index 0), and not after <paramref name="position"/>.</summary>
    public bool[] Counted(float[] tokens, int position)
    {
        var last = position < 0 ? Length - 1 : position;
        return tokens.Select((t, p) => t != 0 && p % Length <= last).ToArray();
    }

    public void Dispose() => Model.Dispose();
}
