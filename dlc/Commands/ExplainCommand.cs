using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Dlc.Cli.Output;
using Dlc.Compiler.Jobs;
using Dlc.Diagnostics;
using Dlc.Runtime.Checkpoints;
using Dlc.Runtime.Explain;
using Dlc.Runtime.Training;

namespace Dlc.Cli.Commands;

/// <summary>
/// `dlc explain file.dl --checkpoint model.safetensors --method integrated-gradients --inputs test[0:16]`:
/// attributions of trained weights for chosen samples, with deletion/insertion scores and, with `--sanity`,
/// the cascading randomisation test; files into `--out`, a summary on stdout.
/// </summary>
internal static class ExplainCommand
{
    public static Command Create(CliContext context)
    {
        var file = CommonOptions.File();
        var json = CommonOptions.Json();
        var threads = CommonOptions.Threads();
        var gemm = CommonOptions.Gemm();
        var model = CommonOptions.Model();
        var checkpoint = CommonOptions.Checkpoint();
        var method = new Option<string>("--method")
        {
            Description = "one or more of " + string.Join(", ", Methods.All.Select(m => m.Name)) + ", comma-separated",
            DefaultValueFactory = _ => "integrated-gradients",
        };
        var inputs = new Option<string?>("--inputs") { Description = "the samples to explain: split[from:to], e.g. test[0:16] (default: the first 16 of the test split, else validation)" };
        var target = new Option<string?>("--target")
        {
            Description = "the output explained: a class by its name where the data names them (a Fashion-MNIST class such as Sneaker, a tag such as NOUN, " +
                          "a CSV file's label), or by its index from 0 (default: each input's predicted class; output 0 of a regression)",
        };
        var baseline = new Option<string?>("--baseline")
        {
            Description = "what integrated gradients, occlusion and deletion start from: zeros (the default), mean (the training data's mean) or blurred (images); " +
                          "for token sequences padding (every token index 0, the default) or zeros",
        };
        var steps = Count("--steps", "integrated gradients: points of the Gauss–Legendre rule", 64);
        var samples = Count("--samples", "smoothgrad and vargrad: noisy copies per input", 32);
        var noise = new Option<double>("--noise")
        {
            Description = "smoothgrad and vargrad: noise σ as a fraction of the input's range",
            DefaultValueFactory = _ => 0.15,
            CustomParser = r => CommonOptions.Number<double>(r, "--noise", "a number", v => v > 0 && v <= 10, "above 0 and at most 10"),
        };
        var patch = Count("--patch", "occlusion: the patch's side (images) or length (feature vectors)", 4);
        var stride = Count("--stride", "occlusion: how far the patch moves each step", 2);
        var repeats = Count("--repeats", "permutation: shuffles per feature", 5);
        var layer = new Option<string?>("--layer") { Description = "grad-cam: the layer, by its name in `dlc check` (default: the last with feature maps)" };
        var text = new Option<string[]>("--text")
        {
            Description = "a model of characters or words: a text to explain instead of --inputs (repeatable); words are split at blanks",
        };
        var position = new Option<int?>("--position")
        {
            Description = "a model that scores every position (a language model, a tagger: Tensor[N, T, classes]): the position explained, from 0 (default: the last)",
        };
        var sanity = new Option<bool>("--sanity") { Description = "run the cascading model-randomisation test (Adebayo et al. 2018) for each method" };
        var features = new Option<string?>("--features") { Description = "names of the input features, comma-separated, for the tables and charts (default: the data's own, e.g. a CSV header)" };
        var seed = new Option<ulong>("--seed") { Description = "seed of the noise, shuffles and randomised layers", DefaultValueFactory = _ => 42 };
        var outDir = new Option<string?>("--out") { Description = "folder for the PNG, CSV and JSON files (default: explain/<model>-<time>)" };
        var command = new Command("explain", "attributions of trained weights, with sanity and faithfulness checks")
        {
            file, json, threads, gemm, model, checkpoint, method, inputs, target, baseline, steps, samples, noise, patch, stride, repeats,
            layer, text, position, sanity, features, seed, outDir,
        };
        command.SetAction(parse =>
        {
            context.Json = parse.GetValue(json);
            var methods = ParseMethods(parse.GetValue(method)!);
            var compiled = CommonOptions.Compile(parse.GetValue(file)!);
            var spec = TrainCommand.Select(compiled.Trains, parse.GetValue(model), compiled.Source);
            var modelGraph = compiled.Models.First(m => m.Name == spec.Model);
            if (modelGraph.Inputs.Count > 1)
                throw new DiagnosticException(DiagnosticCatalog.MethodDoesNotFit.At(modelGraph.Source, modelGraph.Span,
                    $"`dlc explain` attributes a prediction to the features of one input, but `{modelGraph.Name}` takes {modelGraph.Inputs.Count} ({string.Join(", ", modelGraph.Inputs.Select(i => $"`{i.Name}`"))})",
                    "explain a model of one input"));
            var tokens = modelGraph.Inputs.Count == 1 && modelGraph.Inputs[0].IsIndex;
            var baselineKind = tokens ? BaselineKind.Zeros : ParseBaseline(parse.GetValue(baseline) ?? "zeros");
            if (Capabilities.FirstUnsupported(modelGraph, "explained") is { } unsupported) throw new DiagnosticException(unsupported);
            var gemmProvider = CommonOptions.CreateGemm(context, parse.GetValue(gemm), parse.GetValue(threads));
            var path = parse.GetValue(checkpoint)!;
            var parameters = Checkpoint.LoadParameters(path, ModelRuntime.ParameterSpecsOf(modelGraph));

            var settings = new ExplainSettings
            {
                Baseline = baselineKind,
                Steps = parse.GetValue(steps),
                Samples = parse.GetValue(samples),
                Noise = parse.GetValue(noise),
                Patch = parse.GetValue(patch),
                Stride = parse.GetValue(stride),
                Repeats = parse.GetValue(repeats),
                Layer = parse.GetValue(layer),
                Seed = parse.GetValue(seed),
            };
            // Text is encoded with the characters or words the model was trained with, saved in its checkpoint.
            var vocabulary = Checkpoint.LoadVocabulary(path) is { } characters ? new Runtime.Data.CharVocabulary(characters) : null;
            var words = Checkpoint.LoadWords(path) is { } saved ? Runtime.Data.WordVocabulary.Deserialize(saved) : null;
            var (runtime, data) = JobSetup.Prepare(compiled, spec with { Seed = EvalCommand.TrainedSeed(path) ?? spec.Seed }, gemmProvider, compileForBatch: null,
                vocabulary: vocabulary, words: words);
            using var _ = runtime;
            var perPosition = tokens && modelGraph.HasSingleOutput && modelGraph.OutputShape.Rank == 3;
            settings = settings with { Target = ExplainSelection.Target(parse.GetValue(target), ExplainSelection.ClassNames(data, perPosition), modelGraph.Name) };
            foreach (var tensor in parameters) tensor.Data.Span.CopyTo(runtime.Parameters.Value(tensor.Name));
            if (tokens)
            {
                return ExplainTokens.Run(context, spec, path, runtime, data, parse.GetValue(inputs), parse.GetValue(text),
                    methods, parse.GetValue(baseline), settings, parse.GetValue(outDir), parse.GetValue(sanity), parse.GetValue(position));
            }

            if (parse.GetValue(text) is { Length: > 0 })
                throw new DiagnosticException(DiagnosticCatalog.MethodDoesNotFit.At(modelGraph.Source, modelGraph.Span,
                    $"--text: `{modelGraph.Name}` takes {modelGraph.Inputs[0].Shape}, not token indices", "explain samples of its data with --inputs"));
            if (parse.GetValue(position) is { } p)
                throw new DiagnosticException(DiagnosticCatalog.MethodDoesNotFit.At(modelGraph.Source, modelGraph.Span,
                    $"--position {p}: `{modelGraph.Name}` returns {modelGraph.OutputShape}, one prediction per input, not one per position", "leave out --position"));
            var selected = ExplainSelection.Select(data, parse.GetValue(inputs), methods.Contains(MethodKind.Permutation));
            var size = selected.Values.Length / Math.Max(1, selected.Count);
            var names = ExplainSelection.FeatureNames(parse.GetValue(features), runtime.Input.Shape.Dims.Skip(1).Select(d => d.Size).ToArray(), data.Train.FeatureNames);
            using var explainer = new Explainer(runtime, settings, ExplainSelection.MeanSample(data.Train, size));
            explainer.Prepare(methods);
            var targets = explainer.Targets(selected.Values, selected.Count);
            var results = new List<MethodResult>();
            foreach (var m in methods)
            {
                context.Cancel.ThrowIfCancellationRequested();
                if (!context.Json) context.Error.WriteLine($"explain: {Methods.NameOf(m)} on {selected.Count} input{(selected.Count == 1 ? "" : "s")}{(parse.GetValue(sanity) && Methods.IsPerInput(m) ? " (with the randomisation test)" : "")}");
                results.Add(explainer.Run(m, selected, targets, parse.GetValue(sanity)));
            }
            var folder = parse.GetValue(outDir) ?? Path.Combine("explain", $"{spec.Model.ToLowerInvariant()}-{DateTime.Now:yyyyMMdd-HHmmss}");
            var summary = ExplainOutput.Write(folder, spec.Model, path, selected, settings, results, names);
            if (context.Json) context.Out.WriteLine(JsonSerializer.Serialize(summary with { }, ExplainOutput.Json));
            else ExplainText.Write(context.Out, summary, folder);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Option<int> Count(string name, string description, int value) => new(name)
    {
        Description = $"{description} (default {value})",
        DefaultValueFactory = _ => value,
        CustomParser = r => CommonOptions.Number<int>(r, name, "a whole number", v => v is >= 1 and <= 100_000, "between 1 and 100000"),
    };

    /// <summary>`--method a,b`: each a known method (DL0407 with the nearest name otherwise), in the order given.</summary>
    internal static IReadOnlyList<MethodKind> ParseMethods(string text)
    {
        var result = new List<MethodKind>();
        foreach (var name in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var kind = Methods.Parse(name) ?? throw new DiagnosticException(DiagnosticCatalog.InvalidOption.At(null, default,
                $"--method {name}: there is no such method",
                NameSuggestions.DidYouMean(name, Methods.All.Select(m => m.Name)) ?? "the methods are " + string.Join(", ", Methods.All.Select(m => m.Name))));
            if (!result.Contains(kind)) result.Add(kind);
        }
        if (result.Count == 0)
            throw new DiagnosticException(DiagnosticCatalog.InvalidOption.At(null, default, "--method names no method", "for example `--method integrated-gradients`"));
        return result;
    }

    private static BaselineKind ParseBaseline(string text) => text switch
    {
        "zeros" => BaselineKind.Zeros,
        "mean" => BaselineKind.Mean,
        "blurred" => BaselineKind.Blurred,
        _ => throw new DiagnosticException(DiagnosticCatalog.InvalidOption.At(null, default, $"--baseline {text}: there is no such baseline",
            NameSuggestions.DidYouMean(text, ["zeros", "mean", "blurred"]) ?? "the baselines are zeros, mean and blurred")),
    };
}
