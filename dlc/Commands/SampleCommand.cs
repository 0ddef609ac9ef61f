using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Dlc.Cli.Output;
using Dlc.Compiler.Jobs;
using Dlc.Diagnostics;
using Dlc.Runtime.Checkpoints;
using Dlc.Runtime.Data;
using Dlc.Runtime.Training;

namespace Dlc.Cli.Commands;

/// <summary>
/// `dlc sample file.dl --checkpoint model.safetensors --prompt "The"`: text from a character- or word-level language model,
/// or the translation of the prompt by a sequence-to-sequence model (`--prompt "march 12, 1998"`).
/// </summary>
internal static class SampleCommand
{
    public static Command Create(CliContext context)
    {
        var file = CommonOptions.File();
        var json = CommonOptions.Json();
        var threads = CommonOptions.Threads();
        var gemm = CommonOptions.Gemm();
        var model = CommonOptions.Model();
        var checkpoint = CommonOptions.Checkpoint("model.safetensors (or its run folder) of a language model");
        var prompt = new Option<string>("--prompt") { Description = "the text to continue", DefaultValueFactory = _ => "" };
        var length = new Option<int>("--length")
        {
            Description = "tokens (characters, words) to generate",
            DefaultValueFactory = _ => 300,
            CustomParser = r => CommonOptions.Number<int>(r, "--length", "a whole number", v => v >= 1, "1 or more"),
        };
        var temperature = new Option<double>("--temperature")
        {
            Description = "below 1 picks likely characters more often, above 1 less",
            DefaultValueFactory = _ => 1.0,
            CustomParser = r => CommonOptions.Number<double>(r, "--temperature", "a number", v => v > 0 && double.IsFinite(v), "above 0"),
        };
        var topK = new Option<int?>("--top-k")
        {
            Description = "draw only among the k most likely characters",
            CustomParser = r => CommonOptions.Number<int>(r, "--top-k", "a whole number", v => v >= 1, "1 or more"),
        };
        var topP = new Option<double?>("--top-p")
        {
            Description = "draw only among the most likely characters whose probabilities add up to p (nucleus sampling)",
            CustomParser = r => CommonOptions.Number<double>(r, "--top-p", "a number", v => v > 0 && v <= 1, "above 0 and at most 1"),
        };
        var noCache = new Option<bool>("--no-cache")
        {
            Description = "run the whole window of recent characters for each new one, instead of one step with the carried state and key/value cache",
        };
        var seed = new Option<ulong>("--seed") { Description = "fixes the draws", DefaultValueFactory = _ => 0 };
        var command = new Command("sample", "generate text with a trained language model")
        {
            file, json, threads, gemm, model, checkpoint, prompt, length, temperature, topK, topP, noCache, seed,
        };
        command.SetAction(parse =>
        {
            context.Json = parse.GetValue(json);
            var compiled = CommonOptions.Compile(parse.GetValue(file)!);
            var spec = TrainCommand.Select(compiled.Trains, parse.GetValue(model), compiled.Source);
            var graph = compiled.Models.First(m => m.Name == spec.Model);
            if (Capabilities.FirstUnsupported(graph, "run") is { } unsupported) throw new DiagnosticException(unsupported);
            if (spec.Data.IsSequencePairs)
            {
                var given = parse.GetResult(temperature) is { Implicit: false };
                return Translate(context, compiled, spec, parse.GetValue(checkpoint)!, parse.GetValue(prompt)!, given ? parse.GetValue(temperature) : 0,
                    parse.GetValue(seed), CommonOptions.CreateGemm(context, parse.GetValue(gemm), parse.GetValue(threads)));
            }
            var input = graph.Inputs[0];
            if (!input.IsIndex || input.Shape.Rank != 2 || input.Shape[1].Symbol is not { } steps
                || graph.OutputShape.Rank != 3 || graph.OutputShape[1] != input.Shape[1])
                throw new UsageException($"sample needs a language model, Tensor[N, T] of int to Tensor[N, T, classes]; `{spec.Model}` takes {input.Shape} and returns {graph.OutputShape}");
            var path = parse.GetValue(checkpoint)!;
            var parameters = Checkpoint.LoadParameters(path, ModelRuntime.ParameterSpecsOf(graph));
            var codec = Codec(path, spec);
            var gemmProvider = CommonOptions.CreateGemm(context, parse.GetValue(gemm), parse.GetValue(threads));
            // The model looks back as far as it was trained to: its sequence length.
            var window = Math.Max(1, spec.Data.Sequence);
            var cache = !parse.GetValue(noCache);
            using var runtime = new ModelRuntime(compiled, spec.Model, spec.Loss, gemmProvider, spec.Seed)
            {
                Lengths = new Dictionary<string, int> { [steps] = cache ? 1 : window },
            };
            foreach (var tensor in parameters) tensor.Data.Span.CopyTo(runtime.Parameters.Value(tensor.Name));
            var options = new SampleOptions(parse.GetValue(prompt)!, parse.GetValue(length), parse.GetValue(temperature), parse.GetValue(topK), parse.GetValue(seed))
            {
                TopP = parse.GetValue(topP),
                Context = window,
                Cache = cache,
            };
            SampleResult result;
            try
            {
                result = Sampler.Generate(runtime, codec, options);
            }
            catch (InvalidOperationException ex)
            {
                throw new UsageException($"sample: {ex.Message}");
            }
            if (context.Json)
                context.Out.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
                {
                    ["model"] = spec.Model,
                    ["checkpoint"] = path,
                    ["prompt"] = options.Prompt,
                    ["temperature"] = options.Temperature,
                    ["top_k"] = options.TopK,
                    ["top_p"] = options.TopP,
                    ["seed"] = options.Seed,
                    ["cache"] = cache,
                    [codec.Unit] = result.Tokens,
                    ["seconds"] = result.Seconds,
                    [$"{codec.Unit}_per_second"] = result.TokensPerSecond,
                    ["text"] = result.Text,
                }, Summaries.JsonOptions));
            else
            {
                context.Out.WriteLine(result.Text);
                var how = cache ? "one step each" : $"the window of the last {window} each";
                context.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{result.Tokens} {codec.Unit} (prompt included) in {result.Seconds:0.000} s: {result.TokensPerSecond:N0} {codec.Unit}/s, {how}"));
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>
    /// A sequence-to-sequence model (trained on `dates`): the prompt translated, greedily unless a temperature is given.
    /// Each character costs a run of the whole model on the prefix so far (see <see cref="GreedyDecoder"/>).
    /// </summary>
    private static int Translate(CliContext context, Compiler.Elaboration.CompiledFile compiled, TrainSpec spec, string path, string prompt, double temperature,
        ulong seed, Backend.Gemm.IGemm gemm)
    {
        var graph = compiled.Models.First(m => m.Name == spec.Model);
        var parameters = Checkpoint.LoadParameters(path, ModelRuntime.ParameterSpecsOf(graph));
        var vocabulary = Checkpoint.LoadVocabulary(path) is { } characters ? new CharVocabulary(characters)
            : throw new DataException(DataException.CheckpointMismatch, path, $"{path} has no vocabulary, so its token indices cannot be turned into text",
                "sample from a checkpoint of a model trained on `dates`");
        using var runtime = new ModelRuntime(compiled, spec.Model, spec.Loss, gemm, spec.Seed) { Lengths = JobSetup.Lengths(spec.Data, graph.Inputs) };
        foreach (var tensor in parameters) tensor.Data.Span.CopyTo(runtime.Parameters.Value(tensor.Name));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        string translation;
        try
        {
            translation = GreedyDecoder.Translate(runtime, vocabulary, DateFormats.Pairs, prompt, temperature, seed);
        }
        catch (ArgumentException ex)
        {
            throw new UsageException($"--prompt: {ex.Message}");
        }
        if (context.Json)
        {
            context.Out.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
            {
                ["model"] = spec.Model,
                ["checkpoint"] = path,
                ["prompt"] = prompt,
                ["decoding"] = temperature > 0 ? "sampled" : "greedy",
                ["temperature"] = temperature > 0 ? temperature : null,
                ["seed"] = temperature > 0 ? seed : null,
                ["translation"] = translation,
                ["seconds"] = clock.Elapsed.TotalSeconds,
            }, Summaries.JsonOptions));
        }
        else
        {
            context.Out.WriteLine(translation);
            context.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{(temperature > 0 ? $"sampled at temperature {temperature:0.###}" : "greedy")}, {translation.Length} characters in {clock.Elapsed.TotalSeconds:0.000} s"));
        }
        return ExitCodes.Ok;
    }

    /// <summary>The tokens the checkpoint's model was trained on: BPE tokens, its words, or its characters.</summary>
    private static ITokenCodec Codec(string path, TrainSpec spec)
    {
        if (Tokens(path, spec) is { } tokens) return new BpeCodec(tokens);
        if (Checkpoint.LoadWords(path) is { } words) return new WordCodec(WordVocabulary.Deserialize(words));
        if (Checkpoint.LoadVocabulary(path) is { } characters) return new CharCodec(new CharVocabulary(characters));
        throw new DataException(DataException.CheckpointMismatch, path,
            $"{path} has no vocabulary, so its token indices cannot be turned into text",
            "sample from a checkpoint of a model trained on `brownCorpus` or `textCorpus`");
    }

    /// <summary>
    /// The BPE vocabulary of a checkpoint, checked against the train record: a record that reads `level = bpe` needs a
    /// checkpoint made with the same tokenizer, and a checkpoint made with one cannot be read with characters or words.
    /// </summary>
    internal static BpeVocabulary? Tokens(string path, TrainSpec spec)
    {
        var saved = Checkpoint.LoadTokens(path);
        var bpe = spec.Data.Level == "bpe" && spec.Data.Kind is DataKind.BrownCorpus or DataKind.TextCorpus;
        if (saved is null)
        {
            if (bpe)
                throw new DataException(DataException.CheckpointMismatch, path,
                    $"{path} was not trained with the `{BpeVocabulary.Gpt2}` tokenizer that `level = bpe` reads text with",
                    "evaluate or sample with the train record the checkpoint was trained with");
            return null;
        }
        var tokenizer = saved.Split('\n', 2)[0];
        if (!bpe)
            throw new DataException(DataException.CheckpointMismatch, path,
                $"{path} was trained on text read by the `{tokenizer}` tokenizer, but `train {spec.Model}` reads {spec.Data.Level ?? "other data"}",
                "write `level = bpe` in the record's data, as when the checkpoint was trained");
        try
        {
            return BpeVocabulary.Deserialize(saved);
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException)
        {
            throw new DataException(DataException.CheckpointMismatch, path, $"{path}: {ex.Message}", "train the model again with this version of dlc");
        }
    }
}
