using System.Text;
using Dlc.Backend;
using Dlc.Backend.Plans;
using Dlc.Compiler.Elaboration;
using Dlc.Runtime.Data;

namespace Dlc.Runtime.Training;

/// <summary>How to draw each next character: softmax(scores / temperature), over the k best when <see cref="TopK"/> is set.</summary>
public sealed record SampleOptions(string Prompt, int Length, double Temperature, int? TopK, ulong Seed);

/// <summary>
/// Generates text with a character-level language model, one character per run of a plan compiled for one sample
/// and one step: the recurrent layers carry their state from run to run, so each new character costs one step,
/// however long the text already is. The prompt is read first, one character at a time, the same way.
/// </summary>
public static class Sampler
{
    public static string Generate(ModelRuntime model, CharVocabulary vocabulary, SampleOptions options)
    {
        var plan = model.InferencePlan(1);
        plan.StartSequence(int.MaxValue);
        var rng = new Rng(options.Seed);
        var input = plan.Input(model.Input.Name);
        // A prompt of nothing starts as a new line would.
        var prompt = options.Prompt.Length > 0 ? options.Prompt : "\n";
        var text = new StringBuilder(options.Prompt);
        var classes = plan.OutputShape(ModelGraph.OutputName)[^1];
        var probabilities = new double[classes];
        foreach (var c in prompt) Step(plan, input, vocabulary.Encode(c));
        for (var i = 0; i < options.Length; i++)
        {
            var next = Draw(plan.Output(ModelGraph.OutputName), probabilities, options, rng);
            text.Append(vocabulary.Decode(next));
            Step(plan, input, next);
        }
        plan.EndSequence();
        return text.ToString();
    }

    private static void Step(ExecutionPlan plan, Span<float> input, int token)
    {
        input[0] = token;
        plan.Run();
    }

    /// <summary>A class drawn from softmax(scores / temperature), restricted to the k highest scores when asked.</summary>
    internal static int Draw(ReadOnlySpan<float> scores, double[] probabilities, SampleOptions options, Rng rng)
    {
        var threshold = double.NegativeInfinity;
        if (options.TopK is { } k && k < scores.Length)
        {
            var sorted = scores.ToArray();
            Array.Sort(sorted, (a, b) => b.CompareTo(a));
            threshold = sorted[k - 1];
        }
        var max = double.NegativeInfinity;
        foreach (var s in scores) max = Math.Max(max, s);
        double total = 0;
        for (var i = 0; i < scores.Length; i++)
        {
            probabilities[i] = scores[i] >= threshold ? Math.Exp((scores[i] - max) / options.Temperature) : 0;
            total += probabilities[i];
        }
        var u = rng.NextDouble() * total;
        for (var i = 0; i < scores.Length; i++)
        {
            u -= probabilities[i];
            if (u < 0) return i;
        }
        return Array.FindLastIndex(probabilities, p => p > 0);
    }
}
