using System.Numerics;

namespace Dlc.Backend.Kernels.Reference;

/// <summary>The definition of <see cref="SequencePooling"/> in plain loops, generic over T; lengths null means every step.</summary>
public static class SequencePoolingReference
{
    public static void Mean<T>(ReadOnlySpan<T> x, int[]? lengths, Span<T> y, int batch, int steps, int features) where T : IFloatingPointIeee754<T>
    {
        for (var n = 0; n < batch; n++)
        {
            var length = lengths is null ? steps : Math.Clamp(lengths[n], 0, steps);
            for (var c = 0; c < features; c++)
            {
                var sum = T.Zero;
                for (var t = 0; t < length; t++) sum += x[(n * steps + t) * features + c];
                y[n * features + c] = length > 0 ? sum / T.CreateChecked(length) : T.Zero;
            }
        }
    }

    public static void MeanBackward<T>(ReadOnlySpan<T> dy, int[]? lengths, Span<T> dx, int batch, int steps, int features) where T : IFloatingPointIeee754<T>
    {
        for (var n = 0; n < batch; n++)
        {
            var length = lengths is null ? steps : Math.Clamp(lengths[n], 0, steps);
            for (var t = 0; t < steps; t++)
            {
                for (var c = 0; c < features; c++)
                    dx[(n * steps + t) * features + c] = t < length ? dy[n * features + c] / T.CreateChecked(length) : T.Zero;
            }
        }
    }
}
