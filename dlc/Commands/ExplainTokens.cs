using System.Diagnostics;
using System.Text.Json;
using Dlc.Cli.Output;
using Dlc.Compiler.Jobs;
using Dlc.Diagnostics;
using Dlc.Runtime.Explain;
using Dlc.Runtime.Training;

namespace Dlc.Cli.Commands;

/// <summary>
/// `dlc explain` of a model of token sequences (`of int` inputs): integrated gradients on the embedding output,
/// summed per token, with the completeness delta of each sequence, deletion and insertion of tokens against random
/// orders and, with `--sanity`, the cascading randomisation test; of a language model or a tagger at one `--position`.
/// tokens.csv, tokens.html and summary.json.
/// </summary>
internal static class ExplainTokens
{
    /// <param name="texts">`--text`: texts to explain instead of the data's samples (<paramref name="inputs"/>).</param>
    public static int Run(CliContext context, TrainSpec spec, string checkpoint, ModelRuntime runtime, JobData data, string? inputs, string[]? texts,
        IReadOnlyList<MethodKind> methods, string? baseline, ExplainSettings settings, string? outDir, bool sanity, int? position)
    {
        if (methods.Any(m => m != MethodKind.IntegratedGradients))
            throw new DiagnosticException(DiagnosticCatalog.MethodDoesNotFit.At(null, default,
                $"`{Methods.NameOf(methods.First(m => m != MethodKind.IntegratedGradients))}` does not explain token sequences: `{runtime.Input.Name}` is {runtime.Input.Shape} of int",
                "token sequences are explained by `--method integrated-gradients` on the embedding output"));
        var start = baseline switch
        {
            null or "padding" => TokenBaseline.Padding,
            "zeros" => TokenBaseline.Zeros,
            _ => throw new DiagnosticException(DiagnosticCatalog.MethodDoesNotFit.At(null, default,
                $"--baseline {baseline}: a token sequence starts from `padding` (every token index 0) or `zeros` (zero embeddings)")),
        };
        using var model = new TokenModel(runtime);
        if (texts is { Length: > 0 } && inputs is not null)
            throw new DiagnosticException(DiagnosticCatalog.InvalidOption.At(null, default, "--text and --inputs both choose what to explain", "give one of them"));
        var selected = texts is { Length: > 0 }
            ? ExplainSelection.FromTexts(texts, data.Vocabulary, model.Length, runtime.Eval.Name, data.Train.TargetSize, data.Words)
            : ExplainSelection.Select(data, inputs, wholeSplit: false);
        var lengths = model.Lengths(selected.Values, selected.Count);
        var positions = model.Positions(position, lengths,
            i => texts is { Length: > 0 } ? $"--text \"{texts[i]}\"" : $"{selected.Split}[{selected.First + i}]", data.Words is null ? "tokens" : "words");
        var at = positions.Distinct().Count() == 1 && positions[0] >= 0 ? $" at position {positions[0]}" : model.PerPosition ? " each at its last position" : "";
        var clock = Stopwatch.StartNew();
        if (!context.Json)
            context.Error.WriteLine($"explain: integrated-gradients on {selected.Count} token sequence{(selected.Count == 1 ? "" : "s")}{at}" +
                                    (sanity ? " (with the randomisation test)" : ""));
        var targets = model.Targets(selected.Values, selected.Count, settings.Target, positions);
        var result = TokenAttributions.Attribute(model, selected.Values, selected.Count, targets, settings, start, positions);
        var seconds = clock.Elapsed.TotalSeconds;
        var (attributed, random) = TokenAttributions.Faithfulness(model, result, settings);
        context.Cancel.ThrowIfCancellationRequested();
        var check = sanity ? TokenAttributions.Sanity(model, result, settings) : null;
        var folder = outDir ?? Path.Combine("explain", $"{spec.Model.ToLowerInvariant()}-{DateTime.Now:yyyyMMdd-HHmmss}");
        var summary = TokenOutput.Write(folder, TokenOutput.Summarize(spec.Model, checkpoint, selected, result, seconds,
            data.Vocabulary, data.Train.ClassNames, runtime.Loss == LossKind.CrossEntropy, data.Words) with
        {
            Faithfulness = TokenFaithfulness.Of(attributed, random),
            Sanity = check is null ? null : ExplainOutput.Sanity(check),
        });
        if (context.Json) context.Out.WriteLine(JsonSerializer.Serialize(summary, ExplainOutput.Json));
        else TokenText.Write(context.Out, summary, folder, color: ReferenceEquals(context.Out, Console.Out) && !Console.IsOutputRedirected
            && Environment.GetEnvironmentVariable("TERM") is not (null or "dumb"));
        return ExitCodes.Ok;
    }
}
