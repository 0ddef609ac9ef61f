using System.Globalization;
using Dlc.Diagnostics;

namespace Dlc.Compiler.Elaboration;

/// <summary>
/// The named arguments of a layer or function, `(kernel = 3, padding = 1)`: unknown names are reported
/// with a did-you-mean, and each value is checked as it is read, at its own span.
/// </summary>
public sealed class LayerOptions
{
    private readonly Elaborator _e;
    private readonly Dictionary<string, RecordEntry> _given = new(StringComparer.Ordinal);

    public LayerOptions(Elaborator e, NamedArgsValue? arguments, string owner, IReadOnlyList<string> known)
    {
        _e = e;
        foreach (var option in arguments?.Arguments ?? [])
        {
            if (!known.Contains(option.Name)) throw e.UnknownOption(option, known, owner);
            _given[option.Name] = option;
        }
    }

    public bool Has(string name) => _given.ContainsKey(name);

    public Value? this[string name] => _given.GetValueOrDefault(name)?.Value;

    public int PositiveInt(string name, int fallback) =>
        this[name] is { } v ? _e.ExpectPositiveInt(v, $"`{name}`") : fallback;

    public int NonNegativeInt(string name, int fallback)
    {
        if (this[name] is not { } v) return fallback;
        if (v is NumberValue { IsInteger: true, Number: >= 0 and <= int.MaxValue } n) return (int)n.Number;
        throw _e.Error(DiagnosticCatalog.WrongArgumentType, v.Span, $"`{name}` must be an integer of 0 or more, found {Describe(v)}");
    }

    /// <summary>One size per spatial axis: `3` means 3 on every axis, `(3, 5)` gives each its own.</summary>
    public int[]? Sizes(string name, int rank, bool allowZero = false)
    {
        if (this[name] is not { } v) return null;
        var items = v is TupleValue t ? t.Items : [v];
        if (items.Count != 1 && items.Count != rank)
            throw _e.Error(DiagnosticCatalog.InvalidArgument, v.Span,
                $"`{name}` takes one size or {rank} (one per spatial axis), found {items.Count}");
        var sizes = items.Select(item => item is NumberValue { IsInteger: true } n && n.Number >= (allowZero ? 0 : 1) && n.Number <= int.MaxValue
            ? (int)n.Number
            : throw _e.Error(DiagnosticCatalog.WrongArgumentType, item.Span,
                $"`{name}` must be {(allowZero ? "an integer of 0 or more" : "a positive integer")}, found {Describe(item)}")).ToArray();
        return sizes.Length == rank ? sizes : Enumerable.Repeat(sizes[0], rank).ToArray();
    }

    public bool Bool(string name, bool fallback) => this[name] is { } v ? _e.ExpectBool(v, name) : fallback;

    /// <summary>A probability p with 0 ≤ p &lt; 1.</summary>
    public double Probability(string name, double fallback)
    {
        if (this[name] is not { } v) return fallback;
        var p = _e.ExpectNumber(v, $"`{name}`");
        return p is >= 0 and < 1 ? p : throw _e.Error(DiagnosticCatalog.InvalidArgument, v.Span,
            $"`{name}` must be at least 0 and below 1, got {p.ToString(CultureInfo.InvariantCulture)}");
    }

    public double PositiveNumber(string name, double fallback)
    {
        if (this[name] is not { } v) return fallback;
        var x = _e.ExpectNumber(v, $"`{name}`");
        return x > 0 && double.IsFinite(x) ? x : throw _e.Error(DiagnosticCatalog.InvalidArgument, v.Span,
            $"`{name}` must be above 0, got {x.ToString(CultureInfo.InvariantCulture)}");
    }

    /// <summary>One of a few names: `(padding = same)`, `(mode = bilinear)`, `(reduce = sum)`.</summary>
    public string? Symbol(string name, IReadOnlyList<string> allowed)
    {
        if (this[name] is not { } v) return null;
        if (v is SymbolValue s && allowed.Contains(s.Name)) return s.Name;
        // `relu`, `tanh` and `gelu` are also activation layers, so a name that is both arrives as the layer.
        if (v is LayerValue { Layer: ActivationLayer a } && allowed.Contains(a.Describe())) return a.Describe();
        throw _e.Error(DiagnosticCatalog.InvalidArgument, v.Span,
            $"`{name}` must be {string.Join(" or ", allowed.Select(a => $"`{a}`"))}, found {Describe(v)}");
    }

    public TextSpan SpanOf(string name) => _given[name].Value.Span;

    private static string Describe(Value v) => v is NumberValue n ? n.Number.ToString(CultureInfo.InvariantCulture) : v.Kind;
}
