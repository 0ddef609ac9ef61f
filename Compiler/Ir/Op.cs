namespace Dlc.Compiler.Ir;

/// <summary>
/// Every operation the IR knows. The metadata of each (arity, shape rule, backward rule) is in
/// <see cref="OpTable"/>; nothing compares op names as strings.
/// </summary>
public enum Op
{
    // sources
    Input,
    Parameter,
    Constant,

    // linear algebra: [M,K]·[K,N] with optional transposes of the stored operands
    MatMul,
    BiasAdd,
    BiasGrad,

    // elementwise
    Add,
    Subtract,
    Multiply,
    Scale,
    Relu,
    ReluGrad,
    Sigmoid,
    SigmoidGrad,
    Tanh,
    TanhGrad,
    Gelu,
    GeluGrad,

    // over the last axis
    Softmax,
    SoftmaxGrad,
    LogSoftmax,
    LogSoftmaxGrad,

    // randomness: a dropout mask (0 or 1/(1-p)), drawn afresh each time the plan runs
    DropoutMask,

    // reductions and shape
    Sum,
    Broadcast,
    Reshape,

    // losses (scalar results) and their gradients
    SoftmaxCrossEntropy,
    SoftmaxCrossEntropyGrad,
    Mse,
    MseGrad,
}

/// <summary>The attributes an op may carry; most ops use none.</summary>
public sealed record OpAttributes
{
    public static OpAttributes None { get; } = new();

    /// <summary>MatMul: use the transpose of the stored first operand.</summary>
    public bool TransA { get; init; }

    /// <summary>MatMul: use the transpose of the stored second operand.</summary>
    public bool TransB { get; init; }

    /// <summary>Scale: the factor; Constant: the value; DropoutMask: the drop probability.</summary>
    public double Value { get; init; }

    /// <summary>Input and Parameter: the name (`image`, `FashionMlp.dense1.weight`).</summary>
    public string? Name { get; init; }

    public override string ToString()
    {
        var parts = new List<string>();
        if (Name is not null) parts.Add($"name=\"{Name}\"");
        if (TransA) parts.Add("transA");
        if (TransB) parts.Add("transB");
        if (Value != 0) parts.Add($"value={Value.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}");
        return string.Join(" ", parts);
    }
}
