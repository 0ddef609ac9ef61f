using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Dlc.Cli.Output;
using Dlc.Compiler.Jobs;
using Dlc.Diagnostics;
using Dlc.Runtime.Checkpoints;
using Dlc.Runtime.Data;
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
        var conv = CommonOptions.Conv();
        var passes = CommonOptions.Passes();
        var noPass = CommonOptions.NoPass();
        var model = CommonOptions.Model();
        var overrides = new TrainOverrides();
        var output = new Option<string?>("--out") { Description = "the run folder (default: runs/<model>-<time>)" };
        var resume = new Option<string?>("--resume") { Description = "continue a run from its folder or model.safetensors" };
        var start = new Option<string?>("--checkpoint") { Description = "start from these weights (model.safetensors or its folder) with a fresh optimiser" };
        var command = new Command("train", "train a model as its train record says; options override the record")
        {
            file, json, threads, gemm, conv, passes, noPass, model, output, resume, start,
        };
        overrides.AddTo(command);
        command.SetAction(parse =>
        {
            context.Json = parse.GetValue(json);
            var compiled = CommonOptions.Compile(parse.GetValue(file)!);
            var record = Select(compiled.Trains, parse.GetValue(model), compiled.Source);
            var spec = overrides.Apply(parse, record);
            // Refuse, at the source line, what this version cannot train (conv layers, schedules, GANs...) before any work.
            Capabilities.EnsureTrainable(compiled, spec);
            var gemmProvider = CommonOptions.CreateGemm(context, parse.GetValue(gemm), parse.GetValue(threads));

            // The seed initialises the parameters; a resumed run replaces them (and the dropout stream) from the checkpoint,
            // and takes epochs, batch and seed from it unless the command line says otherwise.
            var resumeFrom = parse.GetValue(resume);
            var startFrom = parse.GetValue(start);
            if (resumeFrom is not null && startFrom is not null)
                throw new UsageException("--resume continues a run with its optimiser state and --checkpoint starts a new one from weights: give one of them");
            var modelGraph = compiled.Models.First(m => m.Name == spec.Model);
            var initial = startFrom is null ? null : Checkpoint.LoadParameters(startFrom, ModelRuntime.ParameterSpecsOf(modelGraph));
            var state = resumeFrom is null ? null : Checkpoint.Load(resumeFrom, ModelRuntime.ParameterSpecsOf(modelGraph));
            if (state is not null)
            {
                if (state.SourceHash != Checkpoint.HashSource(compiled.Source.Text))
                    context.Error.WriteLine($"warning: {compiled.Source.Path} has changed since {resumeFrom} was written; training continues with the file as it is now");
                spec = overrides.Apply(parse, record, state.TrainSettings);
                if (state.Epoch >= spec.Epochs)
                    throw new UsageException($"--epochs {spec.Epochs}: {resumeFrom} has already trained {Summaries.Plural(state.Epoch, "epoch")}; " +
                                             $"give --epochs {state.Epoch + 1} or more to train further");
            }
            var (runtime, data) = JobSetup.Prepare(compiled, spec, gemmProvider, spec.Batch, parse.GetValue(conv) != "im2col",
                passes: CommonOptions.PassesOf(parse, passes, noPass));
            using var _ = runtime;
            foreach (var tensor in initial ?? []) tensor.Data.Span.CopyTo(runtime.Parameters.Value(tensor.Name));
            var folder = OpenFolder(parse.GetValue(output), resumeFrom, spec.Model);
            var hash = Checkpoint.HashSource(compiled.Source.Text);
            var settings = Settings(spec, parse.GetValue(threads), gemmProvider.Name, runtime.Winograd ? "auto" : "im2col", runtime.Passes.ToString());
            var run = new RunContext(folder.Path, hash, settings, StartClock.Seconds) { Resume = state };

            using var cancel = CancellationTokenSource.CreateLinkedTokenSource(context.Cancel);
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

    /// <summary>
    /// The run folder: `--out` (created when missing); without it, the folder of the run being resumed,
    /// so a resumed run continues its checkpoint and metrics.csv; otherwise a new runs/&lt;model&gt;-&lt;time&gt;.
    /// </summary>
    private static RunFolder OpenFolder(string? output, string? resumeFrom, string model)
    {
        if (output is not null)
        {
            if (File.Exists(output))
                throw new DataException(DataException.WriteFailed, output,
                    $"--out {output} is a file, not a folder", "give the path of a run folder (it is created when missing)");
            try
            {
                Directory.CreateDirectory(output);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new DataException(DataException.WriteFailed, output,
                    $"could not create the run folder {output}: {e.Message}", "check that the folder is writable", e);
            }
            return RunFolder.Open(output);
        }
        if (resumeFrom is not null)
            return RunFolder.Open(Directory.Exists(resumeFrom) ? resumeFrom : Path.GetDirectoryName(Path.GetFullPath(resumeFrom))!);
        return RunFolder.Create(model, DateTime.Now);
    }

    private static Dictionary<string, string> Settings(TrainSpec spec, int threads, string gemm, string conv, string passes) => new()
    {
        ["model"] = spec.Model,
        ["epochs"] = spec.Epochs.ToString(CultureInfo.InvariantCulture),
        ["batch"] = spec.Batch.ToString(CultureInfo.InvariantCulture),
        ["seed"] = spec.Seed.ToString(CultureInfo.InvariantCulture),
        ["optimizer"] = spec.Optimizer.Describe(),
        ["loss"] = spec.DescribeLoss(),
        ["validation"] = spec.Data.Validation.ToString(CultureInfo.InvariantCulture),
        ["threads"] = threads.ToString(CultureInfo.InvariantCulture),
        ["gemm"] = gemm,
        ["conv"] = conv,
        ["passes"] = passes,
        ["schedule"] = spec.Schedule?.Describe() ?? "none",
        ["clip"] = spec.Clip is { } clip ? clip.ToString(CultureInfo.InvariantCulture) : "none",
        ["augment"] = spec.Augment?.Describe() ?? "none",
    };
}
