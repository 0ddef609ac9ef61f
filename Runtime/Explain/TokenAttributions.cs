using Dlc.Compiler.Jobs;
using Dlc.Diagnostics;
using Dlc.Runtime.Training;

namespace Dlc.Runtime.Explain;

/// <summary>What the integrated-gradients path of a token sequence starts from.</summary>
public enum TokenBaseline
{
    /// <summary>Every position holds the embedding of index 0, the padding: the sequence with no tokens in it.</summary>
    Padding,

    /// <summary>Every position holds the zero vector.</summary>
    Zeros,
}

/// <summary>
/// Integrated gradients of token sequences, per token. Indices have no gradient, so the path runs through the
/// embedding's output: from the baseline's embeddings E′ to the sequence's E, over the model from its embedding on
/// (<see cref="TokenModel"/>), with the adaptive rule of <see cref="IntegratedGradients"/>. A token's attribution is
/// the sum of its D embedding values' attributions, so the tokens' attributions add up to f(E) − f(E′) within the
/// reported delta. With the padding baseline a position that is padding in the input has E = E′ there, and so
/// exactly 0. A model that scores every position is explained at one: f is the score of the target class there; a
/// model that reads only what came before (a language model) keeps the tokens after it along the path, so only the
/// context up to it is attributed, and one that reads ahead (a bidirectional tagger) is explained by the whole
/// sequence. Sequences of their own lengths (`maskZero`) run in groups of one length, without padding.
/// </summary>
public static class TokenAttributions
{
    /// <param name="tokens">[count, T] token indices (as floats, the way data sets hold them).</param>
    /// <param name="position">The position explained of a model that scores every position (default each sequence's last).</param>
    /// <returns>The attributions per token, [count, T], with the per-input checks of integrated gradients.</returns>
    public static TokenAttribution Compute(ModelRuntime runtime, float[] tokens, int count, ExplainSettings settings, TokenBaseline baseline,
        int? position = null)
    {
        using var model = new TokenModel(runtime);
        var positions = model.Positions(position, model.Lengths(tokens, count));
        return Attribute(model, tokens, count, model.Targets(tokens, count, settings.Target, positions), settings, baseline, positions);
    }

    /// <summary>The attributions of each sequence for its class <paramref name="targets"/>[i] at <paramref name="positions"/>[i] (-1: the sequence's output).</summary>
    public static TokenAttribution Attribute(TokenModel model, float[] tokens, int count, int[] targets, ExplainSettings settings, TokenBaseline baseline,
        int[] positions)
    {
        var width = tokens.Length / count;
        var lengths = model.Lengths(tokens, count);
        var (scores, baselineScores, deltas, steps) = (new float[count], new float[count], new double[count], new int[count]);
        var probabilities = model.IsClassifier ? new double[count] : null;
        var perToken = new double[count * width];
        foreach (var (length, inputs) in TokenModel.Groups(lengths))
        {
            var at = model.At(length);
            var embedded = model.Embed(TokenModel.Slice(tokens, width, inputs, length));
            var groupPositions = inputs.Select(i => positions[i]).ToArray();
            var start = model.Baseline(embedded, baseline, groupPositions, length);
            var outputs = inputs.Select(i => model.Output(targets[i], positions[i])).ToArray();
            var ig = IntegratedGradients.Compute(at, embedded, start, outputs, settings);
            var predictions = at.Predict(embedded, inputs.Length);
            for (var k = 0; k < inputs.Length; k++)
            {
                var i = inputs[k];
                for (var p = 0; p < length; p++)
                {
                    double sum = 0;
                    for (var d = 0; d < model.Dim; d++) sum += ig.Values[(k * length + p) * model.Dim + d];
                    perToken[i * width + p] = sum;
                }
                (scores[i], baselineScores[i], deltas[i], steps[i]) = (ig.Scores[k], ig.BaselineScores![k], ig.Deltas![k], ig.Steps![k]);
                if (probabilities is not null) probabilities[i] = at.Probability(predictions.AsSpan(k * at.Outputs, at.Outputs), outputs[k]);
            }
        }
        return new TokenAttribution(targets, scores, baselineScores, deltas, steps, tokens, perToken, width, baseline)
        {
            Positions = positions,
            Lengths = lengths,
            Probabilities = probabilities,
            Contexts = Enumerable.Range(0, count).Select(i => model.LastOfContext(positions[i], lengths[i])).ToArray(),
            ReadsAhead = model.ReadsAhead,
        };
    }

    /// <summary>The attributions as <see cref="Faithfulness"/> and <see cref="SanityCheck"/> take them: per token, for output indices.</summary>
    public static InputAttribution AsInput(TokenModel model, TokenAttribution a) =>
        new(MethodKind.IntegratedGradients, [a.Length], a.Targets.Select((t, i) => model.Output(t, a.Positions[i])).ToArray(), a.Scores,
            a.Values.Select(v => (float)v).ToArray());

    /// <summary>
    /// Deletion and insertion of whole tokens (each replaced by the baseline's embedding, or put into it) in the order of
    /// their attributions, and the same in random orders for reference; padding and tokens outside the context take no
    /// part. Sequences of their own lengths are measured a length at a time, and the curves averaged over all inputs.
    /// </summary>
    public static (FaithfulnessScore Attributed, FaithfulnessScore Random) Faithfulness(TokenModel model, TokenAttribution a, ExplainSettings settings)
    {
        var input = AsInput(model, a);
        var parts = new List<(int Count, FaithfulnessScore Attributed, FaithfulnessScore Random)>();
        foreach (var (length, inputs) in TokenModel.Groups(a.Lengths))
        {
            var tokens = TokenModel.Slice(a.Tokens, a.Length, inputs, length);
            var positions = inputs.Select(i => a.Positions[i]).ToArray();
            var embedded = model.Embed(tokens);
            var start = model.Baseline(embedded, a.Baseline, positions, length);
            var counted = model.Counted(tokens, positions, length);
            var part = input with
            {
                SampleShape = [length],
                Targets = inputs.Select(i => input.Targets[i]).ToArray(),
                Scores = inputs.Select(i => input.Scores[i]).ToArray(),
                Values = TokenModel.Slice(input.Values, a.Length, inputs, length),
            };
            var at = model.At(length);
            parts.Add((inputs.Length, Explain.Faithfulness.Measure(at, part, embedded, start, settings.CurveSteps, counted),
                Explain.Faithfulness.RandomOrder(at, part, embedded, start, settings.CurveSteps, settings.Seed, counted)));
        }
        return (Mean(parts.Select(p => (p.Count, p.Attributed)).ToList()), Mean(parts.Select(p => (p.Count, p.Random)).ToList()));
    }

    /// <summary>The scores of groups of inputs as one over all of them: each group's areas and curves weighted by its inputs.</summary>
    private static FaithfulnessScore Mean(IReadOnlyList<(int Count, FaithfulnessScore Score)> parts)
    {
        if (parts.Count == 1) return parts[0].Score;
        double total = parts.Sum(p => p.Count);
        var steps = parts[0].Score.DeletionCurve.Length;
        double[] Curve(Func<FaithfulnessScore, double[]> of) =>
            Enumerable.Range(0, steps).Select(k => parts.Sum(p => p.Count / total * of(p.Score)[k])).ToArray();
        return new FaithfulnessScore(parts.Sum(p => p.Count / total * p.Score.Deletion), parts.Sum(p => p.Count / total * p.Score.Insertion),
            Curve(s => s.DeletionCurve), Curve(s => s.InsertionCurve));
    }

    /// <summary>
    /// The cascading randomisation test of token attributions: the layers (the embedding last) redrawn from the output
    /// down, the attributions of the same sequences for the same targets computed again after each, and their rank
    /// correlation with the trained model's over the counted tokens (<see cref="SanityCheck"/>).
    /// </summary>
    public static SanityResult Sanity(TokenModel model, TokenAttribution a, ExplainSettings settings)
    {
        var counted = a.Tokens.Select((t, p) => t != 0 && p % a.Length <= a.Contexts[p / a.Length]).ToArray();
        return SanityCheck.Cascading(model.At(a.Lengths[0]), AsInput(model, a),
            () => AsInput(model, Attribute(model, a.Tokens, a.Count, a.Targets, settings, a.Baseline, a.Positions)), settings.Seed, counted);
    }
}

/// <summary>
/// Integrated-gradients attributions of token sequences: <see cref="Values"/> [count, Length], one per position, for
/// class <see cref="Targets"/>[i] (at <see cref="Positions"/>[i] of a model that scores every position);
/// the scores f(E) and f(E′), the completeness delta |Σ attributions − (f(E) − f(E′))| and the gradients taken, per input.
/// </summary>
public sealed record TokenAttribution(
    int[] Targets, float[] Scores, float[] BaselineScores, double[] Deltas, int[] Steps, float[] Tokens, double[] Values, int Length, TokenBaseline Baseline)
{
    public int Count => Targets.Length;

    /// <summary>The softmax probability of the target, for a classifier.</summary>
    public double[]? Probabilities { get; init; }

    /// <summary>The position explained of each sequence, of a model that scores every position; -1 for one prediction per sequence.</summary>
    public int[] Positions { get; init; } = [];

    /// <summary>Each sequence's length: the width of the values for windows of one length, its own for sequences padded at the end.</summary>
    public int[] Lengths { get; init; } = [];

    /// <summary>The last position of each sequence's context: the tokens up to it were attributed.</summary>
    public int[] Contexts { get; init; } = [];

    /// <summary>Whether a position's context is the whole sequence (<see cref="TokenModel.ReadsAhead"/>).</summary>
    public bool ReadsAhead { get; init; }

    public ReadOnlySpan<double> Of(int input) => Values.AsSpan(input * Length, Length);
}
