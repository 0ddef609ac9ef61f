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
/// A model of windows of one length T (a language model, words of characters padded in front) runs every sequence at
/// that length. A model whose tokens are padded at the end (`maskZero`, sentences of their own lengths) runs each
/// sequence at its own length: sequences are grouped by length (<see cref="Groups"/>) and each group runs a model with
/// T set to it (<see cref="At"/>), so no padding is part of what is explained.
/// </summary>
public sealed class TokenModel : IDisposable
{
    private readonly ModelRuntime _runtime;
    private readonly string _table;
    private readonly ModelGraph _view;
    private readonly Dictionary<int, AttributionModel> _models = [];

    public TokenModel(ModelRuntime runtime)
    {
        _runtime = runtime;
        _view = AttributionGraph.FromEmbedding(runtime.Eval, out _table);
        var input = _view.Inputs[0].Shape;
        var output = _view.HasSingleOutput ? _view.OutputShape : null;
        PerPosition = output is { Rank: 3 } && output[1] == input[1];
        if (output is null || (output.Rank != 2 && !PerPosition))
            throw new DiagnosticException(DiagnosticCatalog.MethodDoesNotFit.At(runtime.Eval.Source, runtime.Eval.Span,
                $"token attributions explain an output Tensor[N, outputs] or Tensor[N, {input[1]}, classes] (a score per position), but `{_view.Name}` returns {(output?.ToString() ?? "a record")}"));
        Packed = AttributionGraph.TakesLengths(_view);
        ReadsAhead = PerPosition && AttributionGraph.ReadsAhead(_view);
        Dim = input.Last.Size;
        Classes = output.Last.Size;
        if (!Packed)
        {
            var model = new AttributionModel(runtime, _view);
            Length = model.SampleShape[0];
            _models[Length] = model;
        }
    }

    public ModelRuntime Runtime => _runtime;

    /// <summary>
    /// The model from the embedding output on, its input [N, T, D], for a model of windows of one length
    /// (<see cref="Length"/>); sequences of their own lengths run <see cref="At"/> theirs.
    /// </summary>
    public AttributionModel Model => Packed
        ? throw new InvalidOperationException("sequences of their own lengths run the model at each length: use At(length)")
        : At(Length);

    /// <summary>Whether the output scores every position (Tensor[N, T, classes]) rather than the sequence.</summary>
    public bool PerPosition { get; }

    /// <summary>Whether each sequence has a length of its own: tokens padded at the end with index 0 (`maskZero`).</summary>
    public bool Packed { get; }

    /// <summary>
    /// Whether the score at a position depends on the tokens after it (a bidirectional tagger): then the whole sequence
    /// is its context, else (a language model) the tokens up to it.
    /// </summary>
    public bool ReadsAhead { get; }

    /// <summary>T, the tokens per sequence of a model of windows of one length; 0 when each sequence has its own.</summary>
    public int Length { get; }

    /// <summary>D, the embedding's width.</summary>
    public int Dim { get; }

    /// <summary>The classes of a position (or the outputs of a sequence): the output's last axis.</summary>
    public int Classes { get; }

    public bool IsClassifier => _runtime.Loss == LossKind.CrossEntropy;

    /// <summary>The plans compiled so far: per length, one per kind and batch (<see cref="AttributionModel.PlansCompiled"/>), each compiled once and reused.</summary>
    public int PlansCompiled => _models.Values.Sum(m => m.PlansCompiled);

    /// <summary>The model from the embedding output on for sequences of <paramref name="length"/> tokens (ignored for windows of one length).</summary>
    public AttributionModel At(int length)
    {
        if (!Packed) length = Length;
        if (_models.TryGetValue(length, out var model)) return model;
        var lengths = new Dictionary<string, int>(_runtime.Lengths, StringComparer.Ordinal);
        if (Packed && _view.Inputs[0].Shape[1].Symbol is { } symbol) lengths[symbol] = length;
        model = new AttributionModel(_runtime, _view, lengths: lengths);
        _models[length] = model;
        return model;
    }

    /// <summary>
    /// The length of each of <paramref name="count"/> sequences of <paramref name="tokens"/> [count, width]: 1 + its last
    /// token that is not padding, as `maskZero` reads it; the whole width for windows of one length.
    /// </summary>
    public int[] Lengths(float[] tokens, int count)
    {
        var width = tokens.Length / Math.Max(1, count);
        if (!Packed)
        {
            if (width != Length) throw new ArgumentException($"sequences of {Length} tokens expected, got {width}", nameof(tokens));
            return Enumerable.Repeat(Length, count).ToArray();
        }
        var lengths = new int[count];
        for (var i = 0; i < count; i++)
        {
            for (var p = width - 1; p >= 0; p--)
            {
                if (tokens[i * width + p] == 0) continue;
                lengths[i] = p + 1;
                break;
            }
        }
        return lengths;
    }

    /// <summary>The sequences of each length, in the order of their first appearance: one group for windows of one length.</summary>
    public static IReadOnlyList<(int Length, int[] Inputs)> Groups(int[] lengths) =>
        lengths.Select((length, i) => (length, i)).GroupBy(x => x.length).Select(g => (g.Key, g.Select(x => x.i).ToArray())).ToList();

    /// <summary>
    /// The position explained of each sequence: <paramref name="requested"/> (`--position`), else the last one of a model
    /// that scores every position (each sequence's own last token when they have their own lengths), else none (-1). A
    /// position the model does not have, or past a sequence's end, is DL0407, and one asked of a model with one
    /// prediction per sequence DL0409, both at the model's declaration. <paramref name="describe"/> names sequence i,
    /// and <paramref name="unit"/> its tokens (`words`).
    /// </summary>
    public int[] Positions(int? requested, int[] lengths, Func<int, string>? describe = null, string unit = "tokens")
    {
        var model = _runtime.Eval;
        if (!PerPosition)
        {
            if (requested is { } p)
                throw new DiagnosticException(DiagnosticCatalog.MethodDoesNotFit.At(model.Source, model.Span,
                    $"--position {p}: `{model.Name}` returns {model.OutputShape}, one prediction per sequence, not one per position",
                    "leave out --position"));
            return Enumerable.Repeat(-1, lengths.Length).ToArray();
        }
        if (!Packed)
        {
            var position = requested ?? Length - 1;
            if (position < 0 || position >= Length)
                throw new DiagnosticException(DiagnosticCatalog.InvalidOption.At(model.Source, model.Span,
                    $"--position {position}: `{model.Name}` scores {Length} positions of each sequence (0 to {Length - 1})",
                    $"choose a position from 0 to {Length - 1}; the last, {Length - 1}, is the default"));
            return Enumerable.Repeat(position, lengths.Length).ToArray();
        }
        var positions = new int[lengths.Length];
        for (var i = 0; i < lengths.Length; i++)
        {
            var name = describe?.Invoke(i) ?? $"sequence {i}";
            if (lengths[i] == 0)
                throw new DiagnosticException(DiagnosticCatalog.InvalidOption.At(model.Source, model.Span,
                    $"{name} has no {unit}: there is nothing for `{model.Name}` to score", $"choose sequences with {unit}"));
            positions[i] = requested ?? lengths[i] - 1;
            if (positions[i] < 0 || positions[i] >= lengths[i])
            {
                var shortest = lengths.Min();
                throw new DiagnosticException(DiagnosticCatalog.InvalidOption.At(model.Source, model.Span,
                    $"--position {positions[i]}: {name} has {lengths[i]} {(lengths[i] == 1 ? unit.TrimEnd('s') : unit)} (positions 0 to {lengths[i] - 1}), and `{model.Name}` scores only those",
                    $"choose a position from 0 to {shortest - 1} (the shortest sequence chosen has {shortest}), or leave out --position for each one's last"));
            }
        }
        return positions;
    }

    /// <summary>The output index of class <paramref name="target"/> at <paramref name="position"/> (-1: the sequence's own output).</summary>
    public int Output(int target, int position) => Math.Max(position, 0) * Classes + target;

    /// <summary>
    /// The class each sequence's output is explained for: <paramref name="requested"/> (`--target`, DL0407 outside the
    /// classes), else the one the model scores highest at its position; as classes, not output indices.
    /// </summary>
    public int[] Targets(float[] tokens, int count, int? requested, int[] positions)
    {
        if (requested is { } t)
        {
            if (t < 0 || t >= Classes)
                throw new DiagnosticException(DiagnosticCatalog.InvalidOption.At(null, default,
                    $"--target {t}: `{_runtime.Eval.Name}` has {Classes} {(PerPosition ? "classes at each position" : "outputs")} (0 to {Classes - 1})"));
            return Enumerable.Repeat(t, count).ToArray();
        }
        var targets = new int[count];
        if (!IsClassifier) return targets;
        var width = tokens.Length / Math.Max(1, count);
        foreach (var (length, inputs) in Groups(Lengths(tokens, count)))
        {
            var model = At(length);
            var outputs = model.Predict(Embed(Slice(tokens, width, inputs, length)), inputs.Length);
            for (var k = 0; k < inputs.Length; k++)
            {
                var row = outputs.AsSpan(k * model.Outputs + Math.Max(positions[inputs[k]], 0) * Classes, Classes);
                var best = 0;
                for (var c = 1; c < row.Length; c++)
                {
                    if (row[c] > row[best]) best = c;
                }
                targets[inputs[k]] = best;
            }
        }
        return targets;
    }

    /// <summary>The first <paramref name="length"/> tokens of the rows <paramref name="inputs"/> of [count, width] values, [inputs, length].</summary>
    public static float[] Slice(float[] values, int width, int[] inputs, int length)
    {
        var slice = new float[inputs.Length * length];
        for (var k = 0; k < inputs.Length; k++) values.AsSpan(inputs[k] * width, length).CopyTo(slice.AsSpan(k * length, length));
        return slice;
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
    /// The last position of a sequence's context for its position <paramref name="position"/>: all of the sequence when
    /// the score is the sequence's or the model reads ahead, else the position (later tokens cannot change the score).
    /// </summary>
    public int LastOfContext(int position, int length) => position < 0 || ReadsAhead ? length - 1 : position;

    /// <summary>
    /// Where the integrated-gradients path starts, and what deletion puts in a token's place, for sequences of
    /// <paramref name="length"/> tokens: the padding's embedding or zeros at every position of each one's context
    /// (<see cref="LastOfContext"/>). Later positions keep their tokens, so that they have no attribution.
    /// </summary>
    public float[] Baseline(float[] embedded, TokenBaseline baseline, int[] positions, int length)
    {
        var start = new float[embedded.Length];
        var padding = _runtime.Parameters.Value(_table)[..Dim];
        for (var p = 0; p < embedded.Length / Dim; p++)
        {
            var target = start.AsSpan(p * Dim, Dim);
            if (p % length > LastOfContext(positions[p / length], length)) embedded.AsSpan(p * Dim, Dim).CopyTo(target);
            else if (baseline == TokenBaseline.Padding) padding.CopyTo(target);
        }
        return start;
    }

    /// <summary>The tokens an explanation is about, [count, length]: not padding (index 0), and in each one's context.</summary>
    public bool[] Counted(float[] tokens, int[] positions, int length) =>
        tokens.Select((t, p) => t != 0 && p % length <= LastOfContext(positions[p / length], length)).ToArray();

    public void Dispose()
    {
        foreach (var model in _models.Values) model.Dispose();
        _models.Clear();
    }
}
