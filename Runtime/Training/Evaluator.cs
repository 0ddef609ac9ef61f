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
}

/// <summary>Runs evaluation-mode plans over a data set in large batches (dropout off, no gradients).</summary>
public static class Evaluator
{
    public const int DefaultBatch = 1000;

    /// <param name="topK">k of a top-k accuracy to count as well (a record's `topK k`), or 0.</param>
    public static EvalResult Evaluate(ModelRuntime model, Dataset data, int batch = DefaultBatch, int topK = 0)
    {
        // Sentences of their own lengths run in order of length, in batches of a few padded to their longest.
        var sequences = data.HasLengths;
        if (sequences) batch = SequenceBatches.EvaluationBatch;
        var rows = Math.Min(batch, data.Count);
        var order = Enumerable.Range(0, data.Count).ToArray();
        if (sequences) order = order.OrderBy(data.LengthOf).ToArray();
        double lossSum = 0, weightSum = 0;
        long correct = 0, inTopK = 0, positions = 0;
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
                data.Gather(indices, plan.Input(model.Input.Name), plan.Input(TrainingGraph.TargetInput));
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
                positions += Metrics.CountLabelled(targets);
            }
        }
        var accuracy = model.Loss == LossKind.CrossEntropy ? correct / (double)positions : (double?)null;
        var classify = model.Loss == LossKind.CrossEntropy && topK > 0;
        return new EvalResult(data.Name, data.Count, lossSum / weightSum, accuracy)
        {
            Positions = positions,
            K = classify ? topK : 0,
            TopKAccuracy = classify ? inTopK / (double)positions : null,
        };
    }
}
