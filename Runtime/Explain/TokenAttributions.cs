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
/// (<see cref="AttributionGraph.FromEmbedding"/>), with the adaptive rule of <see cref="IntegratedGradients"/>.
/// A token's attribution is the sum of its D embedding values' attributions, so the tokens' attributions add up to
/// f(E) − f(E′) within the reported delta. With the padding baseline a position that is padding in the input has
/// E = E′ there, and so exactly 0.
/// </summary>
public static class TokenAttributions
{
    /// <param name="tokens">[count, T] token indices (as floats, the way data sets hold them).</param>
    /// <returns>The attributions per token, [count, T], with the per-input checks of integrated gradients.</returns>
    public static TokenAttribution Compute(ModelRuntime runtime, float[] tokens, int count, ExplainSettings settings, TokenBaseline baseline)
    {
        var view = AttributionGraph.FromEmbedding(runtime.Eval, out var table);
        if (!view.HasSingleOutput || view.OutputShape.Rank != 2)
            throw new DiagnosticException(DiagnosticCatalog.MethodDoesNotFit.At(view.Source, view.Span,
                $"token attributions explain an output Tensor[N, outputs], but `{view.Name}` returns {(view.HasSingleOutput ? view.OutputShape.ToString() : "a record")}",
                "a language model's scores per position are not explained yet"));
        using var model = new AttributionModel(runtime, view);
        var length = tokens.Length / count;
        var dim = model.SampleSize / length;
        var weights = runtime.Parameters.Value(table);
        var vocabulary = weights.Length / dim;
        var embedded = new float[count * length * dim];
        var start = new float[embedded.Length];
        for (var p = 0; p < count * length; p++)
        {
            var index = (int)tokens[p];
            if (index < 0 || index >= vocabulary)
                throw new ArgumentOutOfRangeException(nameof(tokens), $"token {index} is outside the embedding's {vocabulary} rows");
            weights.Slice(index * dim, dim).CopyTo(embedded.AsSpan(p * dim, dim));
            if (baseline == TokenBaseline.Padding) weights[..dim].CopyTo(start.AsSpan(p * dim, dim));
        }
        var targets = settings.Target is { } t ? Enumerable.Repeat(t, count).ToArray() : model.PredictedClasses(embedded, count);
        if (targets.Any(x => x < 0 || x >= model.Outputs))
            throw new DiagnosticException(DiagnosticCatalog.InvalidOption.At(null, default,
                $"--target {targets.First(x => x < 0 || x >= model.Outputs)}: `{runtime.Eval.Name}` has {model.Outputs} outputs (0 to {model.Outputs - 1})"));
        var ig = IntegratedGradients.Compute(model, embedded, start, targets, settings);
        var perToken = new double[count * length];
        for (var p = 0; p < perToken.Length; p++)
        {
            double sum = 0;
            for (var d = 0; d < dim; d++) sum += ig.Values[p * dim + d];
            perToken[p] = sum;
        }
        return new TokenAttribution(targets, ig.Scores, ig.BaselineScores!, ig.Deltas!, ig.Steps!, tokens, perToken, length, baseline)
        {
            Probabilities = Softmax(model.Predict(embedded, count), count, model.Outputs, targets, runtime.Loss == LossKind.CrossEntropy),
        };
    }

    /// <summary>The softmax probability of each input's target, for a classifier; null otherwise.</summary>
    private static double[]? Softmax(float[] outputs, int count, int classes, int[] targets, bool classifier)
    {
        if (!classifier) return null;
        return Enumerable.Range(0, count).Select(i =>
        {
            var row = outputs.AsSpan(i * classes, classes);
            var max = double.NegativeInfinity;
            foreach (var v in row) max = Math.Max(max, v);
            double sum = 0;
            foreach (var v in row) sum += Math.Exp(v - max);
            return Math.Exp(row[targets[i]] - max) / sum;
        }).ToArray();
    }
}

/// <summary>
/// Integrated-gradients attributions of token sequences: <see cref="Values"/> [count, Length], one per position;
/// the scores f(E) and f(E′), the completeness delta |Σ attributions − (f(E) − f(E′))| and the gradients taken, per input.
/// </summary>
public sealed record TokenAttribution(
    int[] Targets, float[] Scores, float[] BaselineScores, double[] Deltas, int[] Steps, float[] Tokens, double[] Values, int Length, TokenBaseline Baseline)
{
    public int Count => Targets.Length;

    /// <summary>The softmax probability of the target, for a classifier.</summary>
    public double[]? Probabilities { get; init; }

    public ReadOnlySpan<double> Of(int input) => Values.AsSpan(input * Length, Length);
}
