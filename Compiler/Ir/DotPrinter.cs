using System.Text;

namespace Dlc.Compiler.Ir;

/// <summary>
/// Graphviz source for a graph: one box per op, inputs and parameters as ellipses, outputs as double
/// octagons, each edge labelled with the shape it carries. `dot -Tsvg` draws it.
/// </summary>
public static class DotPrinter
{
    public static string Print(Graph graph, string name = "graph")
    {
        var parameters = graph.Parameters.Select(p => p.Node).ToHashSet();
        var sb = new StringBuilder();
        sb.Append("digraph ").Append(Quote(name)).AppendLine(" {");
        sb.AppendLine("  rankdir=TB;");
        sb.AppendLine("  node [fontname=\"Helvetica\", fontsize=10];");
        sb.AppendLine("  edge [fontname=\"Helvetica\", fontsize=8];");
        foreach (var node in graph.Nodes)
        {
            var op = OpTable.Info(node.Op).Name;
            var (label, style) = node.Op switch
            {
                Op.Input => ($"{node.Name}\\n{node.Shape.ToIrString()}", "shape=ellipse, style=filled, fillcolor=\"#d8e8ff\""),
                Op.Parameter => ($"{node.Name}\\n{node.Shape.ToIrString()}", parameters.Contains(node.Id)
                    ? "shape=ellipse, style=filled, fillcolor=\"#fff2cc\""
                    : "shape=ellipse"),
                Op.Constant => ($"{node.Attributes}\\n{node.Shape.ToIrString()}", "shape=plaintext"),
                _ => ($"%{node.Id} {op}{Flags(node)}", "shape=box, style=rounded"),
            };
            sb.Append("  n").Append(node.Id).Append(" [label=").Append(Quote(label)).Append(", ").Append(style).AppendLine("];");
        }
        foreach (var node in graph.Nodes)
        {
            foreach (var input in node.Inputs)
                sb.Append("  n").Append(input).Append(" -> n").Append(node.Id)
                    .Append(" [label=").Append(Quote(graph[input].Shape.ToIrString())).AppendLine("];");
        }
        for (var i = 0; i < graph.Outputs.Count; i++)
        {
            var output = graph.Outputs[i];
            sb.Append("  out").Append(i).Append(" [label=").Append(Quote(output.Name)).AppendLine(", shape=doubleoctagon];");
            sb.Append("  n").Append(output.Node).Append(" -> out").Append(i)
                .Append(" [label=").Append(Quote(graph[output.Node].Shape.ToIrString())).AppendLine("];");
        }
        sb.AppendLine("}");
        return sb.ToString();
    }

    private static string Flags(Node node)
    {
        var flags = node.Attributes with { Name = null };
        var text = flags.ToString();
        return text.Length == 0 ? "" : "\\n" + text;
    }

    // Backslashes are kept: `\n` in a label is Graphviz's line break.
    private static string Quote(string text) => "\"" + text.Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}
