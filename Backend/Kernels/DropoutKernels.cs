using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace Dlc.Backend.Kernels;

/// <summary>
/// Inverted dropout as torch.nn.Dropout in training: each element is kept with probability 1 − p and
/// scaled by 1/(1 − p). Shape: x, mask, y, dy, dx are [N]. The mask is kept for the backward pass.
/// </summary>
public static class DropoutKernels
{
    /// <summary>Writes mask (0 or 1/(1 − p)) from rng and y = x·mask; y may be x itself.</summary>
    public static void Dropout(ReadOnlySpan<float> x, Span<float> mask, Span<float> y, float p, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        if (!(p >= 0f && p <= 1f)) throw new ArgumentOutOfRangeException(nameof(p), p, "Dropout probability must be in [0, 1].");
        Shapes.Same(x.Length, mask.Length, nameof(mask));
        Shapes.Same(x.Length, y.Length, nameof(y));
        if (p == 0f)
        {
            // Nothing is dropped, and no random numbers are drawn.
            mask.Fill(1f);
            x.CopyTo(y);
            return;
        }
        rng.FillUniform(mask, 0f, 1f);
        var keep = 1f - p;
        var scale = p == 1f ? 0f : 1f / keep;
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var vKeep = Vector256.Create(keep);
            var vScale = Vector256.Create(scale);
            for (; i <= mask.Length - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var u = Vector256.Create(mask.Slice(i, Vector256<float>.Count));
                Vector256.ConditionalSelect(Vector256.LessThan(u, vKeep), vScale, Vector256<float>.Zero).CopyTo(mask.Slice(i));
            }
        }
        for (; i < mask.Length; i++) mask[i] = mask[i] < keep ? scale : 0f;
        TensorPrimitives.Multiply(x, mask, y);
    }

    /// <summary>dx = dy·mask.</summary>
    public static void DropoutBackward(ReadOnlySpan<float> dy, ReadOnlySpan<float> mask, Span<float> dx)
    {
        Shapes.Same(dy.Length, mask.Length, nameof(mask));
        Shapes.Same(dy.Length, dx.Length, nameof(dx));
        TensorPrimitives.Multiply(dy, mask, dx);
    }

    /// <summary>
    /// The mask of channel dropout (torch.nn.Dropout2d): each of <paramref name="planes"/> planes of
    /// <paramref name="positions"/> values is 0 with probability p, else 1/(1 − p), one draw per plane.
    /// </summary>
    public static void ChannelMask(Span<float> mask, int planes, int positions, float p, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        if (!(p >= 0f && p <= 1f)) throw new ArgumentOutOfRangeException(nameof(p), p, "Dropout probability must be in [0, 1].");
        Shapes.Same(planes * positions, mask.Length, nameof(mask));
        var keep = p == 1f ? 0f : 1f / (1f - p);
        for (var plane = 0; plane < planes; plane++)
            mask.Slice(plane * positions, positions).Fill(p > 0f && rng.NextFloat() < p ? 0f : keep);
    }
}
