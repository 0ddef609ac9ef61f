using System.Numerics.Tensors;

namespace Dlc.Backend.Kernels;

/// <summary>
/// The sinusoidal positional encoding of Vaswani et al. (2017), added to [N, T, E]: position t's feature 2i gets
/// sin(t / 10000^(2i/E)) and feature 2i+1 cos(t / 10000^(2i/E)). The table is computed once (in double, then
/// rounded) for as many positions as a plan can reach; the gradient passes through unchanged.
/// </summary>
public sealed class PositionalEncoding
{
    private readonly float[] _table;

    public PositionalEncoding(int positions, int features)
    {
        Features = features;
        _table = new float[positions * features];
        for (var t = 0; t < positions; t++)
        {
            for (var i = 0; i < features; i++) _table[t * features + i] = (float)Value(t, i, features);
        }
    }

    public int Features { get; }

    /// <summary>Positions the table covers.</summary>
    public int Positions => _table.Length / Math.Max(1, Features);

    /// <summary>The encoding of position <paramref name="t"/>, feature <paramref name="i"/> of <paramref name="features"/>.</summary>
    public static double Value(int t, int i, int features) =>
        i % 2 == 0 ? Math.Sin(t / Math.Pow(10000, (double)i / features)) : Math.Cos(t / Math.Pow(10000, (double)(i - 1) / features));

    /// <summary>y [N, T, E] = x + the encoding of positions first..first+T−1 (first is 0 but while generating).</summary>
    public void Forward(ReadOnlySpan<float> x, Span<float> y, int batch, int steps, int first)
    {
        Shapes.Same(batch * steps * Features, x.Length, nameof(x));
        Shapes.Same(x.Length, y.Length, nameof(y));
        if (first + steps > Positions)
            throw new InvalidOperationException($"the positional encoding covers {Positions} positions, and {first + steps} were asked for");
        var rows = _table.AsSpan(first * Features, steps * Features);
        for (var n = 0; n < batch; n++)
        {
            var at = n * steps * Features;
            TensorPrimitives.Add(x.Slice(at, rows.Length), rows, y.Slice(at, rows.Length));
        }
    }
}
