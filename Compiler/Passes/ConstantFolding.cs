using Dlc.Compiler.Ir;

namespace Dlc.Compiler.Passes;

/// <summary>
/// `constant-folding`: an elementwise op, broadcast or reshape of constants becomes one constant, computed in
/// float32 as the plan would compute it; and identities that hold exactly in IEEE arithmetic are removed:
/// x · 1, 1 · x, x / 1, x − 0, 1 · x by `scale`, a reshape to the shape x already has, and a reshape of a
/// reshape. x + 0 stays (it turns −0 into +0), and so does x · 0 (NaN and ∞ times 0 are NaN).
/// </summary>
public static class ConstantFolding
{
    public const string Name = "constant-folding";
    public const string Summary = "compute ops of constants once; drop x·1, x/1, x−0 and redundant reshapes";

    public static Graph Run(Graph graph) => GraphRewriter.Run(graph, Fold);

    private static int? Fold(Node node, GraphRewriter r)
    {
        if (node.Inputs.Count == 0) return null;
        var inputs = node.Inputs.Select(i => r.New(r[i])).ToArray();
        if (inputs.All(i => i.Op == Op.Constant) && Evaluate(node, inputs.Select(i => (float)i.Attributes.Value).ToArray()) is { } value)
            return r.Constant(value, node.Shape, node.Origin);
        bool IsConstant(Node n, float value) => n.Op == Op.Constant && (float)n.Attributes.Value == value;
        // An identity keeps x only where x already has the result's shape (no broadcast is hidden in the op).
        int? Keep(int index) => inputs[index].Shape == node.Shape ? inputs[index].Id : null;
        return node.Op switch
        {
            Op.Multiply when IsConstant(inputs[1], 1) => Keep(0),
            Op.Multiply when IsConstant(inputs[0], 1) => Keep(1),
            Op.Divide when IsConstant(inputs[1], 1) => Keep(0),
            Op.Subtract when IsConstant(inputs[1], 0) => Keep(0),
            Op.Scale when node.Attributes.Value == 1 => Keep(0),
            Op.Reshape when inputs[0].Shape == node.Shape => inputs[0].Id,
            Op.Reshape when inputs[0].Op == Op.Reshape => r.Add(Op.Reshape, [inputs[0].Inputs[0]], node.Attributes, node.Origin, node.Shape),
            _ => null,
        };
    }

    /// <summary>The value of an op whose inputs are all constants, or null when it is not one number everywhere.</summary>
    private static double? Evaluate(Node node, float[] c) => node.Op switch
    {
        Op.Add => c[0] + c[1],
        Op.Subtract => c[0] - c[1],
        Op.Multiply => c[0] * c[1],
        Op.Divide => c[0] / c[1],
        Op.Scale => (float)node.Attributes.Value * c[0],
        Op.Relu => MathF.Max(c[0], 0f),
        Op.Tanh => MathF.Tanh(c[0]),
        Op.Broadcast or Op.Expand or Op.Reshape => c[0],
        _ => null,
    };
}
