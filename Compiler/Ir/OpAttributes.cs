using System.Globalization;

namespace Dlc.Compiler.Ir;

/// <summary>How a loss over many elements becomes one number.</summary>
public enum Reduction
{
    Mean,
    Sum,
}

/// <summary>The attributes an op may carry; most ops use none.</summary>
public sealed record OpAttributes
{
    public static OpAttributes None { get; } = new();

    /// <summary>MatMul: use the transpose of the stored first operand.</summary>
    public bool TransA { get; init; }

    /// <summary>MatMul: use the transpose of the stored second operand.</summary>
    public bool TransB { get; init; }

    /// <summary>
    /// Scale: the factor; Constant: the value; DropoutMask and ChannelDropoutMask: the drop probability;
    /// BatchNorm and LayerNorm: epsilon.
    /// </summary>
    public double Value { get; init; }

    /// <summary>Input and Parameter: the name (`image`, `FashionMlp.dense1.weight`).</summary>
    public string? Name { get; init; }

    /// <summary>Convolution and pooling: the window, one entry per spatial axis.</summary>
    public int[]? Kernel { get; init; }

    /// <summary>Convolution and pooling: the step between windows, one entry per spatial axis.</summary>
    public int[]? Stride { get; init; }

    /// <summary>
    /// Convolution and pooling: zeros added around the input, as ONNX writes `pads`: the start of every
    /// spatial axis, then the end of every spatial axis (`same` with an even kernel pads one more at the end).
    /// </summary>
    public int[]? Padding { get; init; }

    /// <summary>Convolution: the spacing of the kernel's taps, one entry per spatial axis.</summary>
    public int[]? Dilation { get; init; }

    /// <summary>Transposed convolution: extra size added at the end of each spatial axis of the result.</summary>
    public int[]? OutputPadding { get; init; }

    /// <summary>Upsample: how many times larger each spatial axis becomes.</summary>
    public int[]? Factor { get; init; }

    /// <summary>Convolution: channels are split into this many independent groups.</summary>
    public int Groups { get; init; } = 1;

    /// <summary>Concat: the axis the inputs are joined along.</summary>
    public int Axis { get; init; }

    /// <summary>Attention: the number of heads the features are split into.</summary>
    public int Heads { get; init; }

    /// <summary>Attention: each position attends only to itself and earlier positions.</summary>
    public bool Causal { get; init; }

    /// <summary>Rnn, Lstm, Gru: a second pass runs from the end; the result joins both directions' features.</summary>
    public bool Bidirectional { get; init; }

    /// <summary>Rnn, Lstm, Gru: the result is every step [N, T, H] rather than the final state [N, H].</summary>
    public bool ReturnSequences { get; init; }

    /// <summary>
    /// Rnn, Lstm, Gru: the last input is each sample's length [N] (from sequence_lengths), and each sample runs over
    /// its own steps only, as PyTorch's packed sequences; the result is zero past a sequence's end.
    /// </summary>
    public bool Packed { get; init; }

    /// <summary>BatchNorm: normalise with the batch's statistics and update the running ones (training).</summary>
    public bool Training { get; init; }

    /// <summary>BatchNorm: how far each batch moves the running statistics (PyTorch's momentum).</summary>
    public double Momentum { get; init; }

    /// <summary>BinaryCrossEntropy and KlNormal: mean or sum over the elements.</summary>
    public Reduction Reduce { get; init; }

    /// <summary>Upsample: `nearest` or `bilinear`; Rnn: the nonlinearity, `tanh` or `relu`.</summary>
    public string? Mode { get; init; }

    public override string ToString()
    {
        var parts = new List<string>();
        if (Name is not null) parts.Add($"name=\"{Name.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)}\"");
        if (TransA) parts.Add("transA");
        if (TransB) parts.Add("transB");
        if (Value != 0) parts.Add($"value={Value.ToString("R", CultureInfo.InvariantCulture)}");
        Ints("kernel", Kernel);
        Ints("stride", Stride);
        Ints("pads", Padding);
        Ints("dilation", Dilation);
        Ints("outputPadding", OutputPadding);
        Ints("factor", Factor);
        if (Groups != 1) parts.Add($"groups={Groups}");
        if (Axis != 0) parts.Add($"axis={Axis}");
        if (Heads != 0) parts.Add($"heads={Heads}");
        if (Causal) parts.Add("causal");
        if (Bidirectional) parts.Add("bidirectional");
        if (ReturnSequences) parts.Add("sequences");
        if (Packed) parts.Add("packed");
        if (Training) parts.Add("training");
        if (Momentum != 0) parts.Add($"momentum={Momentum.ToString("R", CultureInfo.InvariantCulture)}");
        if (Reduce != Reduction.Mean) parts.Add($"reduce={Reduce.ToString().ToLowerInvariant()}");
        if (Mode is not null) parts.Add($"mode={Mode}");
        return string.Join(" ", parts);

        void Ints(string name, int[]? values)
        {
            if (values is not null) parts.Add($"{name}=[{string.Join(",", values)}]");
        }
    }
}
