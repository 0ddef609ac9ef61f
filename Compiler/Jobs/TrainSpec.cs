using Dlc.Diagnostics;

namespace Dlc.Compiler.Jobs;

public enum LossKind
{
    /// <summary>Softmax and cross-entropy fused, on logits and class labels (nn.CrossEntropyLoss).</summary>
    CrossEntropy,

    /// <summary>Mean squared error on outputs and targets of the same shape (nn.MSELoss).</summary>
    Mse,
}

public enum OptimizerKind
{
    Sgd,
    Adam,
    AdamW,
}

/// <summary>An optimiser and its settings, with torch.optim's defaults.</summary>
public sealed record OptimizerSpec(OptimizerKind Kind, double LearningRate)
{
    public double Momentum { get; init; }
    public double Dampening { get; init; }
    public bool Nesterov { get; init; }
    public double WeightDecay { get; init; }
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.999;
    public double Epsilon { get; init; } = 1e-8;

    public string Describe() => Kind switch
    {
        OptimizerKind.Sgd => $"sgd lr={LearningRate:g} momentum={Momentum:g}{(Nesterov ? " nesterov" : "")} weightDecay={WeightDecay:g}",
        _ => $"{Kind.ToString().ToLowerInvariant()} lr={LearningRate:g} betas=({Beta1:g}, {Beta2:g}) eps={Epsilon:g} weightDecay={WeightDecay:g}",
    };
}

public enum DataKind
{
    /// <summary>The built-in Fashion-MNIST set (Debian package dataset-fashion-mnist).</summary>
    FashionMnist,

    /// <summary>IDX image and label files given by path.</summary>
    Idx,

    /// <summary>A numeric CSV file given by path.</summary>
    Csv,
}

/// <summary>Where a job's data comes from. Paths are as written, resolved against the .dl file's folder.</summary>
public sealed record DataSpec(DataKind Kind, TextSpan Span)
{
    public string? Images { get; init; }
    public string? Labels { get; init; }
    public string? TestImages { get; init; }
    public string? TestLabels { get; init; }
    public string? Path { get; init; }
    public string? TestPath { get; init; }
    public string? LabelColumn { get; init; }

    /// <summary>The fraction of the training set held out for validation (0 = none).</summary>
    public double Validation { get; init; }
}

/// <summary>A `train Model { ... }` record, checked and with defaults filled in.</summary>
public sealed record TrainSpec(string Model, TextSpan ModelSpan, DataSpec Data, LossKind Loss, OptimizerSpec Optimizer, TextSpan Span)
{
    public int Epochs { get; init; } = 10;
    public int Batch { get; init; } = 64;
    public ulong Seed { get; init; }
    public IReadOnlyList<string> Metrics { get; init; } = ["accuracy"];
}
