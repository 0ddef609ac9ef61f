using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Dlc.Runtime.Training;

/// <summary>
/// torch.nn.utils.clip_grad_norm_ over every parameter at once: the gradients live in one buffer (padding
/// between tensors stays 0), so the global norm is one pass and the scaling another.
/// </summary>
public static class GradientClipping
{
    /// <summary>
    /// Scales <paramref name="gradients"/> by maxNorm / (norm + 1e-6) when their L2 norm is above
    /// <paramref name="maxNorm"/>, as torch does; returns the norm before clipping. Squares are summed in
    /// double, in a fixed order, so the result does not depend on the machine.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double ClipGlobalNorm(Span<float> gradients, double maxNorm)
    {
        var norm = Math.Sqrt(SumOfSquares(gradients));
        var scale = maxNorm / (norm + 1e-6);
        if (scale < 1)
        {
            var factor = (float)scale;
            var i = 0;
            if (Vector.IsHardwareAccelerated)
            {
                var f = new Vector<float>(factor);
                for (; i <= gradients.Length - Vector<float>.Count; i += Vector<float>.Count)
                    (new Vector<float>(gradients[i..]) * f).CopyTo(gradients[i..]);
            }
            for (; i < gradients.Length; i++) gradients[i] *= factor;
        }
        return norm;
    }

    public static double SumOfSquares(ReadOnlySpan<float> values)
    {
        var i = 0;
        var acc0 = Vector256<double>.Zero;
        var acc1 = Vector256<double>.Zero;
        ref var start = ref MemoryMarshal.GetReference(values);
        for (; i <= values.Length - 8; i += 8)
        {
            var (low, high) = Vector256.Widen(Vector256.LoadUnsafe(ref start, (nuint)i));
            acc0 += low * low;
            acc1 += high * high;
        }
        var sum = Vector256.Sum(acc0 + acc1);
        for (; i < values.Length; i++) sum += (double)values[i] * values[i];
        return sum;
    }
}
