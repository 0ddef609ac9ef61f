using System.Globalization;
using System.Text;
using Dlc.Backend.Gemm;
using Dlc.Compiler.Elaboration;
using Dlc.Compiler.Jobs;
using Dlc.Compiler.Pruning;
using Dlc.Diagnostics;
using Dlc.Formatting;
using Dlc.Runtime.Checkpoints;
using Dlc.Runtime.Data;
using Dlc.Runtime.Training;

namespace Dlc.Runtime.Pruning;

/// <summary>What `dlc prune` is asked to do; <see cref="Keep"/> set means structured pruning.</summary>
public sealed record PruneOptions(string Checkpoint, string Output, int FinetuneEpochs)
{
    /// <summary>Unstructured: the fraction of prunable weights to remove, reached over <see cref="Steps"/> steps.</summary>
    public double Sparsity { get; init; }

    public int Steps { get; init; } = 1;
    public PruningScope Scope { get; init; } = PruningScope.Global;

    /// <summary>Structured: the fraction of each layer's neurons or channels to keep.</summary>
    public double? Keep { get; init; }
}

/// <summary>Test accuracy and loss at one point of pruning, with the fraction of prunable weights kept.</summary>
public sealed record PrunePoint(string Stage, double Kept, double Loss, double? Accuracy);

/// <summary>Neurons and channels of the pruned layers, before and after.</summary>
public sealed record ChannelCounts(int Before, int After);

/// <summary>Inference speed: samples/s at batch 1000 (median) and the median latency of one sample.</summary>
public sealed record InferenceSpeed(double SamplesPerSecond, double LatencyMicroseconds);

public sealed record PruneResult(
    string Model,
    IReadOnlyList<PrunePoint> Points,
    SparsityCounts Before,
    SparsityCounts After,
    InferenceSpeed SpeedBefore,
    InferenceSpeed SpeedAfter,
    string Checkpoint)
{
    /// <summary>Structured: channels of prunable groups before and after, the new .dl file, and the groups kept whole and why.</summary>
    public ChannelCounts? Channels { get; init; }

    public string? ModelFile { get; init; }
    public IReadOnlyList<string> Kept { get; init; } = [];
}

/// <summary>
/// `dlc prune`: loads trained weights, prunes them (magnitude, iteratively, or whole channels), fine-tunes
/// with the train record's recipe, and writes the result atomically with a report of accuracy, size and speed.
/// </summary>
public static class PruneJob
{
    public const string ReportFileName = "prune-report.txt";

    public static PruneResult Run(CompiledFile file, TrainSpec spec, IGemm gemm, PruneOptions options, ITrainingObserver observer,
        Action<string> progress, CancellationToken cancel = default)
    {
        var (runtime, data) = JobSetup.Prepare(file, spec, gemm, compileForBatch: null);
        using var _ = runtime;
        var test = data.Test ?? data.Validation ?? data.Train;
        var loaded = Checkpoints.Checkpoint.LoadParameters(options.Checkpoint, runtime.ParameterSpecs());
        foreach (var tensor in loaded) tensor.Data.Span.CopyTo(runtime.Parameters.Value(tensor.Name));
        var points = new List<PrunePoint> { Point("trained", 1, runtime, test, spec) };
        progress($"trained: accuracy {Percent(points[0].Accuracy)}");
        var before = MagnitudePruning.Count(runtime.Parameters);
        Directory.CreateDirectory(options.Output);
        return options.Keep is { } keep
            ? Structured(file, spec, gemm, options, keep, runtime, test, points, before, observer, progress, cancel)
            : Unstructured(file, spec, gemm, options, runtime, data, test, points, before, observer, progress, cancel);
    }

    private static PruneResult Unstructured(CompiledFile file, TrainSpec spec, IGemm gemm, PruneOptions options, ModelRuntime runtime, JobData data, Dataset test,
        List<PrunePoint> points, SparsityCounts before, ITrainingObserver observer, Action<string> progress, CancellationToken cancel)
    {
        // The trained weights, for timing the model before pruning beside the pruned one at the end.
        using var trained = new ModelRuntime(file, spec.Model, spec.Loss, gemm, spec.Seed, labelSmoothing: spec.LabelSmoothing);
        runtime.Parameters.Values.Span.CopyTo(trained.Parameters.Values.Span);
        for (var step = 1; step <= options.Steps; step++)
        {
            var sparsity = MagnitudePruning.Schedule(options.Sparsity, step, options.Steps);
            runtime.Parameters.SetMask(MagnitudePruning.Mask(runtime.Parameters, sparsity, options.Scope));
            var kept = 1 - MagnitudePruning.Count(runtime.Parameters).Sparsity;
            points.Add(Point($"step {step}: pruned", kept, runtime, test, spec));
            progress($"step {step}/{options.Steps}: {Percent(1 - kept)} of weights removed, accuracy {Percent(points[^1].Accuracy)}");
            if (options.FinetuneEpochs == 0) continue;
            FineTune(runtime, spec, data, Path.Combine(options.Output, "finetune", $"step{step}"), Checkpoints.Checkpoint.HashSource(file.Source.Text),
                options.FinetuneEpochs, observer, cancel);
            points.Add(Point($"step {step}: fine-tuned", 1 - MagnitudePruning.Count(runtime.Parameters).Sparsity, runtime, test, spec));
            progress($"step {step}/{options.Steps}: fine-tuned {options.FinetuneEpochs} epoch(s), accuracy {Percent(points[^1].Accuracy)}");
        }
        Save(options.Output, spec.Model, file.Source.Text, runtime);
        var (speedBefore, speedAfter) = CompareSpeed(trained, test, runtime, test);
        return new PruneResult(spec.Model, points, before, MagnitudePruning.Count(runtime.Parameters), speedBefore, speedAfter,
            Path.Combine(options.Output, Checkpoints.Checkpoint.ModelFileName));
    }

    private static PruneResult Structured(CompiledFile file, TrainSpec spec, IGemm gemm, PruneOptions options, double keep, ModelRuntime original,
        Dataset originalTest, List<PrunePoint> points, SparsityCounts before, ITrainingObserver observer,
        Action<string> progress, CancellationToken cancel)
    {
        var plan = ChannelGroups.Analyze(original.Eval.Graph);
        var selection = StructuredPruning.Select(plan, original.Parameters, keep);
        var tensors = StructuredPruning.Slice(selection, original.Parameters);
        var smaller = WriteModel(file, original.Eval, selection, options, keep);
        var smallerSpec = smaller.Trains.First(t => t.Model == spec.Model) with { Seed = spec.Seed, Optimizer = spec.Optimizer, Batch = spec.Batch };
        var (runtime, data) = JobSetup.Prepare(smaller, smallerSpec, gemm, compileForBatch: null);
        using var _ = runtime;
        Checkpoints.Checkpoint.CheckFits(smaller.Source.Path, tensors, runtime.ParameterSpecs());
        foreach (var tensor in tensors) tensor.Data.Span.CopyTo(runtime.Parameters.Value(tensor.Name));
        var test = data.Test ?? data.Validation ?? data.Train;
        var after = MagnitudePruning.Count(runtime.Parameters);
        var kept = after.Parameters / (double)before.Parameters;
        points.Add(Point("pruned", kept, runtime, test, smallerSpec));
        progress($"pruned to {selection.ChannelsAfter} of {selection.ChannelsBefore} channels: accuracy {Percent(points[^1].Accuracy)}");
        if (options.FinetuneEpochs > 0)
        {
            FineTune(runtime, smallerSpec, data, options.Output, Checkpoints.Checkpoint.HashSource(smaller.Source.Text), options.FinetuneEpochs, observer, cancel);
            points.Add(Point("fine-tuned", kept, runtime, test, smallerSpec));
            progress($"fine-tuned {options.FinetuneEpochs} epoch(s): accuracy {Percent(points[^1].Accuracy)}");
        }
        else
        {
            Save(options.Output, spec.Model, smaller.Source.Text, runtime);
        }
        var (speedBefore, speedAfter) = CompareSpeed(original, originalTest, runtime, test);
        return new PruneResult(spec.Model, points, before, after, speedBefore, speedAfter, Path.Combine(options.Output, Checkpoints.Checkpoint.ModelFileName))
        {
            Channels = new ChannelCounts(selection.ChannelsBefore, selection.ChannelsAfter),
            ModelFile = smaller.Source.Path,
            Kept = plan.Groups.Where(g => g.Frozen).Select(g => $"{string.Join(", ", g.Producers)} ({g.Channels}): {g.FrozenBecause}").ToArray(),
        };
    }

    /// <summary>The smaller model's .dl: the source with new widths, a comment saying where it came from, formatted and compiled.</summary>
    private static CompiledFile WriteModel(CompiledFile file, ModelGraph model, ChannelSelection selection, PruneOptions options, double keep)
    {
        var text = WidthEditor.Rewrite(file, model, selection.Widths());
        var header = $"// Pruned from {Path.GetFileName(file.Source.Path)} by `dlc prune --structured --keep {keep.ToString(CultureInfo.InvariantCulture)}`: " +
                     $"{selection.ChannelsAfter} of {selection.ChannelsBefore} neurons and channels kept.\n";
        var path = Path.Combine(options.Output, Path.GetFileName(file.Source.Path));
        if (Path.GetFullPath(path) == Path.GetFullPath(file.Source.Path))
            throw new DataException(DataException.WriteFailed, path, $"--out {options.Output} would overwrite {file.Source.Path} with the pruned model",
                "give another folder");
        var source = new SourceText(path, header + WidthEditor.RebasePaths(text, file.Source.Path, options.Output));
        if (DlFormatter.Format(source) is { Text: { } formatted }) source = new SourceText(path, formatted);
        var compiled = ProgramCompiler.Compile(source);
        if (compiled.HasErrors)
            throw new InvalidOperationException($"the pruned model does not compile: {string.Join("; ", compiled.Diagnostics.Select(d => d.Message))}");
        AtomicFile.WriteAllBytes(path, new UTF8Encoding(false).GetBytes(source.Text));
        return compiled;
    }

    private static void FineTune(ModelRuntime runtime, TrainSpec spec, JobData data, string folder, string hash, int epochs, ITrainingObserver observer,
        CancellationToken cancel)
    {
        var settings = new Dictionary<string, string>
        {
            ["model"] = spec.Model,
            ["epochs"] = epochs.ToString(CultureInfo.InvariantCulture),
            ["batch"] = spec.Batch.ToString(CultureInfo.InvariantCulture),
            ["seed"] = spec.Seed.ToString(CultureInfo.InvariantCulture),
        };
        Directory.CreateDirectory(folder);
        Trainer.Run(runtime, spec with { Epochs = epochs, EarlyStopping = null }, data, new RunContext(folder, hash, settings, () => 0), observer, cancel);
    }

    private static void Save(string folder, string model, string source, ModelRuntime runtime)
    {
        var noSymbols = new Dictionary<string, int>();
        var parameters = runtime.Parameters.Parameters
            .Select(p => new NamedTensor(p.Name, p.Shape.Bind(noSymbols), runtime.Parameters.Value(p.Name).ToArray())).ToArray();
        Checkpoints.Checkpoint.Save(folder, new CheckpointState { ModelName = model, SourceHash = Checkpoints.Checkpoint.HashSource(source), Parameters = parameters });
    }

    private static PrunePoint Point(string stage, double kept, ModelRuntime runtime, Dataset test, TrainSpec spec)
    {
        var result = Evaluator.Evaluate(runtime, test);
        return new PrunePoint(stage, kept, result.Loss, result.Accuracy);
    }

    /// <summary>
    /// Inference samples/s at batch 1000 and batch-1 latency of each model, measured in alternating rounds and
    /// keeping each one's fastest round: on a shared machine the least disturbed run is the fairest comparison.
    /// </summary>
    public static (InferenceSpeed First, InferenceSpeed Second) CompareSpeed(ModelRuntime first, Dataset firstData, ModelRuntime second, Dataset secondData,
        int rounds = 5)
    {
        var a = Timed(first, firstData);
        var b = Timed(second, secondData);
        double aBatch = double.MaxValue, aOne = double.MaxValue, bBatch = double.MaxValue, bOne = double.MaxValue;
        for (var r = 0; r < rounds; r++)
        {
            aBatch = Math.Min(aBatch, Benchmark.Time(a.Batch, warmup: 2, runs: 20).Min());
            bBatch = Math.Min(bBatch, Benchmark.Time(b.Batch, warmup: 2, runs: 20).Min());
            aOne = Math.Min(aOne, Benchmark.Time(a.One, warmup: 100, runs: 1000).Min());
            bOne = Math.Min(bOne, Benchmark.Time(b.One, warmup: 100, runs: 1000).Min());
        }
        return (new InferenceSpeed(a.Size / aBatch, aOne * 1e6), new InferenceSpeed(b.Size / bBatch, bOne * 1e6));
    }

    private static (int Size, Action Batch, Action One) Timed(ModelRuntime runtime, Dataset data)
    {
        var size = Math.Min(1000, data.Count);
        var plan = runtime.InferencePlan(size);
        var all = Enumerable.Range(0, size).ToArray();
        var target = new float[size];
        data.Gather(all, plan.Input(runtime.Input.Name), target);
        var single = runtime.InferencePlan(1);
        data.Gather(all.AsSpan(0, 1), single.Input(runtime.Input.Name), target.AsSpan(0, 1));
        return (size, plan.Run, single.Run);
    }

    public static string Percent(double? fraction) =>
        fraction is { } f ? (100 * f).ToString("0.00", CultureInfo.InvariantCulture) + "%" : "-";
}
