using Dlc.Backend.Kernels;
using Dlc.Backend.Plans;
using Dlc.Compiler.Elaboration;
using Dlc.Compiler.Jobs;
using Dlc.Runtime.Data;

namespace Dlc.Runtime.Training;

/// <summary>Loss and accuracy of a model over a whole data set.</summary>
public sealed record EvalResult(string Dataset, int Samples, double Loss, double? Accuracy)
{
    /// <summary>The positions scored (words of sentences, padding excepted); the samples for one score per sample.</summary>
    public long Positions { get; init; }

    /// <summary>The k of <see cref="TopKAccuracy"/>; 0 when the record asks for no top-k metric.</summary>
    public int K { get; init; }

    /// <summary>The fraction of samples whose label is among the K highest scores.</summary>
    public double? TopKAccuracy { get; init; }

    /// <summary>A classifier's per-class precision, recall and F1, and their macro mean.</summary>
    public ClassificationReport? Report { get; init; }

    /// <summary>A forecaster's errors in the series' units, next to the naive last-value forecast's.</summary>
    public ForecastErrors? Forecast { get; init; }

    /// <summary>
    /// Pairs of sequences decoded: the fraction of samples whose greedily decoded target (no teacher forcing) equals
    /// theirs exactly (<see cref="GreedyDecoder"/>); null when not decoded.
    /// </summary>
    public double? ExactMatch { get; init; }
}

/// <summary>Runs evaluation-mode plans over a data set in large batches (dropout off, no gradients).</summary>
public static class Evaluator
{
    public const int DefaultBatch = 1000;

    /// <param name="topK">k of a top-k accuracy to count as well (a record's `topK k`), or 0.</param>
    /// <param name="scale">For a time series: how its values were scaled, to report errors in its own units.</param>
    /// <param name="decode">For pairs of sequences: also decode every source greedily and count the exact matches.</param>
    public static EvalResult Evaluate(ModelRuntime model, Dataset data, int batch = DefaultBatch, int topK = 0, SeriesScale? scale = null, bool decode = false)
    {
        // Sentences of their own lengths run in order of length, in batches of a few padded to their longest.
        var sequences = data.HasLengths;
        if (sequences) batch = SequenceBatches.EvaluationBatch;
        var rows = Math.Min(batch, data.Count);
        var order = Enumerable.Range(0, data.Count).ToArray();
        if (sequences) order = order.OrderBy(data.LengthOf).ToArray();
        double lossSum = 0, weightSum = 0;
        long correct = 0, inTopK = 0, positions = 0;
        long[]? confusion = null;
        var forecast = scale is null ? null : new ForecastSums();
        using var fixedWeights = model.WeightsFixed();
        for (var start = 0; start < order.Length; start += rows)
        {
            var indices = order.AsSpan(start, Math.Min(rows, order.Length - start));
            ExecutionPlan plan;
            if (sequences)
            {
                var steps = SequenceBatches.Steps(data, indices);
                plan = model.InferencePlan(rows, withLoss: true, steps);
                data.GatherSequences(indices, plan.Input(model.Input.Name), plan.Input(TrainingGraph.TargetInput), steps, rows);
            }
            else
            {
                plan = model.InferencePlan(indices.Length, withLoss: true);
                model.Gather(data, indices, plan, plan.Input(TrainingGraph.TargetInput));
            }
            plan.Run();
            // A mean over the batch's samples, or over its words when padding is left out of the loss.
            double weight = sequences ? Metrics.CountLabelled(plan.Input(TrainingGraph.TargetInput)) : indices.Length;
            lossSum += plan.Scalar(TrainingGraph.LossOutput) * weight;
            weightSum += weight;
            if (model.Loss == LossKind.CrossEntropy)
            {
                var (scoreRows, cols) = Trainer.Rows(plan.OutputShape(ModelGraph.OutputName));
                var targets = plan.Input(TrainingGraph.TargetInput);
                correct += Metrics.CountCorrect(plan.Output(ModelGraph.OutputName), targets, scoreRows, cols);
                if (topK > 0) inTopK += Metrics.CountTopK(plan.Output(ModelGraph.OutputName), targets, scoreRows, cols, topK);
                confusion ??= new long[cols * cols];
                Metrics.CountConfusion(plan.Output(ModelGraph.OutputName), targets, scoreRows, cols, confusion);
                positions += Metrics.CountLabelled(targets);
            }
            forecast?.Add(plan.Input(model.Input.Name), plan.Output(ModelGraph.OutputName), plan.Input(TrainingGraph.TargetInput), indices.Length);
        }
        var accuracy = model.Loss == LossKind.CrossEntropy ? correct / (double)positions : (double?)null;
        var classify = model.Loss == LossKind.CrossEntropy && topK > 0;
        var classes = confusion is null ? 0 : (int)Math.Sqrt(confusion.Length);
        return new EvalResult(data.Name, data.Count, lossSum / weightSum, accuracy)
        {
            Positions = positions,
            K = classify ? topK : 0,
            TopKAccuracy = classify ? inTopK / (double)positions : null,
            // Per-character precision says little about translations: their exact matches do.
            Report = confusion is null || data.Pairs is not null ? null : ClassificationReport.From(confusion, classes, data.ClassNames),
            Forecast = forecast?.Errors(scale!),
            ExactMatch = decode && data.Pairs is not null ? GreedyDecoder.CountExactMatches(model, data, batch) / (double)data.Count : null,
        };
    }

    /// <summary>Absolute and squared errors of the model and of the last value of each window, in scaled units.</summary>
    private sealed class ForecastSums
    {
        private double _model, _naive, _modelSquared, _naiveSquared;
        private long _count;

        public void Add(ReadOnlySpan<float> windows, ReadOnlySpan<float> predictions, ReadOnlySpan<float> targets, int samples)
        {
            var window = windows.Length / samples;
            var horizon = targets.Length / samples;
            for (var i = 0; i < samples; i++)
            {
                var last = windows[i * window + window - 1];
                for (var k = 0; k < horizon; k++)
                {
                    double target = targets[i * horizon + k];
                    var model = predictions[i * horizon + k] - target;
                    var naive = last - target;
                    _model += Math.Abs(model);
                    _naive += Math.Abs(naive);
                    _modelSquared += model * model;
                    _naiveSquared += naive * naive;
                    _count++;
                }
            }
        }

        public ForecastErrors Errors(SeriesScale scale) => new(
            scale.Std * _model / _count, scale.Std * _naive / _count,
            scale.Std * Math.Sqrt(_modelSquared / _count), scale.Std * Math.Sqrt(_naiveSquared / _count));
    }
}
