using System.Globalization;

namespace Dlc.Compiler.Ir;

/// <summary>
/// A number of operations or elements that may depend on symbolic dimensions other than the batch:
/// a sum of terms such as 1,024·T + 64·T². Costs per sample of a sequence model are such sums.
/// </summary>
public sealed class Count : IEquatable<Count>
{
    // Each term's key is its symbols sorted and joined with '·' ("" for the constant term).
    private readonly SortedDictionary<string, long> _terms;

    private Count(SortedDictionary<string, long> terms) => _terms = terms;

    public static Count Zero { get; } = new(new SortedDictionary<string, long>(StringComparer.Ordinal));

    public static Count Of(long constant) => constant == 0 ? Zero : new(new(StringComparer.Ordinal) { [""] = constant });

    /// <summary>The product of a shape's dimensions, with <paramref name="batch"/> counted as 1 (per sample).</summary>
    public static Count Elements(Shape shape, string? batch)
    {
        long constant = 1;
        var symbols = new List<string>();
        foreach (var d in shape.Dims)
        {
            if (!d.IsSymbolic) constant *= d.Size;
            else if (d.Symbol != batch) symbols.Add(d.Symbol!);
        }
        return Term(constant, symbols);
    }

    /// <summary>The constant term: the whole count when no symbol other than the batch is involved.</summary>
    public long Constant => _terms.GetValueOrDefault("");

    public bool IsConstant => _terms.Keys.All(k => k.Length == 0);

    public static Count operator +(Count a, Count b)
    {
        var terms = new SortedDictionary<string, long>(a._terms, StringComparer.Ordinal);
        foreach (var (key, value) in b._terms) terms[key] = terms.GetValueOrDefault(key) + value;
        foreach (var key in terms.Where(t => t.Value == 0).Select(t => t.Key).ToList()) terms.Remove(key);
        return new Count(terms);
    }

    public static Count operator *(Count a, long factor) =>
        factor == 0 ? Zero : new(new SortedDictionary<string, long>(a._terms.ToDictionary(t => t.Key, t => t.Value * factor), StringComparer.Ordinal));

    public static Count operator *(long factor, Count a) => a * factor;

    public static Count operator *(Count a, Count b)
    {
        var result = Zero;
        foreach (var (ka, va) in a._terms)
        {
            foreach (var (kb, vb) in b._terms) result += Term(va * vb, Split(ka).Concat(Split(kb)));
        }
        return result;
    }

    /// <summary>`1,024·T + 64·T²`, largest powers last; `0` for nothing.</summary>
    public override string ToString()
    {
        if (_terms.Count == 0) return "0";
        var ordered = _terms.OrderBy(t => Split(t.Key).Length).ThenBy(t => t.Key, StringComparer.Ordinal);
        return string.Join(" + ", ordered.Select(t => Format(t.Value, t.Key)));
    }

    public bool Equals(Count? other) => other is not null && _terms.SequenceEqual(other._terms);

    public override bool Equals(object? obj) => Equals(obj as Count);

    public override int GetHashCode() => _terms.Aggregate(0, (h, t) => HashCode.Combine(h, t.Key, t.Value));

    private static Count Term(long constant, IEnumerable<string> symbols)
    {
        if (constant == 0) return Zero;
        var key = string.Join("·", symbols.Order(StringComparer.Ordinal));
        return new Count(new SortedDictionary<string, long>(StringComparer.Ordinal) { [key] = constant });
    }

    private static string[] Split(string key) => key.Length == 0 ? [] : key.Split('·');

    private static string Format(long value, string key)
    {
        var number = value.ToString("N0", CultureInfo.InvariantCulture);
        if (key.Length == 0) return number;
        var powers = Split(key).GroupBy(s => s).Select(g => g.Count() == 1 ? g.Key : g.Key + Superscript(g.Count()));
        return $"{number}·{string.Join("·", powers)}";
    }

    private static string Superscript(int n) =>
        string.Concat(n.ToString(CultureInfo.InvariantCulture).Select(c => "⁰¹²³⁴⁵⁶⁷⁸⁹"[c - '0']));
}
