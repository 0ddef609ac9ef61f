namespace Dlc.Compiler.Ir;

/// <summary>
/// Structural equality of graphs: the same nodes (op, inputs, shape, attributes, source span), parameters
/// and outputs. Records compare their lists and arrays by reference, so this compares them by content.
/// </summary>
public static class IrEquality
{
    public static bool Equal(Graph a, Graph b) => FirstDifference(a, b) is null;

    /// <summary>A sentence saying where two graphs first differ, or null when they are equal.</summary>
    public static string? FirstDifference(Graph a, Graph b)
    {
        if (a.Nodes.Count != b.Nodes.Count) return $"{a.Nodes.Count} nodes against {b.Nodes.Count}";
        for (var i = 0; i < a.Nodes.Count; i++)
        {
            var (x, y) = (a.Nodes[i], b.Nodes[i]);
            if (x.Id != y.Id || x.Op != y.Op || !x.Inputs.SequenceEqual(y.Inputs) || x.Shape != y.Shape
                || !Equal(x.Attributes, y.Attributes) || x.Origin != y.Origin)
                return $"node %{i} differs: `{x}` against `{y}`";
        }
        if (a.Parameters.Count != b.Parameters.Count) return $"{a.Parameters.Count} parameters against {b.Parameters.Count}";
        for (var i = 0; i < a.Parameters.Count; i++)
        {
            if (a.Parameters[i] != b.Parameters[i]) return $"parameter {i} differs: {a.Parameters[i]} against {b.Parameters[i]}";
        }
        return a.Outputs.SequenceEqual(b.Outputs)
            ? null
            : $"outputs differ: {string.Join(", ", a.Outputs)} against {string.Join(", ", b.Outputs)}";
    }

    public static bool Equal(OpAttributes a, OpAttributes b) =>
        Same(a.Kernel, b.Kernel) && Same(a.Stride, b.Stride) && Same(a.Padding, b.Padding) && Same(a.Dilation, b.Dilation)
        && Same(a.OutputPadding, b.OutputPadding) && Same(a.Factor, b.Factor)
        && WithoutArrays(a) == WithoutArrays(b);

    private static OpAttributes WithoutArrays(OpAttributes a) =>
        a with { Kernel = null, Stride = null, Padding = null, Dilation = null, OutputPadding = null, Factor = null };

    private static bool Same(int[]? a, int[]? b) => a is null ? b is null : b is not null && a.SequenceEqual(b);
}
