namespace Dlc.Compiler.Ir;

/// <summary>One dimension of a shape: a fixed size or a symbol such as the batch `N`, bound when a plan is made.</summary>
public readonly record struct Dim
{
    private Dim(int size, string? symbol)
    {
        Size = size;
        Symbol = symbol;
    }

    /// <summary>The size of a fixed dimension; -1 for a symbolic one.</summary>
    public int Size { get; }

    /// <summary>The symbol of a symbolic dimension (`N`, `T`), or null.</summary>
    public string? Symbol { get; }

    public bool IsSymbolic => Symbol is not null;

    public static Dim Of(int size) => new(size, null);

    public static Dim Sym(string symbol) => new(-1, symbol);

    public static implicit operator Dim(int size) => Of(size);

    public int Bind(IReadOnlyDictionary<string, int> symbols) =>
        Symbol is null ? Size
        : symbols.TryGetValue(Symbol, out var size) ? size
        : throw new InvalidOperationException($"the dimension `{Symbol}` has no size bound");

    public override string ToString() => Symbol ?? Size.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>The shape of a tensor, possibly with symbolic dimensions. A scalar has rank 0.</summary>
public sealed class Shape : IEquatable<Shape>
{
    private readonly Dim[] _dims;

    public Shape(params Dim[] dims) => _dims = dims;

    public Shape(IEnumerable<Dim> dims) => _dims = dims.ToArray();

    public static Shape Scalar { get; } = new();

    public int Rank => _dims.Length;
    public Dim this[int axis] => _dims[axis < 0 ? _dims.Length + axis : axis];
    public IReadOnlyList<Dim> Dims => _dims;

    /// <summary>Last dimension, the feature axis of row-major data.</summary>
    public Dim Last => _dims[^1];

    public bool IsFullyKnown => _dims.All(d => !d.IsSymbolic);

    /// <summary>The number of elements once symbols are bound.</summary>
    public int ElementCount(IReadOnlyDictionary<string, int> symbols)
    {
        long count = 1;
        foreach (var d in _dims) count *= d.Bind(symbols);
        return checked((int)count);
    }

    public int[] Bind(IReadOnlyDictionary<string, int> symbols) => _dims.Select(d => d.Bind(symbols)).ToArray();

    /// <summary>Rows × columns when viewed as a matrix over the last axis (leading axes folded into rows).</summary>
    public (int Rows, int Cols) AsMatrix(IReadOnlyDictionary<string, int> symbols)
    {
        if (Rank == 0) return (1, 1);
        var cols = Last.Bind(symbols);
        return (cols == 0 ? 0 : ElementCount(symbols) / cols, cols);
    }

    public Shape WithLast(Dim last) => new(_dims[..^1].Append(last));

    public bool Equals(Shape? other) => other is not null && _dims.AsSpan().SequenceEqual(other._dims);

    public override bool Equals(object? obj) => Equals(obj as Shape);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var d in _dims) hash.Add(d);
        return hash.ToHashCode();
    }

    public static bool operator ==(Shape? a, Shape? b) => a is null ? b is null : a.Equals(b);

    public static bool operator !=(Shape? a, Shape? b) => !(a == b);

    /// <summary>As the language writes it: `Tensor[N, 784]`.</summary>
    public override string ToString() => $"Tensor[{string.Join(", ", _dims)}]";

    /// <summary>Compact form for the IR text: `[N,784]`.</summary>
    public string ToIrString() => $"[{string.Join(",", _dims)}]";
}
