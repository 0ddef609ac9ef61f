using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Dlc.Cli.Output;
using Dlc.Compiler.Jobs;
using Dlc.Diagnostics;
using Dlc.Runtime.Checkpoints;
using Dlc.Runtime.Pruning;

namespace Dlc.Cli.Commands;

/// <summary>
/// `dlc prune file.dl --checkpoint model.safetensors --sparsity 0.9 --steps 3` (magnitude pruning with masks kept
/// through fine-tuning) or `--structured --keep 0.5` (whole neurons and channels out: a smaller .dl and its weights).
/// </summary>
internal static class PruneCommand
{
    public static Command Create(CliContext context)
    {
        var file = CommonOptions.File();
        var json = CommonOptions.Json();
        var threads = CommonOptions.Threads();
        var gemm = CommonOptions.Gemm();
        var model = CommonOptions.Model();
        var checkpoint = CommonOptions.Checkpoint("the trained weights: model.safetensors (or its run folder)");
        var sparsity = new Option<double?>("--sparsity")
        {
            Description = "magnitude pruning: the fraction of dense and conv weights to set to zero, e.g. 0.9",
            CustomParser = r => CommonOptions.Number<double>(r, "--sparsity", "a number", v => v > 0 && v < 1, "above 0 and below 1"),
        };
        var steps = new Option<int>("--steps")
        {
            Description = "magnitude pruning: steps to reach the sparsity, each followed by fine-tuning",
            DefaultValueFactory = _ => 1,
            CustomParser = r => CommonOptions.Number<int>(r, "--steps", "a whole number", v => v is >= 1 and <= 100, "between 1 and 100"),
        };
        var epochs = new Option<int>("--finetune-epochs")
        {
            Description = "epochs of fine-tuning after each step (0: none), with the train record's recipe",
            DefaultValueFactory = _ => 1,
            CustomParser = r => CommonOptions.Number<int>(r, "--finetune-epochs", "a whole number", v => v >= 0, "0 or more"),
        };
        var scope = new Option<string>("--scope")
        {
            Description = "magnitude pruning: one threshold over all weights (global) or the sparsity in every layer (layer)",
            DefaultValueFactory = _ => "global",
            Validators = { r => { if (r.GetValueOrDefault<string>() is not ("global" or "layer")) r.AddError("--scope must be global or layer"); } },
        };
        var structured = new Option<bool>("--structured") { Description = "remove whole neurons and channels, and write a smaller model" };
        var keep = new Option<double?>("--keep")
        {
            Description = "structured pruning: the fraction of each layer's neurons or channels to keep, e.g. 0.5",
            CustomParser = r => CommonOptions.Number<double>(r, "--keep", "a number", v => v > 0 && v <= 1, "above 0 and at most 1"),
        };
        var output = new Option<string?>("--out") { Description = "the folder for the pruned checkpoint and report (default: runs/<model>-pruned-<time>)" };
        var command = new Command("prune", "prune trained weights by magnitude, or remove whole neurons and channels, and fine-tune")
        {
            file, json, threads, gemm, model, checkpoint, sparsity, steps, epochs, scope, structured, keep, output,
        };
        command.SetAction(parse =>
        {
            context.Json = parse.GetValue(json);
            var isStructured = parse.GetValue(structured);
            var options = new PruneOptions(parse.GetValue(checkpoint)!, "", parse.GetValue(epochs))
            {
                Steps = parse.GetValue(steps),
                Scope = parse.GetValue(scope) == "layer" ? PruningScope.Layer : PruningScope.Global,
            };
            switch (isStructured, parse.GetValue(sparsity), parse.GetValue(keep))
            {
                case (false, { } s, null): options = options with { Sparsity = s }; break;
                case (true, null, { } k): options = options with { Keep = k }; break;
                case (false, null, null): throw new UsageException("give --sparsity (magnitude pruning) or --structured --keep (whole channels)");
                case (true, null, null): throw new UsageException("--structured needs --keep, the fraction of channels to keep");
                case (false, _, not null): throw new UsageException("--keep applies to --structured pruning; give --structured too, or --sparsity alone");
                default: throw new UsageException("--sparsity is for magnitude pruning and --structured removes channels: give one of them");
            }
            var compiled = CommonOptions.Compile(parse.GetValue(file)!);
            var spec = TrainCommand.Select(compiled.Trains, parse.GetValue(model), compiled.Source);
            Capabilities.EnsureTrainable(compiled, spec);
            if (compiled.Models.First(m => m.Name == spec.Model) is { Inputs.Count: > 1 } pairs)
                throw new DiagnosticException(DiagnosticCatalog.NotYetSupported.At(pairs.Source, pairs.Span,
                    $"`dlc prune` measures and fine-tunes models of one input, but `{pairs.Name}` takes {pairs.Inputs.Count} ({string.Join(", ", pairs.Inputs.Select(i => $"`{i.Name}`"))})"));
            var gemmProvider = CommonOptions.CreateGemm(context, parse.GetValue(gemm), parse.GetValue(threads));
            var folder = parse.GetValue(output) ?? Path.Combine("runs", $"{spec.Model.ToLowerInvariant()}-pruned-{DateTime.Now:yyyyMMdd-HHmmss}");
            if (File.Exists(folder))
                throw new DiagnosticException(DiagnosticCatalog.WriteFailed.At(null, default, $"--out {folder} is a file, not a folder",
                    "give the path of a folder (it is created when missing)"));
            options = options with { Output = folder };
            var result = PruneJob.Run(compiled, spec, gemmProvider, options, new ProgressObserver(context, context.Json && !context.Interactive),
                line => { if (!context.Json) context.Error.WriteLine(line); }, context.Cancel);
            var report = Report(result, options);
            AtomicFile.WriteAllBytes(Path.Combine(folder, PruneJob.ReportFileName), new UTF8Encoding(false).GetBytes(report));
            if (context.Json) context.Out.WriteLine(JsonSerializer.Serialize(result, Summaries.JsonOptions));
            else context.Out.Write(report);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static string Report(PruneResult r, PruneOptions o)
    {
        static string N(long n) => n.ToString("N0", CultureInfo.InvariantCulture);
        static string F(double x, string f) => x.ToString(f, CultureInfo.InvariantCulture);
        var sb = new StringBuilder();
        sb.Append(o.Keep is { } keep
            ? $"structured pruning of {r.Model}: keep {F(100 * keep, "0.#")}% of each layer's neurons and channels, {o.FinetuneEpochs} fine-tuning epoch(s)\n"
            : $"magnitude pruning of {r.Model} ({(o.Scope == PruningScope.Global ? "global" : "per layer")}): {F(100 * o.Sparsity, "0.#")}% of weights in {o.Steps} step(s), " +
              $"{o.FinetuneEpochs} fine-tuning epoch(s) after each\n");
        sb.Append(o.Keep is null ? "  stage                     weights kept   test accuracy   test loss\n" : "  stage                     parameters kept   test accuracy   test loss\n");
        foreach (var p in r.Points)
            sb.Append(CultureInfo.InvariantCulture, $"  {p.Stage,-24}  {F(100 * p.Kept, "0.00") + "%",12}   {PruneJob.Percent(p.Accuracy),13}   {F(p.Loss, "0.0000"),9}\n");
        if (r.Channels is { } c) sb.Append(CultureInfo.InvariantCulture, $"channels: {c.After} of {c.Before} kept in the pruned layers\n");
        foreach (var kept in r.Kept) sb.Append("  kept whole: ").Append(kept).Append('\n');
        sb.Append(CultureInfo.InvariantCulture, $"parameters: {N(r.Before.Parameters)} before ({Summaries.Bytes(r.Before.DenseBytes)} as float32), ");
        sb.Append(o.Keep is null
            ? $"{N(r.After.NonzeroParameters)} not zero after ({Summaries.Bytes(r.After.SparseBytes)} stored sparse: value and index of each)\n"
            : $"{N(r.After.Parameters)} after ({Summaries.Bytes(r.After.DenseBytes)})\n");
        sb.Append(CultureInfo.InvariantCulture,
            $"inference at batch 1000: {N((long)r.SpeedBefore.SamplesPerSecond)} samples/s before, {N((long)r.SpeedAfter.SamplesPerSecond)} after " +
            $"({F(r.SpeedAfter.SamplesPerSecond / r.SpeedBefore.SamplesPerSecond, "0.00")}×)\n");
        sb.Append(CultureInfo.InvariantCulture,
            $"latency at batch 1: {F(r.SpeedBefore.LatencyMicroseconds, "0.0")} µs before, {F(r.SpeedAfter.LatencyMicroseconds, "0.0")} µs after\n");
        if (o.Keep is null) sb.Append("  (zeros are still multiplied: the dense kernels run at the same speed; the gain is in the stored size)\n");
        if (r.ModelFile is not null) sb.Append("model: ").Append(r.ModelFile).Append('\n');
        sb.Append("checkpoint: ").Append(r.Checkpoint).Append('\n');
        return sb.ToString();
    }
}
