using System.Diagnostics;
using Dlc.Backend;
using Dlc.Backend.Plans;
using Dlc.Compiler.Elaboration;

namespace Dlc.Runtime.Training;

/// <summary>
/// How to draw each next character: softmax(scores / temperature), over the k best when <see cref="TopK"/> is set
/// and over the smallest set of the most likely whose probabilities add up to <see cref="TopP"/> when that is set.
/// <see cref="Context"/> is how many characters the model looks back (its training sequence length).
/// </summary>
public sealed record SampleOptions(string Prompt, int Length, double Temperature, int? TopK, ulong Seed)
{
    public double? TopP { get; init; }

    public int Context { get; init; } = 128;

    /// <summary>Each new character costs one step (recurrent state, attention's key/value cache); else the whole window runs again.</summary>
    public bool Cache { get; init; } = true;
}

/// <summary>The text and how fast it came: <see cref="Tokens"/> (characters, words) run in <see cref="Seconds"/> (prompt included).</summary>
public sealed record SampleResult(string Text, int Tokens, double Seconds)
{
    public double TokensPerSecond => Tokens / Seconds;
}

/// <summary>
/// Generates text with a character-level language model. With the cache (the default) the plan is compiled for one
/// sample and one step and continues one sequence from run to run: recurrent layers carry their state and attention
/// layers keep every earlier position's keys and values, so each new character costs one step however long the text
/// already is. A model with attention or positional encodings sees at most <see cref="SampleOptions.Context"/>
/// characters: when the cache is full, it starts again from the last half of them (read once, a step each). Without
/// the cache the plan is compiled for the whole context and each character runs the window of the latest characters
/// again, as a framework without a cache does. The prompt is read first, the same way.
/// </summary>
public static class Sampler
{
    public static SampleResult Generate(ModelRuntime model, ITokenCodec codec, SampleOptions options)
    {
        var plan = model.InferencePlan(1);
        var rng = new Rng(options.Seed);
        var inputName = model.Input.Name;
        var prompt = codec.Encode(options.Prompt);
        var generated = new List<int>(options.Length);
        var classes = plan.OutputShape(ModelGraph.OutputName)[^1];
        var steps = plan.OutputShape(ModelGraph.OutputName)[^2];
        if (!options.Cache && steps != options.Context)
            throw new InvalidOperationException($"without the cache the plan must be compiled for the whole context of {options.Context} positions, not {steps}");
        var probabilities = new double[classes];
        var history = new List<int>();
        var clock = Stopwatch.StartNew();
        if (!options.Cache) plan.Input(inputName).Clear();
        if (options.Cache) plan.StartSequence(options.Context);
        try
        {
            foreach (var token in prompt) Feed(token);
            for (var i = 0; i < options.Length; i++)
            {
                var scores = options.Cache
                    ? plan.Output(ModelGraph.OutputName)
                    : plan.Output(ModelGraph.OutputName).Slice((Math.Min(history.Count, options.Context) - 1) * classes, classes);
                var next = Draw(scores, probabilities, options, rng);
                generated.Add(next);
                Feed(next);
            }
        }
        finally
        {
            if (options.Cache) plan.EndSequence();
        }
        var text = options.Prompt + codec.Decode(options.Prompt, generated);
        return new SampleResult(text, prompt.Count + options.Length, clock.Elapsed.TotalSeconds);

        void Feed(int token)
        {
            history.Add(token);
            if (!options.Cache)
            {
                // The latest characters from position 0; the positions after them cannot change what a causal model
                // computes at the last one, so they are left as they are.
                var window = Math.Min(history.Count, options.Context);
                var input = plan.Input(inputName);
                for (var t = 0; t < window; t++) input[t] = history[history.Count - window + t];
                plan.Run();
                return;
            }
            if (plan.LimitsContext && plan.SequencePosition == options.Context)
            {
                plan.StartSequence(options.Context);
                foreach (var earlier in history.GetRange(history.Count - 1 - options.Context / 2, options.Context / 2)) Step(plan, inputName, earlier);
            }
            Step(plan, inputName, token);
        }
    }

    private static void Step(ExecutionPlan plan, string input, int token)
    {
        plan.Input(input)[0] = token;
        plan.Run();
    }

    /// <summary>
    /// A class drawn from softmax(scores / temperature), restricted to the k highest scores and then to the smallest
    /// set of the most likely classes whose probabilities reach p (nucleus sampling), when asked.
    /// </summary>
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
        if (options.TopP is { } p && p < 1) total = Nucleus(probabilities, total, p);
        var u = rng.NextDouble() * total;
        for (var i = 0; i < scores.Length; i++)
        {
            u -= probabilities[i];
            if (u < 0) return i;
        }
        return Array.FindLastIndex(probabilities, q => q > 0);
    }

    /// <summary>
    /// Keeps the most likely classes, in order, until their share of <paramref name="total"/> reaches <paramref name="p"/>
    /// (at least one), zeroes the rest, and returns the mass kept.
    /// </summary>
    internal static double Nucleus(double[] probabilities, double total, double p)
    {
        var order = Enumerable.Range(0, probabilities.Length).OrderByDescending(i => probabilities[i]).ThenBy(i => i).ToArray();
        double kept = 0;
        var count = 0;
        while (count < order.Length && (count == 0 || kept < p * total)) kept += probabilities[order[count++]];
        for (var i = count; i < order.Length; i++) probabilities[order[i]] = 0;
        return kept;
    }
}
