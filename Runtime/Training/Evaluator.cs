using Dlc.Backend.Kernels;
using Dlc.Compiler.Elaboration;
using Dlc.Compiler.Jobs;
using Dlc.Runtime.Data;

namespace Dlc.Runtime.Training;

/// <summary>Loss and accuracy of a model over a whole data set.</summary>
public sealed record EvalResult(string Dataset, int Samples, double Loss, double? Accuracy);

/// <summary>Runs evaluation-mode plans over a data set in large batches (dropout off, no gradients).</summary>
public static class Evaluator
{
    public const int DefaultBatch = 1000;

    public static EvalResult Evaluate(ModelRuntime model, Dataset data, int batch = DefaultBatch)
    {
        var sampler = new BatchSampler(data.Count, Math.Min(batch, data.Count), shuffle: false, dropLast: false, seed: 0);
        sampler.StartEpoch(0);
        double lossSum = 0;
        long correct = 0;
        for (var b = 0; b < sampler.BatchesPerEpoch; b++)
        {
            var indices = sampler.Batch(b);
            var plan = model.InferencePlan(indices.Length, withLoss: true);
            data.Gather(indices, plan.Input(model.Input.Name), plan.Input(TrainingGraph.TargetInput));
            plan.Run();
            lossSum += plan.Scalar(TrainingGraph.LossOutput) * indices.Length;
            if (model.Loss == LossKind.CrossEntropy)
            {
                var shape = plan.OutputShape(ModelGraph.OutputName);
                correct += Metrics.CountCorrect(plan.Output(ModelGraph.OutputName), plan.Input(TrainingGraph.TargetInput), shape[0], shape[1]);
            }
        }
        var accuracy = model.Loss == LossKind.CrossEntropy ? correct / (double)data.Count : (double?)null;
        return new EvalResult(data.Name, data.Count, lossSum / data.Count, accuracy);
    }
}
