using System.Diagnostics;
using Dlc.Backend.Kernels;
using Dlc.Backend.Plans;
using Dlc.Compiler.Elaboration;
using Dlc.Compiler.Jobs;
using Dlc.Runtime.Checkpoints;
using Dlc.Runtime.Data;

namespace Dlc.Runtime.Training;

/// <summary>Per-epoch figures, as metrics.csv and the console show them; the learning rate is that of the epoch's last step.</summary>
public sealed record EpochMetrics(
    int Epoch, long Step, double TrainLoss, double? TrainAccuracy, EvalResult? Validation, double Seconds, double SamplesPerSecond, double LearningRate)
{
    /// <summary>The validation loss of this epoch is the lowest so far (best.safetensors now holds this epoch).</summary>
    public bool IsBest { get; init; }

    /// <summary>
    /// Tokens scored per sample of a language model (its sequence length), else 1. Its losses are then nats per
    /// token: <see cref="BitsPerChar"/> gives a character model's in bits, <see cref="Perplexity"/> a word model's
    /// as perplexity.
    /// </summary>
    public int TokensPerSample { get; init; } = 1;

    /// <summary>What a language model's tokens are.</summary>
    public TokenUnit Unit { get; init; } = TokenUnit.Character;

    public bool IsLanguageModel => TokensPerSample > 1;

    public static double BitsPerChar(double nats) => nats / Math.Log(2);

    /// <summary>exp of the mean loss in nats per word: the number of equally likely words the model is as unsure as.</summary>
    public static double Perplexity(double nats) => Math.Exp(nats);
}

/// <summary>What the trainer tells whoever shows progress (a progress bar, plain lines, nothing).</summary>
public interface ITrainingObserver
{
    void Started(TrainStart start);

    void BatchDone(int epoch, int batch, int batches, double loss);

    void EpochDone(EpochMetrics metrics);
}

public sealed record TrainStart(string Model, string RunDirectory, int Epochs, int FirstEpoch, int BatchesPerEpoch, int TrainSamples, int? ValidationSamples, long Parameters);

public sealed record TrainResult(string RunDirectory, IReadOnlyList<EpochMetrics> Epochs, EvalResult? Test, double SecondsToFirstStep)
{
    /// <summary>The best validation loss and its epoch (epoch 0: no validation set).</summary>
    public ValidationRecord Best { get; init; } = ValidationRecord.None;

    /// <summary>The last epoch trained when early stopping ended the run before its last epoch.</summary>
    public int? StoppedEarlyAfter { get; init; }

    public string? BestCheckpoint => Best.BestEpoch > 0 ? Path.Combine(RunDirectory, Checkpoint.BestFileName) : null;
}

/// <summary>
/// The training loop: shuffled batches gathered into the plan's input buffers, one compiled step per
/// batch, one fused optimiser update, evaluation and an atomic checkpoint after every epoch.
/// </summary>
public static class Trainer
{
    public static TrainResult Run(ModelRuntime model, TrainSpec spec, JobData data, RunContext run, ITrainingObserver observer,
        CancellationToken cancel = default)
    {
        using var optimizer = new Optimizer(spec.Optimizer, model.Parameters, model.Gemm.Threads);
        var firstEpoch = 1;
        if (run.Resume is { } resume)
        {
            resume.Parameters.ToList().ForEach(t => t.Data.Span.CopyTo(model.Parameters.Value(t.Name)));
            optimizer.Restore(resume.OptimizerState, resume.Step);
            if (resume.RngState.Length > 0) model.DropoutRng.SetState(resume.RngState);
            firstEpoch = resume.Epoch + 1;
        }

        // Sentences of their own lengths are batched by length, padded to each batch's longest and filled to a full batch.
        var sequences = data.Train.HasLengths;
        var rows = Math.Min(spec.Batch, data.Train.Count);
        var sampler = new BatchSampler(data.Train.Count, rows, shuffle: true, dropLast: false, seed: spec.Seed,
            sequences ? data.Train.LengthOf : null);
        // Augmentation draws from its own stream per epoch, so it changes neither shuffling nor dropout.
        var augment = spec.Augment is { } a ? new ImageAugmentation(a.CropPadding, a.Flip, data.Train.SampleShape, spec.Seed) : null;
        var schedule = new LearningRateSchedule(spec.Schedule, spec.Optimizer.LearningRate, sampler.BatchesPerEpoch, spec.Epochs);
        observer.Started(new TrainStart(spec.Model, run.Directory, spec.Epochs, firstEpoch, sampler.BatchesPerEpoch, data.Train.Count,
            data.Validation?.Count, model.Parameters.Count));
        var metricsPath = Path.Combine(run.Directory, "metrics.csv");
        // A resumed run continues its metrics.csv; a fresh run in an existing folder starts it anew, as it does the checkpoint.
        if (run.Resume is null && File.Exists(metricsPath)) File.Delete(metricsPath);
        using var metrics = new MetricsCsvWriter(metricsPath);
        var epochs = new List<EpochMetrics>();
        var firstStep = double.NaN;
        var classify = model.Loss == LossKind.CrossEntropy;
        var watch = new ValidationWatch(spec.EarlyStopping, run.Resume?.Validation ?? ValidationRecord.None);
        int? stoppedEarly = watch.ShouldStop ? firstEpoch - 1 : null;

        for (var epoch = firstEpoch; epoch <= spec.Epochs && stoppedEarly is null; epoch++)
        {
            sampler.StartEpoch(epoch);
            augment?.StartEpoch(epoch);
            var clock = Stopwatch.StartNew();
            double lossSum = 0, weightSum = 0;
            long correct = 0, seen = 0, positions = 0;
            for (var b = 0; b < sampler.BatchesPerEpoch; b++)
            {
                cancel.ThrowIfCancellationRequested();
                var indices = sampler.Batch(b);
                ExecutionPlan plan;
                if (sequences)
                {
                    var steps = SequenceBatches.Steps(data.Train, indices);
                    plan = model.TrainingPlan(rows, steps);
                    data.Train.GatherSequences(indices, plan.Input(model.Input.Name), plan.Input(TrainingGraph.TargetInput), steps, rows);
                }
                else
                {
                    plan = model.TrainingPlan(indices.Length);
                    model.Gather(data.Train, indices, plan, plan.Input(TrainingGraph.TargetInput), augment);
                }
                plan.Run();
                if (spec.Clip is { } clip) GradientClipping.ClipGlobalNorm(model.Parameters.Gradients.Span, clip);
                optimizer.LearningRate = schedule.At(optimizer.Step);
                optimizer.Update();
                if (double.IsNaN(firstStep)) firstStep = run.SinceStart();
                var loss = plan.Scalar(TrainingGraph.LossOutput);
                // The loss is a mean over the batch's samples, or over its words when padding is left out of it.
                double weight = sequences ? Metrics.CountLabelled(plan.Input(TrainingGraph.TargetInput)) : indices.Length;
                lossSum += loss * weight;
                weightSum += weight;
                seen += indices.Length;
                if (classify)
                {
                    // Scores per position of a sequence [N, T, C] count each position (padding excepted).
                    var (scoreRows, cols) = Rows(plan.OutputShape(ModelGraph.OutputName));
                    var targets = plan.Input(TrainingGraph.TargetInput);
                    correct += Metrics.CountCorrect(plan.Output(ModelGraph.OutputName), targets, scoreRows, cols);
                    positions += Metrics.CountLabelled(targets);
                }
                if (!float.IsFinite(loss)) throw new TrainingDivergedException(epoch, b + 1, loss);
                observer.BatchDone(epoch, b + 1, sampler.BatchesPerEpoch, loss);
            }
            var seconds = clock.Elapsed.TotalSeconds;
            var validation = data.Validation is null ? null : Evaluator.Evaluate(model, data.Validation, topK: spec.TopK?.K ?? 0);
            var best = validation is not null && watch.Observe(epoch, validation.Loss);
            var lr = optimizer.LearningRate ?? spec.Optimizer.LearningRate;
            var m = new EpochMetrics(epoch, optimizer.Step, lossSum / weightSum, classify ? correct / (double)positions : null, validation,
                seconds, seen / seconds, lr)
            {
                IsBest = best,
                TokensPerSample = data.TokenUnit is null ? 1 : data.Train.TargetSize,
                Unit = data.TokenUnit ?? TokenUnit.Character,
            };
            epochs.Add(m);
            metrics.Append(new MetricsRow(m.Epoch, m.Step, m.TrainLoss, m.TrainAccuracy, validation?.Loss, validation?.Accuracy,
                m.LearningRate, m.Seconds, m.SamplesPerSecond));
            Save(model, optimizer, run, spec, epoch, watch.Record, best, data);
            observer.EpochDone(m);
            if (watch.ShouldStop && epoch < spec.Epochs) stoppedEarly = epoch;
        }

        var test = data.Test is null ? null : Evaluator.Evaluate(model, data.Test, topK: spec.TopK?.K ?? 0, scale: data.Scale, decode: true);
        return new TrainResult(run.Directory, epochs, test, firstStep) { Best = watch.Record, StoppedEarlyAfter = stoppedEarly };
    }

    /// <summary>Scores [R, C] with every axis before the last folded into rows R.</summary>
    internal static (int Rows, int Cols) Rows(int[] shape) => (shape[..^1].Aggregate(1, (a, d) => a * d), shape[^1]);

    /// <summary>The epoch's checkpoint, and best.safetensors first when this epoch is the best so far.</summary>
    private static void Save(ModelRuntime model, Optimizer optimizer, RunContext run, TrainSpec spec, int epoch, ValidationRecord validation, bool best,
        JobData data)
    {
        var noSymbols = new Dictionary<string, int>();
        var parameters = model.Parameters.Parameters
            .Select(p => new NamedTensor(p.Name, p.Shape.Bind(noSymbols), model.Parameters.Value(p.Name).ToArray()))
            .ToArray();
        var state = new CheckpointState
        {
            ModelName = spec.Model,
            SourceHash = run.SourceHash,
            Parameters = parameters,
            OptimizerState = optimizer.State(),
            Step = optimizer.Step,
            Epoch = epoch,
            RngState = model.DropoutRng.GetState(),
            TrainSettings = run.Settings,
            Validation = validation,
            Vocabulary = data.Vocabulary?.Characters,
            Words = data.Words?.Serialize(),
            Tokens = data.Tokens?.Serialize(),
        };
        if (best) Checkpoint.SaveBest(run.Directory, state);
        Checkpoint.Save(run.Directory, state);
    }
}

/// <summary>Where a run writes, and what it resumes from.</summary>
public sealed record RunContext(string Directory, string SourceHash, IReadOnlyDictionary<string, string> Settings, Func<double> SinceStart)
{
    public CheckpointState? Resume { get; init; }
}

/// <summary>The loss became NaN or infinite: training cannot go on, and the last checkpoint is kept.</summary>
public sealed class TrainingDivergedException(int epoch, int batch, float loss)
    : Exception($"the loss became {loss} at epoch {epoch}, batch {batch}; training stopped (the last checkpoint is kept)");
