using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Dlc.Backend.Kernels;

/// <summary>
/// Batch norm's passes over one plane of a channel (S contiguous values of one sample): sums in float vectors returned in
/// double, and the affine maps that write y or dx. With AVX-512, sixteen values at a time and the plane's last ones under
/// a mask, in one loop per pass; otherwise <see cref="TensorPrimitives"/>. A 7×7 plane is 49 values, so a call per pass
/// per plane (as TensorPrimitives takes) cost about as much as the arithmetic in a ResNet's last stage.
/// </summary>
internal static unsafe class BatchNormPlanes
{
    /// <summary>Σ x over n values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Sum(float* x, int n)
    {
        if (!Avx512F.IsSupported) return TensorPrimitives.Sum(new ReadOnlySpan<float>(x, n));
        var sum = Vector512<float>.Zero;
        var i = 0;
        for (; i + 16 <= n; i += 16) sum += Vector512.Load(x + i);
        if (i < n) sum += Avx512F.MaskLoad(x + i, EvenOdd.FirstLanes16(n - i), Vector512<float>.Zero);
        return Vector512.Sum(sum);
    }

    /// <summary>Σ (x − mean)² over n values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double SquaredDeviations(float* x, int n, float mean)
    {
        var i = 0;
        var total = 0.0;
        if (Avx512F.IsSupported)
        {
            var (centre, sum) = (Vector512.Create(mean), Vector512<float>.Zero);
            for (; i + 16 <= n; i += 16)
            {
                var d = Vector512.Load(x + i) - centre;
                sum = Vector512.FusedMultiplyAdd(d, d, sum);
            }
            if (i < n)
            {
                // Lanes past the plane load as the mean itself, so they add nothing.
                var d = Avx512F.MaskLoad(x + i, EvenOdd.FirstLanes16(n - i), centre) - centre;
                sum = Vector512.FusedMultiplyAdd(d, d, sum);
            }
            return Vector512.Sum(sum);
        }
        if (Vector256.IsHardwareAccelerated)
        {
            var (centre, sum) = (Vector256.Create(mean), Vector256<float>.Zero);
            for (; i + 8 <= n; i += 8)
            {
                var d = Vector256.Load(x + i) - centre;
                sum += d * d;
            }
            total = Vector256.Sum(sum);
        }
        for (; i < n; i++)
        {
            var d = x[i] - mean;
            total += d * d;
        }
        return total;
    }

    /// <summary>Σ x, Σ dy and Σ dy·x over n values, in one pass.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (double X, double Dy, double DyX) Sums(float* x, float* dy, int n)
    {
        if (!Avx512F.IsSupported)
        {
            var xs = new ReadOnlySpan<float>(x, n);
            var dys = new ReadOnlySpan<float>(dy, n);
            return (TensorPrimitives.Sum(xs), TensorPrimitives.Sum(dys), TensorPrimitives.Dot(dys, xs));
        }
        Vector512<float> sx = default, sdy = default, sdyx = default;
        var i = 0;
        for (; i + 16 <= n; i += 16)
        {
            var (xv, dyv) = (Vector512.Load(x + i), Vector512.Load(dy + i));
            sx += xv;
            sdy += dyv;
            sdyx = Vector512.FusedMultiplyAdd(dyv, xv, sdyx);
        }
        if (i < n)
        {
            var mask = EvenOdd.FirstLanes16(n - i);
            var (xv, dyv) = (Avx512F.MaskLoad(x + i, mask, Vector512<float>.Zero), Avx512F.MaskLoad(dy + i, mask, Vector512<float>.Zero));
            sx += xv;
            sdy += dyv;
            sdyx = Vector512.FusedMultiplyAdd(dyv, xv, sdyx);
        }
        return (Vector512.Sum(sx), Vector512.Sum(sdy), Vector512.Sum(sdyx));
    }

    /// <summary>y = x · scale + shift over n values, or max(0, that) with <paramref name="relu"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Affine(float* x, int n, float scale, float shift, float* y, bool relu)
    {
        if (!Avx512F.IsSupported)
        {
            AffineVectors(x, n, scale, shift, y, relu);
            return;
        }
        // Without a ReLU the floor is −∞, which max leaves alone.
        var (s, b, floor) = (Vector512.Create(scale), Vector512.Create(shift), Vector512.Create(relu ? 0f : float.NegativeInfinity));
        var i = 0;
        for (; i + 16 <= n; i += 16) Vector512.Max(Vector512.FusedMultiplyAdd(Vector512.Load(x + i), s, b), floor).Store(y + i);
        if (i == n) return;
        var mask = EvenOdd.FirstLanes16(n - i);
        var v = Avx512F.MaskLoad(x + i, mask, Vector512<float>.Zero);
        Avx512F.MaskStore(y + i, mask, Vector512.Max(Vector512.FusedMultiplyAdd(v, s, b), floor));
    }

    /// <summary>dx = a · dy + k · x + d over n values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void InputGradient(float* x, float* dy, int n, float a, float k, float d, float* dx)
    {
        if (!Avx512F.IsSupported)
        {
            AffineVectors(x, n, k, d, dx, relu: false);
            var target = new Span<float>(dx, n);
            TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>(dy, n), a, target, target);
            return;
        }
        var (av, kv, dv) = (Vector512.Create(a), Vector512.Create(k), Vector512.Create(d));
        var i = 0;
        for (; i + 16 <= n; i += 16)
            Vector512.FusedMultiplyAdd(Vector512.Load(dy + i), av, Vector512.FusedMultiplyAdd(Vector512.Load(x + i), kv, dv)).Store(dx + i);
        if (i == n) return;
        var mask = EvenOdd.FirstLanes16(n - i);
        var (xv, dyv) = (Avx512F.MaskLoad(x + i, mask, Vector512<float>.Zero), Avx512F.MaskLoad(dy + i, mask, Vector512<float>.Zero));
        Avx512F.MaskStore(dx + i, mask, Vector512.FusedMultiplyAdd(dyv, av, Vector512.FusedMultiplyAdd(xv, kv, dv)));
    }

    /// <summary><see cref="Affine"/> without AVX-512: eight values at a time where vectors are accelerated.</summary>
    private static void AffineVectors(float* x, int n, float scale, float shift, float* y, bool relu)
    {
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var (s, b, floor) = (Vector256.Create(scale), Vector256.Create(shift), Vector256.Create(relu ? 0f : float.NegativeInfinity));
            for (; i + 8 <= n; i += 8) Vector256.Max(Vector256.Load(x + i) * s + b, floor).Store(y + i);
        }
        for (; i < n; i++) y[i] = relu ? MathF.Max(x[i] * scale + shift, 0f) : x[i] * scale + shift;
    }
}
