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

/// <summary>What a trainable parameter is and how it starts.</summary>
public sealed record ParameterInfo(string Name, int Node, Shape Shape, Init Init, TextSpan? Origin);

/// <summary>How a parameter is initialised; fan-in gives the bound as PyTorch's nn.Linear does.</summary>
public sealed record Init(InitKind Kind, int FanIn = 0)
{
    public static Init Zeros { get; } = new(InitKind.Zeros);
}

public enum InitKind
{
    Zeros,
    Ones,

    /// <summary>U(−1/√fanIn, 1/√fanIn): nn.Linear's default for both weight and bias (kaiming_uniform with a = √5).</summary>
    UniformFanIn,
}
