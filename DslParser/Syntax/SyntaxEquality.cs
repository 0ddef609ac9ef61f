using System.Collections;
using System.Reflection;
using Dlc.Diagnostics;

namespace Dlc.Syntax;

/// <summary>
/// Structural comparison of syntax trees that ignores spans, so a tree can be compared with the tree of
/// its printed text. (Records compare their lists by reference, which is never what a test means.)
/// </summary>
public static class SyntaxEquality
{
    public static bool Equal(object? a, object? b) => Difference(a, b) is null;

    /// <summary>Where two trees first differ, as a property path such as `Declarations[1].Body.Left`; null when equal.</summary>
    public static string? Difference(object? a, object? b, string path = "")
    {
        if (ReferenceEquals(a, b)) return null;
        if (a is null || b is null) return Describe(path);
        if (a is TextSpan && b is TextSpan) return null;
        if (a is string || a is ValueType) return a.Equals(b) ? null : Describe(path);
        if (a is IEnumerable first && b is IEnumerable second)
        {
            var left = first.Cast<object?>().ToList();
            var right = second.Cast<object?>().ToList();
            if (left.Count != right.Count) return $"{Describe(path)} (count {left.Count} vs {right.Count})";
            for (var i = 0; i < left.Count; i++)
            {
                if (Difference(left[i], right[i], $"{path}[{i}]") is { } inner) return inner;
            }
            return null;
        }
        if (a.GetType() != b.GetType()) return $"{Describe(path)} ({a.GetType().Name} vs {b.GetType().Name})";
        foreach (var property in a.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.PropertyType == typeof(TextSpan) || property.GetIndexParameters().Length > 0) continue;
            var name = path.Length == 0 ? property.Name : $"{path}.{property.Name}";
            if (Difference(property.GetValue(a), property.GetValue(b), name) is { } inner) return inner;
        }
        return null;
    }

    private static string Describe(string path) => path.Length == 0 ? "(root)" : path;
}
