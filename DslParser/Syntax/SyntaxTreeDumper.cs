using System.Collections;
using System.Globalization;
using System.Reflection;
using System.Text;
using Dlc.Diagnostics;

namespace Dlc.Syntax;

/// <summary>
/// The syntax tree as an indented outline, one node a line with its kind, its own values and where it
/// starts (`line:col`); child nodes and lists follow, named by the field that holds them:
/// <code>
/// ModelDecl 11:1
///   Name: FashionMlp
///   Body: BinaryExpr Pipe 12:5
/// </code>
/// `dlc compile --emit ast` prints it; <see cref="SyntaxPrinter"/> prints the same tree as .dl text.
/// </summary>
public static class SyntaxTreeDumper
{
    public static string Dump(CompilationUnit unit, SourceText source)
    {
        var sb = new StringBuilder();
        foreach (var declaration in unit.Declarations) Node(sb, declaration, source, "");
        return sb.ToString();
    }

    private static void Node(StringBuilder sb, object node, SourceText source, string indent)
    {
        var type = node.GetType();
        sb.Append(type.Name);
        if (node is NumberLit number)
        {
            sb.Append(' ').Append(number.Text).Append(' ').Append(source.GetPosition(number.Span.Start)).Append('\n');
            return;
        }
        var children = new List<(string Name, object Value)>();
        foreach (var property in Properties(type))
        {
            var value = property.GetValue(node);
            switch (value)
            {
                case null or TextSpan: continue;
                case Identifier id: children.Add((property.Name, id.Name)); break;
                case string or bool or int or double or Enum:
                    sb.Append(' ').Append(Scalar(value));
                    break;
                default: children.Add((property.Name, value)); break;
            }
        }
        if (Span(node) is { } span) sb.Append(' ').Append(source.GetPosition(span.Start));
        sb.Append('\n');
        foreach (var (name, value) in children)
        {
            sb.Append(indent).Append("  ").Append(name).Append(": ");
            if (value is string text)
            {
                sb.Append(text).Append('\n');
            }
            else if (value is IEnumerable list)
            {
                var items = list.Cast<object>().ToList();
                sb.Append(items.Count == 0 ? "[]\n" : $"[{items.Count}]\n");
                foreach (var item in items)
                {
                    sb.Append(indent).Append("    - ");
                    Node(sb, item, source, indent + "      ");
                }
            }
            else
            {
                Node(sb, value, source, indent + "  ");
            }
        }
    }

    private static IEnumerable<PropertyInfo> Properties(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.Name is not ("EqualityContract" or "Span") && p.GetIndexParameters().Length == 0)
            .OrderBy(p => p.MetadataToken);

    private static TextSpan? Span(object node) => node.GetType().GetProperty("Span")?.GetValue(node) as TextSpan?;

    private static string Scalar(object value) => value switch
    {
        string s => "\"" + s.Replace("\n", "\\n", StringComparison.Ordinal) + "\"",
        bool b => b ? "true" : "false",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        int i => i.ToString(CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
