using Dlc.Diagnostics;

namespace Dlc.Compiler.Ir;

/// <summary>
/// One value of the IR in SSA form: an op applied to earlier nodes. <see cref="Origin"/> is the span of
/// the .dl source that produced it, so an error found anywhere later can still point at a line.
/// </summary>
public sealed record Node(int Id, Op Op, IReadOnlyList<int> Inputs, Shape Shape, OpAttributes Attributes, TextSpan? Origin)
{
    public string? Name => Attributes.Name;

    public override string ToString() => IrPrinter.FormatNode(this);
}

/// <summary>What a parameter is and how it starts.</summary>
public sealed record ParameterInfo(string Name, int Node, Shape Shape, Init Init, TextSpan? Origin)
{
    /// <summary>
    /// False for state a layer keeps but no optimiser updates (batch norm's running mean and variance,
    /// PyTorch's buffers): it is saved in checkpoints, but gets no update and is not counted as a parameter.
    /// </summary>
    public bool Trainable { get; init; } = true;
}

/// <summary>How a parameter is initialised; fan-in (and fan-out) give the bounds as PyTorch's layers do.</summary>
public sealed record Init(InitKind Kind, int FanIn = 0)
{
    public static Init Zeros { get; } = new(InitKind.Zeros);
    public static Init Ones { get; } = new(InitKind.Ones);

    /// <summary>XavierUniform: the number of outputs each input feeds.</summary>
    public int FanOut { get; init; }
}

public enum InitKind
{
    Zeros,
    Ones,

    /// <summary>U(−1/√fanIn, 1/√fanIn): nn.Linear's default for both weight and bias (kaiming_uniform with a = √5).</summary>
    UniformFanIn,

    /// <summary>N(0, 1): nn.Embedding's default.</summary>
    Normal,

    /// <summary>U(−a, a) with a = √(6 / (fanIn + fanOut)): nn.MultiheadAttention's input projection.</summary>
    XavierUniform,

    /// <summary>
    /// The norm of each row (axis 0) of its weight-normalised direction, the parameter named as this one with
    /// `_v` for `_g`: weight normalisation's g starts so that the layer computes what its plain weight would.
    /// </summary>
    RowNorm,
}
