using System.Globalization;
using System.Text;
using Dlc.Diagnostics;

namespace Dlc.Compiler.Ir;

/// <summary>
/// The IR's text form, one node a line, read back by <see cref="IrParser"/>:
/// <code>
///   %1 = parameter name="FashionMlp.dense1.weight" init=uniform(784) : [256,784] @330+12
///   %3 = matmul transB %0, %1 : [N,256] @330+12
///   out output = %7
/// </code>
/// A parameter line says how it starts (`init=`) and `state` when no optimiser trains it; `@start+length`
/// is the span of .dl source the node came from. A `#` starts a comment that readers skip (the CLI puts
/// the source line and column there).
/// </summary>
public static class IrPrinter
{
    public static string Print(Graph graph) => Print(graph, null);

    /// <param name="graph">The graph.</param>
    /// <param name="comment">A comment for a node's line (for example its `file:line:col`), or null for none.</param>
    public static string Print(Graph graph, Func<Node, string?>? comment)
    {
        var parameters = graph.Parameters.ToDictionary(p => p.Node);
        var sb = new StringBuilder();
        foreach (var node in graph.Nodes)
        {
            sb.Append("  ").Append(FormatNode(node, parameters.GetValueOrDefault(node.Id)));
            if (comment?.Invoke(node) is { } text) sb.Append("    # ").Append(text);
            sb.AppendLine();
        }
        foreach (var output in graph.Outputs) sb.Append("  out ").Append(output.Name).Append(" = %").Append(output.Node).AppendLine();
        return sb.ToString();
    }

    public static string FormatNode(Node node) => FormatNode(node, null);

    public static string FormatNode(Node node, ParameterInfo? parameter)
    {
        var sb = new StringBuilder();
        sb.Append('%').Append(node.Id).Append(" = ").Append(OpTable.Info(node.Op).Name);
        var attributes = node.Attributes.ToString();
        if (attributes.Length > 0) sb.Append(' ').Append(attributes);
        if (parameter is not null)
        {
            sb.Append(" init=").Append(FormatInit(parameter.Init));
            if (!parameter.Trainable) sb.Append(" state");
        }
        if (node.Inputs.Count > 0) sb.Append(' ').Append(string.Join(", ", node.Inputs.Select(i => $"%{i}")));
        sb.Append(" : ").Append(node.Shape.ToIrString());
        if (node.Origin is { } origin) sb.Append(" @").Append(origin.Start).Append('+').Append(origin.Length);
        return sb.ToString();
    }

    public static string FormatInit(Init init) => init.Kind switch
    {
        InitKind.Zeros => "zeros",
        InitKind.Ones => "ones",
        InitKind.Normal => "normal",
        InitKind.RowNorm => "row_norm",
        InitKind.UniformFanIn => $"uniform({init.FanIn.ToString(CultureInfo.InvariantCulture)})",
        InitKind.XavierUniform => $"xavier({init.FanIn.ToString(CultureInfo.InvariantCulture)},{init.FanOut.ToString(CultureInfo.InvariantCulture)})",
        _ => throw new ArgumentOutOfRangeException(nameof(init), init.Kind, "no text form"),
    };

    /// <summary>`file.dl:12:5`, the comment `dlc compile --emit ir` puts after each node with a source span.</summary>
    public static Func<Node, string?> SourceComments(Func<int, SourceText> sourceOf) => node =>
    {
        if (node.Origin is not { } origin) return null;
        var source = sourceOf(node.Id);
        return $"{Path.GetFileName(source.Path)}:{source.GetPosition(origin.Start)}";
    };
}
