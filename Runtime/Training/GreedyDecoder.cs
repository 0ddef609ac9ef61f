using Dlc.Backend;
using Dlc.Backend.Plans;
using Dlc.Compiler.Elaboration;
using Dlc.Runtime.Data;

namespace Dlc.Runtime.Training;

/// <summary>
/// Decodes with a model of two inputs (a source and the decoder's input), one token at a time and without teacher
/// forcing: the decoder's input starts as the begin token followed by padding, the plan runs, the token scored best
/// at the next position is written into the decoder's input after the ones before it, and so on until every row
/// has written the end token or the decoder's positions are used up. The decoder's self-attention is causal, so a
/// position's scores do not depend on the padding after it: each step re-runs the whole plan on the growing prefix
/// (encoder included; there is no key/value cache), T runs for T positions at most.
/// </summary>
public static class GreedyDecoder
{
    /// <summary>
    /// Decodes the sources already in the plan's first input, <paramref name="rows"/> of them (the plan's batch), into
    /// <paramref name="decoded"/> [rows, T]: each row's tokens up to and with the end token, then 0. With a
    /// <paramref name="temperature"/> above 0 each token is drawn from softmax(scores / temperature) by
    /// <paramref name="rng"/> rather than taken greedily.
    /// </summary>
    public static void Decode(ModelRuntime model, ExecutionPlan plan, SequencePairs pairs, int rows, Span<int> decoded,
        double temperature = 0, Rng? rng = null)
    {
        var t = pairs.TargetLength;
        var input = plan.Input(model.Inputs[1].Name);
        var classes = plan.OutputShape(ModelGraph.OutputName)[^1];
        input.Clear();
        decoded[..(rows * t)].Clear();
        for (var r = 0; r < rows; r++) input[r * t] = pairs.Begin;
        var done = new bool[rows];
        var probabilities = temperature > 0 ? new double[classes] : null;
        var options = new SampleOptions("", 0, temperature, null, 0);
        var left = rows;
        for (var position = 0; position < t && left > 0; position++)
        {
            plan.Run();
            var scores = plan.Output(ModelGraph.OutputName);
            for (var r = 0; r < rows; r++)
            {
                if (done[r]) continue;
                var row = scores.Slice((r * t + position) * classes, classes);
                var token = probabilities is null ? ArgMax(row) : Sampler.Draw(row, probabilities, options, rng ?? throw new ArgumentNullException(nameof(rng)));
                decoded[r * t + position] = token;
                if (token == pairs.End)
                {
                    done[r] = true;
                    left--;
                }
                else if (position + 1 < t)
                {
                    input[r * t + position + 1] = token;
                }
            }
        }
    }

    /// <summary>
    /// The samples of <paramref name="data"/> whose greedily decoded target equals theirs exactly, up to and with the
    /// end token (all T positions for a target without one).
    /// </summary>
    public static int CountExactMatches(ModelRuntime model, Dataset data, int batch = Evaluator.DefaultBatch)
    {
        var pairs = data.Pairs ?? throw new InvalidOperationException($"{data.Name} holds samples of one input, not pairs of sequences");
        var t = pairs.TargetLength;
        var rows = Math.Min(batch, data.Count);
        var decoded = new int[rows * t];
        var order = Enumerable.Range(0, data.Count).ToArray();
        var matches = 0;
        for (var start = 0; start < order.Length; start += rows)
        {
            var indices = order.AsSpan(start, Math.Min(rows, order.Length - start));
            var plan = model.InferencePlan(indices.Length);
            data.GatherPair(indices, 0, plan.Input(model.Inputs[0].Name), default);
            Decode(model, plan, pairs, indices.Length, decoded);
            for (var i = 0; i < indices.Length; i++)
            {
                var labels = data.Labels.AsSpan(indices[i] * t, t);
                var same = true;
                for (var p = 0; p < t && same; p++)
                {
                    same = decoded[i * t + p] == (int)labels[p];
                    if (labels[p] == pairs.End) break;
                }
                if (same) matches++;
            }
        }
        return matches;
    }

    /// <summary>
    /// The translation of <paramref name="text"/>: its characters as the source of one sample, decoded greedily (or
    /// drawn at <paramref name="temperature"/> by <paramref name="seed"/>) up to the end token.
    /// </summary>
    /// <exception cref="ArgumentException">The text is longer than the source, or has a character outside the vocabulary.</exception>
    public static string Translate(ModelRuntime model, CharVocabulary vocabulary, SequencePairs pairs, string text, double temperature = 0, ulong seed = 0)
    {
        if (text.Length > pairs.SourceLength)
            throw new ArgumentException($"\"{text}\" has {text.Length} characters; the model reads at most {pairs.SourceLength}");
        var plan = model.InferencePlan(1);
        var source = plan.Input(model.Inputs[0].Name);
        source.Clear();
        for (var i = 0; i < text.Length; i++)
        {
            var index = vocabulary.Encode(text[i]);
            if (index == 0 || index == pairs.Begin || index == pairs.End)
                throw new ArgumentException($"`{text[i]}` (at {i + 1}) is not a character the model was trained on");
            source[i] = index;
        }
        var decoded = new int[pairs.TargetLength];
        Decode(model, plan, pairs, 1, decoded, temperature, temperature > 0 ? new Rng(seed) : null);
        return string.Concat(decoded.TakeWhile(t => t != pairs.End && t != 0).Select(t => vocabulary.Decode(t)));
    }

    private static int ArgMax(ReadOnlySpan<float> scores)
    {
        var best = 0;
        for (var i = 1; i < scores.Length; i++)
        {
            if (scores[i] > scores[best]) best = i;
        }
        return best;
    }
}
