using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Dlc.Cli.Output;
using Dlc.Diagnostics;
using Dlc.Compiler.Jobs;
using Dlc.Runtime.Checkpoints;
using Dlc.Runtime.Data;
using Dlc.Runtime.Training;

namespace Dlc.Cli.Commands;

/// <summary>`dlc eval file.dl --checkpoint model.safetensors`: loss and accuracy of trained weights on the test set.</summary>
internal static class EvalCommand
{
    public static Command Create(CliContext context)
    {
        var file = CommonOptions.File();
        var json = CommonOptions.Json();
        var threads = CommonOptions.Threads();
        var gemm = CommonOptions.Gemm();
        var model = CommonOptions.Model();
        var checkpoint = CommonOptions.Checkpoint();
        var split = new Option<string>("--split")
        {
            Description = "which data to evaluate: test, validation or train",
            DefaultValueFactory = _ => "test",
            Validators = { r => { if (r.GetValueOrDefault<string>() is not ("test" or "validation" or "train")) r.AddError("--split must be test, validation or train"); } },
        };
        var command = new Command("eval", "evaluate trained weights on a data set") { file, json, threads, gemm, model, checkpoint, split };
        command.SetAction(parse =>
        {
            context.Json = parse.GetValue(json);
            var compiled = CommonOptions.Compile(parse.GetValue(file)!);
            var spec = TrainCommand.Select(compiled.Trains, parse.GetValue(model), compiled.Source);
            if (Capabilities.FirstUnsupported(compiled.Models.First(m => m.Name == spec.Model), "evaluated") is { } unsupported)
                throw new DiagnosticException(unsupported);
            var gemmProvider = CommonOptions.CreateGemm(context, parse.GetValue(gemm), parse.GetValue(threads));
            var path = parse.GetValue(checkpoint)!;
            var parameters = Checkpoint.LoadParameters(path, ModelRuntime.ParameterSpecsOf(compiled.Models.First(m => m.Name == spec.Model)));

            // The validation split depends on the seed: use the one the checkpoint was trained with, so
            // `--split validation` is the data the run held out and `--split train` the data it trained on.
            // A character-level model encodes text with the characters it was trained with.
            var vocabulary = Checkpoint.LoadVocabulary(path) is { } characters ? new CharVocabulary(characters) : null;
            var words = Checkpoint.LoadWords(path) is { } saved ? WordVocabulary.Deserialize(saved) : null;
            var tokens = SampleCommand.Tokens(path, spec);
            var (runtime, data) = JobSetup.Prepare(compiled, spec with { Seed = TrainedSeed(path) ?? spec.Seed }, gemmProvider, compileForBatch: null,
                vocabulary: vocabulary, words: words, tokens: tokens);
            using var _ = runtime;
            foreach (var tensor in parameters) tensor.Data.Span.CopyTo(runtime.Parameters.Value(tensor.Name));
            var which = parse.GetValue(split)!;
            var set = which switch
            {
                "train" => data.Train,
                "validation" => data.Validation ?? throw new UsageException("--split validation: the train record holds no validation split"),
                _ => data.Test ?? throw new UsageException("--split test: the data set has no test split; use --split validation or train"),
            };
            var result = Evaluator.Evaluate(runtime, set, topK: spec.TopK?.K ?? 0, scale: data.Scale, decode: true);
            // Losses per character are those of a language model: a target at every position.
            double? bits = data.TokenUnit != TokenUnit.Character || set.TargetSize == 1 ? null : EpochMetrics.BitsPerChar(result.Loss);
            // A word-level language model's losses are nats per word: perplexity is their exp.
            double? perplexity = data.TokenUnit is TokenUnit.Word or TokenUnit.Token ? EpochMetrics.Perplexity(result.Loss) : null;
            if (context.Json)
            {
                var document = new Dictionary<string, object?>
                {
                    ["model"] = spec.Model,
                    ["checkpoint"] = path,
                    ["split"] = which,
                    ["samples"] = result.Samples,
                    ["words"] = data.Words is null ? null
                        : data.TokenUnit == TokenUnit.Word ? result.Samples * set.TargetSize
                        : spec.Data.IsTagging ? result.Positions : null,
                    ["loss"] = result.Loss,
                    ["bits_per_char"] = bits,
                    ["perplexity"] = perplexity,
                    ["accuracy"] = result.Accuracy,
                    ["top_k"] = result.K > 0 ? result.K : null,
                    ["top_k_accuracy"] = result.TopKAccuracy,
                };
                foreach (var (key, value) in EvalReportText.Json(result)) document[key] = value;
                context.Out.WriteLine(JsonSerializer.Serialize(document, Summaries.JsonOptions));
            }
            else
            {
                var accuracy = result.Accuracy is { } a ? $"  accuracy {(100 * a).ToString("0.00", CultureInfo.InvariantCulture)}%" : "";
                if (result.TopKAccuracy is { } k) accuracy += $"  top-{result.K} accuracy {(100 * k).ToString("0.00", CultureInfo.InvariantCulture)}%";
                var perChar = bits is { } b ? $" nats/char ({b.ToString("0.000", CultureInfo.InvariantCulture)} bits/char)"
                    : perplexity is { } p ? $" nats/{(data.TokenUnit == TokenUnit.Word ? "word" : "token")} (perplexity {p.ToString("0.0", CultureInfo.InvariantCulture)})" : "";
                var count = data.TokenUnit is TokenUnit.Word or TokenUnit.Token
                    ? $"{result.Samples:N0} sequences, {result.Samples * set.TargetSize:N0} {(data.TokenUnit == TokenUnit.Word ? "words" : "tokens")}"
                    : data.Words is null || !spec.Data.IsTagging ? $"{result.Samples:N0} samples" : $"{result.Samples:N0} sentences, {result.Positions:N0} words";
                context.Out.WriteLine($"{spec.Model} on {which} ({count}): loss {result.Loss.ToString("0.0000", CultureInfo.InvariantCulture)}{perChar}{accuracy}");
                EvalReportText.Write(context.Out, result);
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>The seed in the training state next to a checkpoint, if there is a readable one.</summary>
    internal static ulong? TrainedSeed(string path)
    {
        var modelPath = Directory.Exists(path) ? Path.Combine(path, Checkpoint.ModelFileName) : path;
        var statePath = Checkpoint.StatePath(modelPath);
        if (!File.Exists(statePath)) return null;
        try
        {
            var metadata = SafeTensorsFile.Read(statePath).Metadata;
            if (!metadata.TryGetValue("train_settings", out var json)) return null;
            using var settings = JsonDocument.Parse(json);
            return settings.RootElement.ValueKind == JsonValueKind.Object
                   && settings.RootElement.TryGetProperty("seed", out var seed) && seed.ValueKind == JsonValueKind.String
                   && ulong.TryParse(seed.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out var value)
                ? value
                : null;
        }
        catch (Exception e) when (e is DataException or JsonException)
        {
            return null;
        }
    }
}
