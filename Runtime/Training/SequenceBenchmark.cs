using System.Diagnostics;
using Dlc.Compiler.Jobs;
using Dlc.Runtime.Data;

namespace Dlc.Runtime.Training;

/// <summary>
/// The benchmark of sentences of their own lengths (`task = tags`), measured as they train and evaluate: training
/// batches grouped by length and padded to their longest sentence (<see cref="SequenceBatches"/>), inference over the
/// test sentences sorted by length in batches of <see cref="SequenceBatches.EvaluationBatch"/>, and the latency of one
/// sentence of the median length. Speeds count the sentences' own words, padding left out.
/// </summary>
internal static class SequenceBenchmark
{
    public static BenchResult Run(ModelRuntime model, TrainSpec spec, JobData data, int threads, int epochs, Func<double> sinceStart,
        Action<string>? progress, bool profile)
    {
        var train = data.Train;
        using var optimizer = new Optimizer(spec.Optimizer, model.Parameters, model.Gemm.Threads);
        var rows = Math.Min(spec.Batch, train.Count);
        var sampler = new BatchSampler(train.Count, rows, shuffle: true, dropLast: false, seed: spec.Seed, train.LengthOf);
        var firstStep = double.NaN;
        var (rates, wordRates) = (new List<double>(), new List<double>());
        // The first epoch compiles a plan per padded length and warms the caches; the epochs after it are measured.
        for (var epoch = 0; epoch <= epochs; epoch++)
        {
            sampler.StartEpoch(epoch + 1);
            var clock = Stopwatch.StartNew();
            long words = 0;
            for (var b = 0; b < sampler.BatchesPerEpoch; b++)
            {
                var indices = sampler.Batch(b);
                var steps = SequenceBatches.Steps(train, indices);
                var plan = model.TrainingPlan(rows, steps);
                train.GatherSequences(indices, plan.Input(model.Input.Name), plan.Input(TrainingGraph.TargetInput), steps, rows);
                plan.Run();
                if (spec.Clip is { } clip) GradientClipping.ClipGlobalNorm(model.Parameters.Gradients.Span, clip);
                optimizer.Update();
                if (double.IsNaN(firstStep)) firstStep = sinceStart();
                foreach (var i in indices) words += train.LengthOf(i);
            }
            var seconds = clock.Elapsed.TotalSeconds;
            var (rate, wordRate) = (train.Count / seconds, words / seconds);
            progress?.Invoke(epoch == 0 ? $"warm-up epoch: {rate:N0} sentences/s, {wordRate:N0} words/s" : $"epoch {epoch}/{epochs}: {rate:N0} sentences/s, {wordRate:N0} words/s");
            if (epoch > 0)
            {
                rates.Add(rate);
                wordRates.Add(wordRate);
            }
        }

        var source = data.Test ?? train;
        var (sentenceRate, inferenceWords) = Inference(model, source);
        var median = Enumerable.Range(0, source.Count).OrderBy(source.LengthOf).ElementAt(source.Count / 2);
        var length = SequenceBatches.Steps(source.LengthOf(median));
        var latencyPlan = model.InferencePlan(1, steps: length);
        source.GatherSequences([median], latencyPlan.Input(model.Input.Name), new float[length], length, 1);
        var latency = Benchmark.Time(latencyPlan.Run, warmup: 200, runs: 2000);

        var longest = SequenceBatches.Steps(Enumerable.Range(0, train.Count).Max(train.LengthOf));
        var step = model.TrainingPlan(rows, longest);
        var stepTimes = profile ? step.Profile(20).Select(s => new StepTime(s.Step, s.Seconds * 1e6)).ToArray() : [];
        return new BenchResult(spec.Model, rows, threads, model.Gemm.Name, firstStep, rates, Benchmark.Median(rates),
            sentenceRate, SequenceBatches.EvaluationBatch, Benchmark.Median(latency) * 1e6, step.BufferBytes)
        {
            Profile = stepTimes,
            TokenUnit = "words",
            TrainTokensPerSecond = Benchmark.Median(wordRates),
            InferenceTokensPerSecond = inferenceWords,
            LatencyTokens = source.LengthOf(median),
        };
    }

    /// <summary>Sentences and words per second of one pass over <paramref name="data"/> in evaluation batches (after a pass that compiles the plans).</summary>
    private static (double Sentences, double Words) Inference(ModelRuntime model, Dataset data)
    {
        var order = Enumerable.Range(0, data.Count).OrderBy(data.LengthOf).ToArray();
        var batch = SequenceBatches.EvaluationBatch;
        var seconds = 0.0;
        long words = 0;
        // The labels are gathered with the words and not read: a forward pass has no loss.
        var labels = new float[batch * SequenceBatches.Steps(Enumerable.Range(0, data.Count).Max(data.LengthOf))];
        using var fixedWeights = model.WeightsFixed();
        for (var pass = 0; pass < 2; pass++)
        {
            var clock = Stopwatch.StartNew();
            for (var start = 0; start < order.Length; start += batch)
            {
                var indices = order.AsSpan(start, Math.Min(batch, order.Length - start));
                var steps = SequenceBatches.Steps(data, indices);
                var plan = model.InferencePlan(batch, steps: steps);
                data.GatherSequences(indices, plan.Input(model.Input.Name), labels.AsSpan(0, batch * steps), steps, batch);
                plan.Run();
                if (pass == 1) foreach (var i in indices) words += data.LengthOf(i);
            }
            seconds = clock.Elapsed.TotalSeconds;
        }
        return (data.Count / seconds, words / seconds);
    }
}
