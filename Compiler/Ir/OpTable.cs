using Dlc.Compiler.Ops;

namespace Dlc.Compiler.Ir;

/// <summary>Infers a node's shape from its inputs' shapes; throws <see cref="ShapeException"/> when they do not fit.</summary>
public delegate Shape ShapeRule(Shape[] inputs, OpAttributes attributes, Shape? declared);

/// <summary>Emits the gradient of a node's inputs given the gradient of its output (reverse mode).</summary>
public delegate void BackwardRule(BackwardContext context, Node node, int outputGradient);

/// <summary>
/// The forward cost of one node for one sample, in floating-point operations (a multiply-add counts 2);
/// <paramref name="batch"/> is the batch symbol, counted as 1.
/// </summary>
public delegate Count CostRule(Node node, Shape[] inputs, string? batch);

/// <summary>
/// The metadata of one op: its IR name, arity (-1 for any number of inputs), shape rule and (if
/// differentiable) backward rule.
/// </summary>
public sealed record OpInfo(Op Op, string Name, int Arity, ShapeRule InferShape, string Summary)
{
    /// <summary>The backward rule; null for ops that no gradient flows through (sources, masks, gradient ops).</summary>
    public BackwardRule? Backward { get; init; }

    /// <summary>Inputs that never receive a gradient (class labels, regression targets).</summary>
    public IReadOnlyList<int> NonDifferentiableInputs { get; init; } = [];

    /// <summary>Forward FLOPs per sample; without a rule, one per element of the result.</summary>
    public CostRule? Cost { get; init; }

    public bool IsElementwise { get; init; }
    public bool IsRandom { get; init; }
    public bool IsDifferentiable => Backward is not null;
}

/// <summary>An internal shape error: the elaborator reports user errors before building nodes.</summary>
public sealed class ShapeException(string message) : Exception(message);

/// <summary>The one table of every op's metadata, gathered from the op family files under Ops/.</summary>
public static class OpTable
{
    private static readonly OpInfo[] Table = Build();

    public static OpInfo Info(Op op) => Table[(int)op];

    public static IReadOnlyList<OpInfo> All => Table;

    public static bool TryParse(string name, out Op op)
    {
        foreach (var info in Table)
        {
            if (info.Name == name)
            {
                op = info.Op;
                return true;
            }
        }
        op = default;
        return false;
    }

    private static OpInfo[] Build()
    {
        var infos = SourceOps.All
            .Concat(LinearOps.All)
            .Concat(ElementwiseOps.All)
            .Concat(ActivationOps.All)
            .Concat(SoftmaxOps.All)
            .Concat(ReductionOps.All)
            .Concat(LossOps.All)
            .Concat(ConvolutionOps.All)
            .Concat(PoolingOps.All)
            .Concat(NormalizationOps.All)
            .Concat(WeightNormOps.All)
            .Concat(SequenceOps.All)
            .Concat(AttentionOps.All)
            .Concat(VariationalOps.All)
            .Concat(BroadcastingOps.All)
            .ToArray();
        var table = new OpInfo[Enum.GetValues<Op>().Length];
        foreach (var info in infos)
        {
            if (table[(int)info.Op] is not null) throw new InvalidOperationException($"op {info.Op} is described twice");
            table[(int)info.Op] = info;
        }
        var missing = Enum.GetValues<Op>().Where(op => table[(int)op] is null).ToArray();
        if (missing.Length > 0) throw new InvalidOperationException($"ops without metadata: {string.Join(", ", missing)}");
        return table;
    }

    /// <summary>The forward FLOPs of a node for one sample (sources cost nothing).</summary>
    public static Count ForwardFlops(Node node, Shape[] inputs, string? batch)
    {
        var info = Info(node.Op);
        if (info.Cost is { } cost) return cost(node, inputs, batch);
        return node.Inputs.Count == 0 ? Count.Zero : Count.Elements(node.Shape, batch);
    }

    // ---- shape rules shared by the op families ----

    internal static Shape SameAsFirst(Shape[] inputs, OpAttributes attributes, Shape? declared) => inputs[0];

    internal static Shape SameShapes(Shape[] inputs, OpAttributes attributes, Shape? declared)
    {
        for (var i = 1; i < inputs.Length; i++)
        {
            if (inputs[i] != inputs[0]) throw new ShapeException($"operands differ: {inputs[0]} and {inputs[i]}");
        }
        return inputs[0];
    }

    internal static Shape Declared(Shape[] inputs, OpAttributes attributes, Shape? declared) =>
        declared ?? throw new ShapeException("a source node needs a declared shape");

    internal static Shape ScalarResult(Shape[] inputs, OpAttributes attributes, Shape? declared) => Shape.Scalar;
}
