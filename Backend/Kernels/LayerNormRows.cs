using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Dlc.Backend.Kernels;

/// <summary>
/// Layer norm's work on rows of n values, over raw pointers in 256-bit vectors with a scalar tail that does the same
/// arithmetic. A row is a few hundred bytes that stay in L1, so each kernel makes as few passes as its sums allow: the
/// forward row two for the statistics and one for y; both gradients one for the mean, one for the variance and the
/// gradient's two sums (all about the mean, so nothing cancels), and one for dx and dw together.
/// <para>
/// Rows are taken <see cref="Group"/> at a time: first every row's statistics, then every row's last pass. A row's
/// statistics are a chain of reductions that each wait on the last, short enough that the next rows' chains overlap
/// with it, where a row's statistics followed by its own pass ran each chain alone (2048 rows of 128 on one thread:
/// forward 193 → 166 µs, both gradients 339 → 278 µs).
/// </para>
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

    /// <summary>Rows a kernel takes per group: their statistics first, then their last passes.</summary>
    internal const int Group = 8;

    /// <summary>y = (x − mean)·invStd·w + b for <paramref name="rows"/> rows of n (x and y row stride n).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Forward(float* x, float* w, float* b, float* y, int rows, int n, float eps)
    {
        var scales = stackalloc float[Group];
        var shifts = stackalloc float[Group];
        for (var r0 = 0; r0 < rows; r0 += Group)
        {
            var count = Math.Min(Group, rows - r0);
            for (var r = 0; r < count; r++)
            {
                var (mean, invStd) = Statistics(x + (long)(r0 + r) * n, n, eps);
                (scales[r], shifts[r]) = (invStd, -mean * invStd);
            }
            for (var r = 0; r < count; r++)
            {
                var at = (long)(r0 + r) * n;
                Normalize(x + at, w, b, y + at, n, scales[r], shifts[r]);
            }
        }
    }

    /// <summary>y = (x·invStd + shift)·w + b over one row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Normalize(float* x, float* w, float* b, float* y, int n, float invStd, float shift)
    {
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
    /// (accumulated), for <paramref name="rows"/> rows of n (x, dy and dx row stride n).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Gradients(float* x, float* w, float* dy, float* dx, float* dw, float* db, int rows, int n, float eps)
    {
        var terms = stackalloc GradientTerms[Group];
        for (var r0 = 0; r0 < rows; r0 += Group)
        {
            var count = Math.Min(Group, rows - r0);
            for (var r = 0; r < count; r++)
            {
                var at = (long)(r0 + r) * n;
                terms[r] = Terms(x + at, w, dy + at, n, eps);
            }
            for (var r = 0; r < count; r++)
            {
                var at = (long)(r0 + r) * n;
                ApplyGradients(x + at, w, dy + at, dx + at, dw, db, n, terms[r]);
            }
        }
    }

    /// <summary>A row's gradient as dx = g·InvStd + x·Slope + Shift, and x̂ = x·InvStd + XShift.</summary>
    private readonly record struct GradientTerms(float InvStd, float Slope, float Shift, float XShift);

    /// <summary>The row's mean, then its variance and the gradient's two sums in one pass, and from them its <see cref="GradientTerms"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static GradientTerms Terms(float* x, float* w, float* dy, int n, float eps)
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
        var slope = (float)(-sumGx / n * invStd * invStd * invStd);
        return new GradientTerms(invStd, slope, -invStd * (float)(sumG / n) - mean * slope, -mean * invStd);
    }

    /// <summary>One row's dx (overwritten), and dw and db (accumulated) unless null, from its <see cref="GradientTerms"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ApplyGradients(float* x, float* w, float* dy, float* dx, float* dw, float* db, int n, GradientTerms t)
    {
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var (s, k, c, xs) = (Vector256.Create(t.InvStd), Vector256.Create(t.Slope), Vector256.Create(t.Shift), Vector256.Create(t.XShift));
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
            dx[i] = MathF.FusedMultiplyAdd(dy[i] * w[i], t.InvStd, MathF.FusedMultiplyAdd(x[i], t.Slope, t.Shift));
            if (dw != null) dw[i] = MathF.FusedMultiplyAdd(dy[i], MathF.FusedMultiplyAdd(x[i], t.InvStd, t.XShift), dw[i]);
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
