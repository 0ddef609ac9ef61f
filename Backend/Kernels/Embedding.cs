using System.Numerics.Tensors;

namespace Dlc.Backend.Kernels;

/// <summary>
/// nn.Embedding: rows of a table picked by index. Shapes: indices [R] (whole numbers stored as floats, R = N·T),
/// table and dtable [V, D], y and dy [R, D].
/// </summary>
public static class Embedding
{
    /// <summary>y[r] = table[indices[r]].</summary>
    public static void Forward(ReadOnlySpan<float> indices, ReadOnlySpan<float> table, Span<float> y, int vocabulary, int dim)
    {
        Shapes.Same(Shapes.Matrix(vocabulary, dim), table.Length, nameof(table));
        Shapes.Same(Shapes.Matrix(indices.Length, dim), y.Length, nameof(y));
        for (var r = 0; r < indices.Length; r++)
        {
            var v = Shapes.Label(indices[r], r, vocabulary);
            table.Slice(v * dim, dim).CopyTo(y.Slice(r * dim, dim));
        }
    }

    /// <summary>
    /// lengths[n] = 1 + the last position of row n of indices [N, T] that is not 0, the padding index (0 for a row of
    /// padding only): the length of a sequence padded at its end.
    /// </summary>
    public static void SequenceLengths(ReadOnlySpan<float> indices, Span<float> lengths, int steps)
    {
        Shapes.Same(Shapes.Matrix(lengths.Length, steps), indices.Length, nameof(indices));
        for (var n = 0; n < lengths.Length; n++)
        {
            var row = indices.Slice(n * steps, steps);
            var length = steps;
            while (length > 0 && row[length - 1] == 0f) length--;
            lengths[n] = length;
        }
    }

    /// <summary>dtable = 0, then dtable[indices[r]] += dy[r] for every row: an index seen twice gets both rows.</summary>
    public static void Backward(ReadOnlySpan<float> indices, ReadOnlySpan<float> dy, Span<float> dtable, int vocabulary, int dim)
    {
        Shapes.Same(Shapes.Matrix(vocabulary, dim), dtable.Length, nameof(dtable));
        Shapes.Same(Shapes.Matrix(indices.Length, dim), dy.Length, nameof(dy));
        dtable.Clear();
        for (var r = 0; r < indices.Length; r++)
        {
            var row = dtable.Slice(Shapes.Label(indices[r], r, vocabulary) * dim, dim);
            TensorPrimitives.Add(row, dy.Slice(r * dim, dim), row);
        }
    }
}
