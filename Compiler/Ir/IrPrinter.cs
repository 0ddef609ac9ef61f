using System.Text;

namespace Dlc.Compiler.Ir;

/// <summary>
/// The IR's text form, one node a line:
/// <code>
///   %3 = matmul transB %0, %1 : [N,256]    # fashion_mlp.dl@120
/// </code>
/// Outputs close the listing as `out logits = %7`.
/// </summary>
public static class IrPrinter
{
    public static string Print(Graph graph)
    {
        var sb = new StringBuilder();
        foreach (var node in graph.Nodes) sb.Append("  ").AppendLine(FormatNode(node));
        foreach (var output in graph.Outputs) sb.Append("  out ").Append(output.Name).Append(" = %").Append(output.Node).AppendLine();
        return sb.ToString();
    }

    public static string FormatNode(Node node)
    {
        var sb = new StringBuilder();
        sb.Append('%').Append(node.Id).Append(" = ").Append(OpTable.Info(node.Op).Name);
        var attributes = node.Attributes.ToString();
        if (attributes.Length > 0) sb.Append(' ').Append(attributes);
        if (node.Inputs.Count > 0) sb.Append(' ').Append(string.Join(", ", node.Inputs.Select(i => $"%{i}")));
        sb.Append(" : ").Append(node.Shape.ToIrString());
        return sb.ToString();
    }
}
