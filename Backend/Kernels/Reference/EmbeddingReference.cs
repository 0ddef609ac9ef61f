using System.Numerics;

namespace Dlc.Backend.Kernels.Reference;

/// <summary>The definition of <see cref="Embedding"/> in plain loops, generic over T.</summary>
public static class EmbeddingReference
{
    public static void Forward<T>(ReadOnlySpan<T> indices, ReadOnlySpan<T> table, Span<T> y, int vocabulary, int dim)
        where T : IFloatingPointIeee754<T>
    {
        for (var r = 0; r < indices.Length; r++)
        {
            var v = Shapes.Label(double.CreateChecked(indices[r]), r, vocabulary);
            for (var j = 0; j < dim; j++) y[r * dim + j] = table[v * dim + j];
        }
    }

    public static void Backward<T>(ReadOnlySpan<T> indices, ReadOnlySpan<T> dy, Span<T> dtable, int vocabulary, int dim)
        where T : IFloatingPointIeee754<T>
    {
        dtable.Clear();
        for (var r = 0; r < indices.Length; r++)
        {
            var v = Shapes.Label(double.CreateChecked(indices[r]), r, vocabulary);
            for (var j = 0; j < dim; j++) dtable[v * dim + j] += dy[r * dim + j];
        }
    }

    public static void SequenceLengths<T>(ReadOnlySpan<T> indices, Span<T> lengths, int steps) where T : IFloatingPointIeee754<T>
    {
        for (var n = 0; n < lengths.Length; n++)
        {
            var length = 0;
            for (var t = 0; t < steps; t++)
            {
                if (indices[n * steps + t] != T.Zero) length = t + 1;
            }
            lengths[n] = T.CreateChecked(length);
        }
    }
}
