using System.Diagnostics;
using Dlc.Backend.Plans;
using Dlc.Compiler.Jobs;
using Dlc.Runtime.Data;

namespace Dlc.Runtime.Training;

/// <summary>Figures of one benchmark run; throughput is a median, so one slow epoch does not decide it.</summary>
public sealed record BenchResult(
    string Model,
    int Batch,
    int Threads,
    string Gemm,
    double SecondsToFirstStep,
    IReadOnlyList<double> EpochSamplesPerSecond,
    double TrainSamplesPerSecond,
    double InferenceSamplesPerSecond,
    int InferenceBatch,
    double LatencyMicroseconds,
    long TrainStepBytes)
{
    /// <summary>Tokens per sample of a language model (its sequence length), else 1.</summary>
    public int TokensPerSample { get; init; } = 1;

    /// <summary>What the tokens are (`chars`, `words`, `tokens`), for a language model or sentences to tag; null for other data.</summary>
    public string? TokenUnit { get; init; }

    /// <summary>Training tokens per second (of a language model, or the words of sentences to tag); null for other models.</summary>
    public double? TrainTokensPerSecond { get; init; }

    /// <summary>Inference tokens per second (sentences to tag: their words); null when the samples are not sentences.</summary>
    public double? InferenceTokensPerSecond { get; init; }

    /// <summary>The words of the sentence the latency is measured on (sentences to tag); null for other data.</summary>
    public int? LatencyTokens { get; init; }

    /// <summary>
    /// Training samples per second at the median step of the timed epochs (full batches only: gathering, the step and
    /// the update), the statistic PyTorch's peer reports for its sequence and encoder cases; null when no step was timed.
    /// </summary>
    public double? TrainMedianStepSamplesPerSecond { get; init; }

    /// <summary>The same in tokens (a language model's positions); null for other models.</summary>
    public double? TrainMedianStepTokensPerSecond { get; init; }

    /// <summary>
    /// Inference samples per second at <see cref="SmallBatch"/> (a server's or an agent's batch, whose products have fewer
    /// rows than the blocked kernels' tiles want); null when the inference batch is not larger.
    /// </summary>
    public double? SmallBatchSamplesPerSecond { get; init; }

    /// <summary>The batch <see cref="SmallBatchSamplesPerSecond"/> is measured at; null with it.</summary>
    public int? SmallBatch { get; init; }

    /// <summary>Mean time of each step of one training step, slowest first (with `--profile`).</summary>
    public IReadOnlyList<StepTime> Profile { get; init; } = [];
}

public sealed record StepTime(string Step, double Microseconds);

/// <summary>
/// Measures a model the way the reference peer measures PyTorch: training samples/s over whole epochs
/// of real data (gathering batches included, evaluation excluded), inference samples/s on a batch of
/// 1000 (of 16,384 positions for a language model) and on a batch of 32, and the latency of one sample.
/// </summary>
public static class Benchmark
{
    // The small batch inference is also timed at: products of 32 rows take the kernels' few-rows paths, which neither
    // the batch of 1000 nor the batch of 1 runs (one of them once ran 4 times slower with neither figure moving).
    private const int SmallBatch = 32;

    public static BenchResult Run(ModelRuntime model, TrainSpec spec, JobData data, int threads, int epochs, Func<double> sinceStart,
        Action<string>? progress = null, bool profile = false)
    {
        if (data.Train.HasLengths) return SequenceBenchmark.Run(model, spec, data, threads, epochs, sinceStart, progress, profile);
        using var optimizer = new Optimizer(spec.Optimizer, model.Parameters, model.Gemm.Threads);
        var sampler = new BatchSampler(data.Train.Count, spec.Batch, shuffle: true, dropLast: false, seed: spec.Seed);
        // A step costs what it costs in training: augmentation and clipping included.
        var augment = spec.Augment is { } a ? new ImageAugmentation(a.CropPadding, a.Flip, data.Train.SampleShape, spec.Seed) : null;
        var firstStep = double.NaN;
        var rates = new List<double>();
        var stepSeconds = new List<double>();
        for (var epoch = 0; epoch <= epochs; epoch++)
        {
            sampler.StartEpoch(epoch + 1);
            augment?.StartEpoch(epoch + 1);
            var clock = Stopwatch.StartNew();
            for (var b = 0; b < sampler.BatchesPerEpoch; b++)
            {
                var stepStart = Stopwatch.GetTimestamp();
                var indices = sampler.Batch(b);
                var plan = model.TrainingPlan(indices.Length);
                model.Gather(data.Train, indices, plan, plan.Input(TrainingGraph.TargetInput), augment);
                plan.Run();
                if (spec.Clip is { } clip) GradientClipping.ClipGlobalNorm(model.Parameters.Gradients.Span, clip);
                optimizer.Update();
                if (epoch > 0 && indices.Length == spec.Batch) stepSeconds.Add(Stopwatch.GetElapsedTime(stepStart).TotalSeconds);
                if (double.IsNaN(firstStep)) firstStep = sinceStart();
            }
            var rate = data.Train.Count / clock.Elapsed.TotalSeconds;
            progress?.Invoke(epoch == 0 ? $"warm-up epoch: {rate:N0} samples/s" : $"epoch {epoch}/{epochs}: {rate:N0} samples/s");
            if (epoch > 0) rates.Add(rate);
        }

        var source = data.Test ?? data.Train;
        // A plan holds every value of every position at once (and the GEMM trial compiles one per provider), so a
        // language model's batch is capped at 16,384 positions: 1000 sequences of 128 would need gigabytes.
        var tokens = data.TokenUnit is null ? 1 : data.Train.TargetSize;
        var inferenceBatch = Math.Min(tokens > 1 ? Math.Max(1, 16384 / tokens) : 1000, source.Count);
        ExecutionPlan inference, latencyPlan;
        List<double> inferenceTimes, latencyTimes;
        List<double>? smallTimes = null;
        // Inference reads the weights packed once, as eval's does.
        using (model.WeightsFixed())
        {
            inference = model.InferencePlan(inferenceBatch);
            var all = Enumerable.Range(0, inferenceBatch).ToArray();
            var scratchTarget = new float[inferenceBatch * source.TargetSize];
            model.Gather(source, all, inference, scratchTarget);
            inferenceTimes = Time(inference.Run, warmup: 20, runs: 200);
            if (inferenceBatch > SmallBatch)
            {
                var small = model.InferencePlan(SmallBatch);
                model.Gather(source, all.AsSpan(0, SmallBatch), small, scratchTarget.AsSpan(0, SmallBatch * source.TargetSize));
                smallTimes = Time(small.Run, warmup: 200, runs: 2000);
            }
            latencyPlan = model.InferencePlan(1);
            model.Gather(source, all.AsSpan(0, 1), latencyPlan, scratchTarget.AsSpan(0, source.TargetSize));
            latencyTimes = Time(latencyPlan.Run, warmup: 2000, runs: 20000);
        }

        var steps = profile
            ? model.TrainingPlan(spec.Batch).Profile(200).Select(s => new StepTime(s.Step, s.Seconds * 1e6)).ToArray()
            : [];
        var gemm = model.Gemm.Name == model.TrainingPlan(spec.Batch).GemmName
            ? model.Gemm.Name
            : $"{model.Gemm.Name}: {model.TrainingPlan(spec.Batch).GemmName} for training, {inference.GemmName} for inference, {latencyPlan.GemmName} at batch 1";
        return new BenchResult(spec.Model, spec.Batch, threads, gemm, firstStep, rates, Median(rates),
            inferenceBatch / Median(inferenceTimes), inferenceBatch, Median(latencyTimes) * 1e6, model.TrainingPlan(spec.Batch).BufferBytes)
        {
            Profile = steps,
            SmallBatchSamplesPerSecond = smallTimes is null ? null : SmallBatch / Median(smallTimes),
            SmallBatch = smallTimes is null ? null : SmallBatch,
            TokensPerSample = tokens,
            TokenUnit = data.TokenUnit switch { Training.TokenUnit.Character => "chars", Training.TokenUnit.Word => "words", Training.TokenUnit.Token => "tokens", _ => null },
            TrainTokensPerSecond = tokens > 1 ? Median(rates) * tokens : null,
            TrainMedianStepSamplesPerSecond = stepSeconds.Count > 0 ? spec.Batch / Median(stepSeconds) : null,
            TrainMedianStepTokensPerSecond = stepSeconds.Count > 0 && tokens > 1 ? (double)spec.Batch * tokens / Median(stepSeconds) : null,
        };
    }

    /// <summary>
    /// Seconds per call of each timed run: up to <paramref name="runs"/> runs after the warm-up, stopping
    /// early (after at least 5) once about two seconds have gone, so a slow model is measured in seconds too.
    /// </summary>
    internal static List<double> Time(Action run, int warmup, int runs)
    {
        var budget = Stopwatch.StartNew();
        for (var i = 0; i < warmup && (i < 2 || budget.Elapsed.TotalSeconds < 1); i++) run();
        budget.Restart();
        var times = new List<double>(runs);
        for (var i = 0; i < runs && (i < 5 || budget.Elapsed.TotalSeconds < 2); i++)
        {
            var start = Stopwatch.GetTimestamp();
            run();
            times.Add(Stopwatch.GetElapsedTime(start).TotalSeconds);
        }
        return times;
    }

    public static double Median(IReadOnlyList<double> values)
    {
        if (values.Count == 0) return double.NaN;
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
