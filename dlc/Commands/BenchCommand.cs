using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Dlc.Cli.Output;
using Dlc.Runtime.Training;

namespace Dlc.Cli.Commands;

/// <summary>`dlc bench file.dl`: training samples/s, inference samples/s at batch 1000, batch-1 latency, time to first step.</summary>
internal static class BenchCommand
{
    public static Command Create(CliContext context)
    {
        var file = CommonOptions.File();
        var json = CommonOptions.Json();
        var threads = CommonOptions.Threads();
        var gemm = CommonOptions.Gemm();
        var model = CommonOptions.Model();
        var epochs = new Option<int>("--epochs")
        {
            Description = "timed training epochs after one warm-up epoch (the median is reported)",
            DefaultValueFactory = _ => 3,
            Validators = { r => { if (r.GetValueOrDefault<int>() < 1) r.AddError("--epochs must be 1 or more"); } },
        };
        var command = new Command("bench", "measure training and inference speed of a model on its data") { file, json, threads, gemm, model, epochs };
        command.SetAction(parse =>
        {
            context.Json = parse.GetValue(json);
            var compiled = CommonOptions.Compile(parse.GetValue(file)!);
            var spec = TrainCommand.Select(compiled.Trains, parse.GetValue(model), compiled.Source);
            var threadCount = parse.GetValue(threads);
            var gemmProvider = CommonOptions.CreateGemm(context, parse.GetValue(gemm), threadCount);
            using var runtime = new ModelRuntime(compiled, spec.Model, spec.Loss, gemmProvider, spec.Seed);
            var data = DataSources.Load(compiled.Source, spec.Data with { Validation = 0 }, runtime.Input, spec.Loss, spec.Seed);
            var result = Benchmark.Run(runtime, spec, data, threadCount, parse.GetValue(epochs),
                () => (DateTime.Now - Process.GetCurrentProcess().StartTime).TotalSeconds,
                context.Json ? null : line => context.Error.WriteLine(line));
            if (context.Json)
            {
                context.Out.WriteLine(JsonSerializer.Serialize(result, Summaries.JsonOptions));
                return ExitCodes.Ok;
            }
            static string F(double x, string f) => x.ToString(f, CultureInfo.InvariantCulture);
            var w = context.Out;
            w.WriteLine($"model {result.Model}: batch {result.Batch}, {result.Threads} threads, gemm {result.Gemm}");
            w.WriteLine($"  training     {F(result.TrainSamplesPerSecond, "N0")} samples/s (median of {result.EpochSamplesPerSecond.Count} epochs)");
            w.WriteLine($"  inference    {F(result.InferenceSamplesPerSecond, "N0")} samples/s at batch {result.InferenceBatch}");
            w.WriteLine($"  latency      {F(result.LatencyMicroseconds, "0.0")} µs at batch 1 (median)");
            w.WriteLine($"  first step   {F(result.SecondsToFirstStep, "0.000")} s after process start");
            w.WriteLine($"  step buffers {Summaries.Bytes(result.TrainStepBytes)}");
            return ExitCodes.Ok;
        });
        return command;
    }
}
