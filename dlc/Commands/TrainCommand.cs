using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Dlc.Cli.Output;
using Dlc.Compiler.Jobs;
using Dlc.Diagnostics;
using Dlc.Runtime.Checkpoints;
using Dlc.Runtime.Training;

namespace Dlc.Cli.Commands;

/// <summary>`dlc train file.dl`: run a train record; the run folder gets the checkpoint, metrics.csv and summary.yaml.</summary>
internal static class TrainCommand
{
    public static Command Create(CliContext context)
    {
        var file = CommonOptions.File();
        var json = CommonOptions.Json();
        var threads = CommonOptions.Threads();
        var gemm = CommonOptions.Gemm();
        var model = CommonOptions.Model();
        var overrides = new TrainOverrides();
        var output = new Option<string?>("--out") { Description = "the run folder (default: runs/<model>-<time>)" };
        var resume = new Option<string?>("--resume") { Description = "continue a run from its folder or model.safetensors" };
        var command = new Command("train", "train a model as its train record says; options override the record")
        {
            file, json, threads, gemm, model, output, resume,
        };
        overrides.AddTo(command);
        command.SetAction(parse =>
        {
            context.Json = parse.GetValue(json);
            var compiled = CommonOptions.Compile(parse.GetValue(file)!);
            var spec = Select(compiled.Trains, parse.GetValue(model), compiled.Source);
            spec = overrides.Apply(parse, spec);
            var gemmProvider = CommonOptions.CreateGemm(context, parse.GetValue(gemm), parse.GetValue(threads));

            using var runtime = new ModelRuntime(compiled, spec.Model, spec.Loss, gemmProvider, spec.Seed);
            var data = DataSources.Load(compiled.Source, spec.Data, runtime.Input, spec.Loss, spec.Seed);
            var resumeFrom = parse.GetValue(resume);
            var state = resumeFrom is null ? null : Checkpoint.Load(resumeFrom, runtime.ParameterSpecs());
            var folder = parse.GetValue(output) is { } o ? RunFolder.Open(o) : RunFolder.Create(spec.Model, DateTime.Now);
            var hash = Checkpoint.HashSource(compiled.Source.Text);
            var settings = Settings(spec, parse.GetValue(threads), gemmProvider.Name);
            var run = new RunContext(folder.Path, hash, settings, () => (DateTime.Now - Process.GetCurrentProcess().StartTime).TotalSeconds) { Resume = state };

            using var cancel = new CancellationTokenSource();
            ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cancel.Cancel(); };
            Console.CancelKeyPress += onCancel;
            try
            {
                var result = Trainer.Run(runtime, spec, data, run, new ProgressObserver(context, context.Json && !context.Interactive), cancel.Token);
                var summary = RunSummary.Build(spec, result, settings, gemmProvider.Name);
                SummaryYaml.Write(folder.SummaryPath, summary);
                if (context.Json) context.Out.WriteLine(JsonSerializer.Serialize(summary, Summaries.JsonOptions));
                else RunSummary.WriteText(context.Out, result);
                return ExitCodes.Ok;
            }
            catch (TrainingDivergedException ex)
            {
                throw new DiagnosticException(DiagnosticCatalog.InvalidFieldValue.At(compiled.Source, spec.Span, ex.Message,
                    "lower the learning rate (`--lr`) or check the data for extreme values"));
            }
            finally
            {
                Console.CancelKeyPress -= onCancel;
            }
        });
        return command;
    }

    public static TrainSpec Select(IReadOnlyList<TrainSpec> trains, string? model, SourceText source)
    {
        if (trains.Count == 0)
            throw new DiagnosticException(DiagnosticCatalog.NoTrainRecord.At(source, default, $"{source.Path} has no `train` record",
                "add one, for example `train MyModel { data = fashionMnist; loss = crossEntropy; optimizer = adam }`"));
        if (model is null) return trains[0];
        return trains.FirstOrDefault(t => t.Model == model)
               ?? throw new UsageException($"--model {model}: the file trains {string.Join(", ", trains.Select(t => t.Model))}");
    }

    private static Dictionary<string, string> Settings(TrainSpec spec, int threads, string gemm) => new()
    {
        ["model"] = spec.Model,
        ["epochs"] = spec.Epochs.ToString(CultureInfo.InvariantCulture),
        ["batch"] = spec.Batch.ToString(CultureInfo.InvariantCulture),
        ["seed"] = spec.Seed.ToString(CultureInfo.InvariantCulture),
        ["optimizer"] = spec.Optimizer.Describe(),
        ["loss"] = spec.Loss == LossKind.CrossEntropy ? "crossEntropy" : "mse",
        ["validation"] = spec.Data.Validation.ToString(CultureInfo.InvariantCulture),
        ["threads"] = threads.ToString(CultureInfo.InvariantCulture),
        ["gemm"] = gemm,
    };
}
