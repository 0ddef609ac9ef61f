using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Dlc.Backend.Kernels;

/// <summary>
/// Layer norm's work on one row of n values, over raw pointers in 256-bit vectors with a scalar tail that does the same
/// arithmetic. A row is a few hundred bytes that stay in L1, so each kernel makes as few passes as its sums allow: the
/// forward row two for the statistics and one for y; both gradients one for the mean, one for the variance and the
/// gradient's two sums (all about the mean, so nothing cancels), and one for dx and dw together.
/// <see cref="Normalization"/>'s span kernels check shapes and call these.
/// </summary>
internal static unsafe class LayerNormRows
{
    /// <summary>The row's mean, and 1/√(var + eps) with the biased variance Σ(x − mean)²/n finished in double.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static (float Mean, float InvStd) Statistics(float* x, int n, float eps)
    {
        var mean = Sum(x, n) / n;
        return (mean, InverseStd(SquaredDeviations(x, n, mean), n, eps));
    }

    /// <summary>y = (x − mean)·invStd·w + b.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Forward(float* x, float* w, float* b, float* y, int n, float eps)
    {
        var (mean, invStd) = Statistics(x, n, eps);
        var shift = -mean * invStd;
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var (s, c) = (Vector256.Create(invStd), Vector256.Create(shift));
            for (; i <= n - 8; i += 8)
            {
                var normal = Vector256.FusedMultiplyAdd(Vector256.Load(x + i), s, c);
                Vector256.FusedMultiplyAdd(normal, Vector256.Load(w + i), Vector256.Load(b + i)).Store(y + i);
            }
        }
        for (; i < n; i++) y[i] = MathF.FusedMultiplyAdd(MathF.FusedMultiplyAdd(x[i], invStd, shift), w[i], b[i]);
    }

    /// <summary>
    /// dx = σ⁻¹·(g − mean(g) − x̂·mean(g·x̂)) with g = dy·w (overwritten) and, unless null, dw += dy·x̂ and db += dy
    /// (accumulated).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Gradients(float* x, float* w, float* dy, float* dx, float* dw, float* db, int n, float eps)
    {
        var mean = Sum(x, n) / n;
        double squares = 0, sumG = 0, sumGx = 0;
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            // Two sets of sums, even and odd vectors, so each chain of additions is half as long.
            var centre = Vector256.Create(mean);
            var (sq0, g0, gx0) = (Vector256<float>.Zero, Vector256<float>.Zero, Vector256<float>.Zero);
            var (sq1, g1, gx1) = (Vector256<float>.Zero, Vector256<float>.Zero, Vector256<float>.Zero);
            for (; i <= n - 16; i += 16)
            {
                var (d, e) = (Vector256.Load(x + i) - centre, Vector256.Load(x + i + 8) - centre);
                var (g, h) = (Vector256.Load(dy + i) * Vector256.Load(w + i), Vector256.Load(dy + i + 8) * Vector256.Load(w + i + 8));
                sq0 = Vector256.FusedMultiplyAdd(d, d, sq0);
                sq1 = Vector256.FusedMultiplyAdd(e, e, sq1);
                g0 += g;
                g1 += h;
                gx0 = Vector256.FusedMultiplyAdd(g, d, gx0);
                gx1 = Vector256.FusedMultiplyAdd(h, e, gx1);
            }
            for (; i <= n - 8; i += 8)
            {
                var d = Vector256.Load(x + i) - centre;
                var g = Vector256.Load(dy + i) * Vector256.Load(w + i);
                sq0 = Vector256.FusedMultiplyAdd(d, d, sq0);
                g0 += g;
                gx0 = Vector256.FusedMultiplyAdd(g, d, gx0);
            }
            (squares, sumG, sumGx) = (Vector256.Sum(sq0 + sq1), Vector256.Sum(g0 + g1), Vector256.Sum(gx0 + gx1));
        }
        for (; i < n; i++)
        {
            var d = x[i] - mean;
            var g = dy[i] * w[i];
            squares += d * d;
            sumG += g;
            sumGx += g * d;
        }
        var invStd = InverseStd(squares, n, eps);
        // dx = g·invStd + x·slope + shift, and x̂ = x·invStd + xShift.
        var slope = (float)(-sumGx / n * invStd * invStd * invStd);
        var shift = -invStd * (float)(sumG / n) - mean * slope;
        var xShift = -mean * invStd;
        i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var (s, k, c, xs) = (Vector256.Create(invStd), Vector256.Create(slope), Vector256.Create(shift), Vector256.Create(xShift));
            for (; i <= n - 8; i += 8)
            {
                var (xi, dyi) = (Vector256.Load(x + i), Vector256.Load(dy + i));
                Vector256.FusedMultiplyAdd(dyi * Vector256.Load(w + i), s, Vector256.FusedMultiplyAdd(xi, k, c)).Store(dx + i);
                if (dw != null) Vector256.FusedMultiplyAdd(dyi, Vector256.FusedMultiplyAdd(xi, s, xs), Vector256.Load(dw + i)).Store(dw + i);
                if (db != null) (Vector256.Load(db + i) + dyi).Store(db + i);
            }
        }
        for (; i < n; i++)
        {
            dx[i] = MathF.FusedMultiplyAdd(dy[i] * w[i], invStd, MathF.FusedMultiplyAdd(x[i], slope, shift));
            if (dw != null) dw[i] = MathF.FusedMultiplyAdd(dy[i], MathF.FusedMultiplyAdd(x[i], invStd, xShift), dw[i]);
            if (db != null) db[i] += dy[i];
        }
    }

    /// <summary>dw += dy·x̂ over one row (accumulated).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void WeightGradient(float* x, float* dy, float* dw, int n, float eps)
    {
        var (mean, invStd) = Statistics(x, n, eps);
        var xShift = -mean * invStd;
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var (s, xs) = (Vector256.Create(invStd), Vector256.Create(xShift));
            for (; i <= n - 8; i += 8)
                Vector256.FusedMultiplyAdd(Vector256.Load(dy + i), Vector256.FusedMultiplyAdd(Vector256.Load(x + i), s, xs), Vector256.Load(dw + i)).Store(dw + i);
        }
        for (; i < n; i++) dw[i] = MathF.FusedMultiplyAdd(dy[i], MathF.FusedMultiplyAdd(x[i], invStd, xShift), dw[i]);
    }

    private static float InverseStd(double squares, int n, float eps) => (float)(1.0 / Math.Sqrt(squares / n + eps));

    // Four running sums in each of the statistics' passes: a row of 128 is sixteen vectors, and one sum made them a chain of
    // sixteen dependent additions (2048 rows of 128 on one thread: the forward row 229 -> 193 µs).
    private static float Sum(float* x, int n)
    {
        var i = 0;
        var sum = 0f;
        if (Vector256.IsHardwareAccelerated)
        {
            var (s0, s1, s2, s3) = (Vector256<float>.Zero, Vector256<float>.Zero, Vector256<float>.Zero, Vector256<float>.Zero);
            for (; i <= n - 32; i += 32)
            {
                s0 += Vector256.Load(x + i);
                s1 += Vector256.Load(x + i + 8);
                s2 += Vector256.Load(x + i + 16);
                s3 += Vector256.Load(x + i + 24);
            }
            for (; i <= n - 8; i += 8) s0 += Vector256.Load(x + i);
            sum = Vector256.Sum(s0 + s1 + (s2 + s3));
        }
        for (; i < n; i++) sum += x[i];
        return sum;
    }

    private static double SquaredDeviations(float* x, int n, float mean)
    {
        var i = 0;
        var total = 0.0;
        if (Vector256.IsHardwareAccelerated)
        {
            var centre = Vector256.Create(mean);
            var (s0, s1, s2, s3) = (Vector256<float>.Zero, Vector256<float>.Zero, Vector256<float>.Zero, Vector256<float>.Zero);
            for (; i <= n - 32; i += 32)
            {
                var (d0, d1, d2, d3) = (Vector256.Load(x + i) - centre, Vector256.Load(x + i + 8) - centre,
                    Vector256.Load(x + i + 16) - centre, Vector256.Load(x + i + 24) - centre);
                s0 = Vector256.FusedMultiplyAdd(d0, d0, s0);
                s1 = Vector256.FusedMultiplyAdd(d1, d1, s1);
                s2 = Vector256.FusedMultiplyAdd(d2, d2, s2);
                s3 = Vector256.FusedMultiplyAdd(d3, d3, s3);
            }
            for (; i <= n - 8; i += 8)
            {
                var d = Vector256.Load(x + i) - centre;
                s0 = Vector256.FusedMultiplyAdd(d, d, s0);
            }
            total = Vector256.Sum(s0 + s1 + (s2 + s3));
        }
        for (; i < n; i++)
        {
            var d = x[i] - mean;
            total += d * d;
        }
        return total;
    }
}
