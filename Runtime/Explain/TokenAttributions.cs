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
/// exactly 0. A model that scores every position is explained at one: f is the score of the target class there, and
/// the tokens after it keep their embeddings along the path, so only the context up to it is attributed.
/// </summary>
public static class TokenAttributions
{
    /// <param name="tokens">[count, T] token indices (as floats, the way data sets hold them).</param>
    /// <param name="position">The position explained of a model that scores every position (default the last).</param>
    /// <returns>The attributions per token, [count, T], with the per-input checks of integrated gradients.</returns>
    public static TokenAttribution Compute(ModelRuntime runtime, float[] tokens, int count, ExplainSettings settings, TokenBaseline baseline,
        int? position = null)
    {
        using var model = new TokenModel(runtime);
        var at = model.Position(position);
        return Attribute(model, tokens, count, model.Targets(model.Embed(tokens), count, settings.Target, at), settings, baseline, at);
    }

    /// <summary>The attributions of each sequence for its class <paramref name="targets"/>[i] at <paramref name="position"/> (-1: the sequence's output).</summary>
    public static TokenAttribution Attribute(TokenModel model, float[] tokens, int count, int[] targets, ExplainSettings settings, TokenBaseline baseline,
        int position)
    {
        var embedded = model.Embed(tokens);
        var start = model.Baseline(embedded, baseline, position);
        var outputs = targets.Select(t => model.Output(t, position)).ToArray();
        var ig = IntegratedGradients.Compute(model.Model, embedded, start, outputs, settings);
        var (length, dim) = (model.Length, model.Dim);
        var perToken = new double[count * length];
        for (var p = 0; p < perToken.Length; p++)
        {
            double sum = 0;
            for (var d = 0; d < dim; d++) sum += ig.Values[p * dim + d];
            perToken[p] = sum;
        }
        var predictions = model.Model.Predict(embedded, count);
        return new TokenAttribution(targets, ig.Scores, ig.BaselineScores!, ig.Deltas!, ig.Steps!, tokens, perToken, length, baseline)
        {
            Position = position,
            Probabilities = model.Model.IsClassifier
                ? Enumerable.Range(0, count).Select(i => model.Model.Probability(predictions.AsSpan(i * model.Model.Outputs, model.Model.Outputs), outputs[i])).ToArray()
                : null,
        };
    }

    /// <summary>The attributions as <see cref="Faithfulness"/> and <see cref="SanityCheck"/> take them: per token, for output indices.</summary>
    public static InputAttribution AsInput(TokenModel model, TokenAttribution a) =>
        new(MethodKind.IntegratedGradients, [a.Length], a.Targets.Select(t => model.Output(t, a.Position)).ToArray(), a.Scores,
            a.Values.Select(v => (float)v).ToArray());

    /// <summary>
    /// Deletion and insertion of whole tokens (each replaced by the baseline's embedding, or put into it) in the order of
    /// their attributions, and the same in random orders for reference; padding and tokens after the position take no part.
    /// </summary>
    public static (FaithfulnessScore Attributed, FaithfulnessScore Random) Faithfulness(TokenModel model, TokenAttribution a, ExplainSettings settings)
    {
        var embedded = model.Embed(a.Tokens);
        var start = model.Baseline(embedded, a.Baseline, a.Position);
        var input = AsInput(model, a);
        var counted = model.Counted(a.Tokens, a.Position);
        return (Explain.Faithfulness.Measure(model.Model, input, embedded, start, settings.CurveSteps, counted),
            Explain.Faithfulness.RandomOrder(model.Model, input, embedded, start, settings.CurveSteps, settings.Seed, counted));
    }

    /// <summary>
    /// The cascading randomisation test of token attributions: the layers (the embedding last) redrawn from the output
    /// down, the attributions of the same sequences for the same targets computed again after each, and their rank
    /// correlation with the trained model's over the counted tokens (<see cref="SanityCheck"/>).
    /// </summary>
    public static SanityResult Sanity(TokenModel model, TokenAttribution a, ExplainSettings settings)
    {
        var counted = model.Counted(a.Tokens, a.Position);
        return SanityCheck.Cascading(model.Model, AsInput(model, a),
            () => AsInput(model, Attribute(model, a.Tokens, a.Count, a.Targets, settings, a.Baseline, a.Position)), settings.Seed, counted);
    }
}

/// <summary>
/// Integrated-gradients attributions of token sequences: <see cref="Values"/> [count, Length], one per position, for
/// class <see cref="Targets"/>[i] (at <see cref="Position"/> of a model that scores every position);
/// the scores f(E) and f(E′), the completeness delta |Σ attributions − (f(E) − f(E′))| and the gradients taken, per input.
/// </summary>
public sealed record TokenAttribution(
    int[] Targets, float[] Scores, float[] BaselineScores, double[] Deltas, int[] Steps, float[] Tokens, double[] Values, int Length, TokenBaseline Baseline)
{
    public int Count => Targets.Length;

    /// <summary>The softmax probability of the target, for a classifier.</summary>
    public double[]? Probabilities { get; init; }

    /// <summary>The position explained of a model that scores every position; -1 for one prediction per sequence.</summary>
    public int Position { get; init; } = -1;

    public ReadOnlySpan<double> Of(int input) => Values.AsSpan(input * Length, Length);
}
