using Dlc.Backend.Kernels;
using Dlc.Compiler.Elaboration;
using Dlc.Compiler.Jobs;
using Dlc.Runtime.Data;

namespace Dlc.Runtime.Training;

/// <summary>Loss and accuracy of a model over a whole data set.</summary>
public sealed record EvalResult(string Dataset, int Samples, double Loss, double? Accuracy)
{
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
        var sampler = new BatchSampler(data.Count, Math.Min(batch, data.Count), shuffle: false, dropLast: false, seed: 0);
        sampler.StartEpoch(0);
        double lossSum = 0;
        long correct = 0, inTopK = 0, positions = 0;
        for (var b = 0; b < sampler.BatchesPerEpoch; b++)
        {
            var indices = sampler.Batch(b);
            var plan = model.InferencePlan(indices.Length, withLoss: true);
            data.Gather(indices, plan.Input(model.Input.Name), plan.Input(TrainingGraph.TargetInput));
            plan.Run();
            lossSum += plan.Scalar(TrainingGraph.LossOutput) * indices.Length;
            if (model.Loss == LossKind.CrossEntropy)
            {
                var (rows, cols) = Trainer.Rows(plan.OutputShape(ModelGraph.OutputName));
                correct += Metrics.CountCorrect(plan.Output(ModelGraph.OutputName), plan.Input(TrainingGraph.TargetInput), rows, cols);
                if (topK > 0) inTopK += Metrics.CountTopK(plan.Output(ModelGraph.OutputName), plan.Input(TrainingGraph.TargetInput), rows, cols, topK);
                positions += rows;
            }
        }
        var accuracy = model.Loss == LossKind.CrossEntropy ? correct / (double)positions : (double?)null;
        var classify = model.Loss == LossKind.CrossEntropy && topK > 0;
        return new EvalResult(data.Name, data.Count, lossSum / data.Count, accuracy)
        {
            K = classify ? topK : 0,
            TopKAccuracy = classify ? inTopK / (double)positions : null,
        };
    }
}
