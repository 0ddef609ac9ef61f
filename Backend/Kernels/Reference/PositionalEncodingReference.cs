using System.Numerics;

namespace Dlc.Backend.Kernels.Reference;

/// <summary>The definition of <see cref="PositionalEncoding"/> in plain loops, generic over T: y [N, T, E] = x + pe[t, e].</summary>
public static class PositionalEncodingReference
{
    public static void Forward<T>(ReadOnlySpan<T> x, Span<T> y, int batch, int steps, int features) where T : IFloatingPointIeee754<T>
    {
        Shapes.Same(batch * steps * features, x.Length, nameof(x));
        Shapes.Same(x.Length, y.Length, nameof(y));
        for (var n = 0; n < batch; n++)
        {
            for (var t = 0; t < steps; t++)
            {
                for (var i = 0; i < features; i++)
                {
                    var at = (n * steps + t) * features + i;
                    y[at] = x[at] + T.CreateChecked(PositionalEncoding.Value(t, i, features));
                }
            }
        }
    }
}
