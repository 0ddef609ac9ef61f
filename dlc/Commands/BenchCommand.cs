using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Dlc.Cli.Output;
using Dlc.Compiler.Jobs;
using Dlc.Diagnostics;
using Dlc.Runtime.Training;

namespace Dlc.Cli.Commands;

/// <summary>`dlc bench file.dl`: training samples/s, inference samples/s at batch 1000 and 32, batch-1 latency, time to first step.</summary>
internal static class BenchCommand
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
        var epochs = new Option<int>("--epochs")
        {
            Description = "timed training epochs after one warm-up epoch (the median is reported)",
            DefaultValueFactory = _ => 3,
            CustomParser = r => CommonOptions.Number<int>(r, "--epochs", "a whole number", v => v >= 1, "1 or more"),
        };
        var profile = new Option<bool>("--profile") { Description = "also time each step of the compiled training step" };
        var kernels = new Option<bool>("--kernels") { Description = "measure GFLOP/s of every GEMM provider at the MLP's shapes (no file needed)" };
        file.Arity = ArgumentArity.ZeroOrOne;
        var command = new Command("bench", "measure training and inference speed of a model on its data, or of the kernels")
        {
            file, json, threads, gemm, conv, passes, noPass, model, epochs, profile, kernels,
        };
        command.SetAction(parse =>
        {
            context.Json = parse.GetValue(json);
            if (parse.GetValue(kernels)) return KernelBench.Run(context, parse.GetValue(threads));
            var path = parse.GetValue(file) ?? throw new UsageException("bench needs a .dl file (or --kernels)");
            var compiled = CommonOptions.Compile(path);
            var spec = TrainCommand.Select(compiled.Trains, parse.GetValue(model), compiled.Source);
            var threadCount = parse.GetValue(threads);
            // Refuse, at the source line, what this version cannot train (conv layers, schedules, GANs...) before any work.
            Capabilities.EnsureTrainable(compiled, spec);
            var gemmProvider = CommonOptions.CreateGemm(context, parse.GetValue(gemm), threadCount);
            var (runtime, data) = JobSetup.Prepare(compiled, spec with { Data = spec.Data with { Validation = 0 } }, gemmProvider, spec.Batch, parse.GetValue(conv) != "im2col",
                passes: CommonOptions.PassesOf(parse, passes, noPass));
            using var _ = runtime;
            var result = Benchmark.Run(runtime, spec, data, threadCount, parse.GetValue(epochs),
                StartClock.Seconds,
                context.Json ? null : line => context.Error.WriteLine(line), parse.GetValue(profile));
            if (context.Json)
            {
                context.Out.WriteLine(JsonSerializer.Serialize(result, Summaries.JsonOptions));
                return ExitCodes.Ok;
            }
            static string F(double x, string f) => x.ToString(f, CultureInfo.InvariantCulture);
            var w = context.Out;
            var passNote = runtime.Passes.IsAll ? "" : $", passes {runtime.Passes}";
            w.WriteLine($"model {result.Model}: batch {result.Batch}, {result.Threads} threads, gemm {result.Gemm}{passNote}");
            var samples = result.LatencyTokens is null ? "samples" : "sentences";
            var unit = result.TokenUnit ?? "tokens";
            var trainTokens = result.TrainTokensPerSecond is { } tokens ? $" = {F(tokens, "N0")} {unit}/s" : "";
            var inferenceTokens = result.InferenceTokensPerSecond is { } inferred ? $" = {F(inferred, "N0")} {unit}/s" : "";
            var latencyOf = result.LatencyTokens is { } n ? $"for a sentence of {n} words (the median length) at batch 1" : "at batch 1 (median)";
            w.WriteLine($"  training     {F(result.TrainSamplesPerSecond, "N0")} {samples}/s{trainTokens} (median of {result.EpochSamplesPerSecond.Count} epochs)");
            if (result.TrainMedianStepSamplesPerSecond is { } stepRate)
            {
                var stepTokens = result.TrainMedianStepTokensPerSecond is { } t ? $" = {F(t, "N0")} {unit}/s" : "";
                w.WriteLine($"               {F(stepRate, "N0")} {samples}/s{stepTokens} at the median step (batch {result.Batch})");
            }
            w.WriteLine($"  inference    {F(result.InferenceSamplesPerSecond, "N0")} {samples}/s{inferenceTokens} at batch {result.InferenceBatch}");
            if (result.SmallBatchSamplesPerSecond is { } smallRate)
                w.WriteLine($"               {F(smallRate, "N0")} {samples}/s at batch {result.SmallBatch}");
            w.WriteLine($"  latency      {F(result.LatencyMicroseconds, "0.0")} µs {latencyOf}");
            w.WriteLine($"  first step   {F(result.SecondsToFirstStep, "0.000")} s after process start");
            w.WriteLine($"  step buffers {Summaries.Bytes(result.TrainStepBytes)}");
            if (result.Profile.Count > 0)
            {
                var total = result.Profile.Sum(s => s.Microseconds);
                w.WriteLine($"  training step profile ({F(total, "0")} µs per step):");
                foreach (var s in result.Profile)
                    w.WriteLine($"    {F(s.Microseconds, "0.0"),8} µs {F(100 * s.Microseconds / total, "0.0"),5}%  {s.Step}");
            }
            return ExitCodes.Ok;
        });
        return command;
    }
}
