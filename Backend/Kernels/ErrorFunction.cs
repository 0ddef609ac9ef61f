using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Dlc.Backend.Kernels;

/// <summary>
/// erf, which .NET lacks, from W. J. Cody's rational Chebyshev approximations (Math. Comp. 23, 1969;
/// the CALERF routine of SPECFUN): x·P(x²)/Q(x²) for |x| ≤ 0.46875, and erfc(|x|) = exp(−x²)·P(|x|)/Q(|x|)
/// up to 4, or exp(−x²)/|x|·(1/√π + R(1/x²)/x²) beyond.
/// The double version keeps all of Cody's precision (~1e-16 relative) for the reference kernels. The float
/// versions evaluate the same fractions in double lanes and round once, which leaves them within half a
/// float ulp plus a hair (~6e-8 relative); they drop the large-|x| branch, since erf(|x| ≥ 4) rounds to ±1
/// in float, and the exp splitting that only matters for double results.
/// </summary>
public static class ErrorFunction
{
    private const double Threshold = 0.46875;
    private const double InvSqrtPi = 5.6418958354775628695e-1;

    private const double A0 = 3.16112374387056560e00, A1 = 1.13864154151050156e02, A2 = 3.77485237685302021e02;
    private const double A3 = 3.20937758913846947e03, A4 = 1.85777706184603153e-1;
    private const double B0 = 2.36012909523441209e01, B1 = 2.44024637934444173e02, B2 = 1.28261652607737228e03;
    private const double B3 = 2.84423683343917062e03;

    private const double C0 = 5.64188496988670089e-1, C1 = 8.88314979438837594e00, C2 = 6.61191906371416295e01;
    private const double C3 = 2.98635138197400131e02, C4 = 8.81952221241769090e02, C5 = 1.71204761263407058e03;
    private const double C6 = 2.05107837782607147e03, C7 = 1.23033935479799725e03, C8 = 2.15311535474403846e-8;
    private const double D0 = 1.57449261107098347e01, D1 = 1.17693950891312499e02, D2 = 5.37181101862009858e02;
    private const double D3 = 1.62138957456669019e03, D4 = 3.29079923573345963e03, D5 = 4.36261909014324716e03;
    private const double D6 = 3.43936767414372164e03, D7 = 1.23033935480374942e03;

    private const double P0 = 3.05326634961232344e-1, P1 = 3.60344899949804439e-1, P2 = 1.25781726111229246e-1;
    private const double P3 = 1.60837851487422766e-2, P4 = 6.58749161529837803e-4, P5 = 1.63153871373020978e-2;
    private const double Q0 = 2.56852019228982242e00, Q1 = 1.87295284992346725e00, Q2 = 5.27905102951428412e-1;
    private const double Q3 = 6.05183413124413191e-2, Q4 = 2.33520497626869185e-3;

    /// <summary>erf(x) to about 1e-16 relative (the reference kernels' definition).</summary>
    public static double Erf(double x)
    {
        if (double.IsNaN(x)) return x;
        var y = Math.Abs(x);
        if (y <= Threshold) return x * SmallRatio(y * y);
        var result = 0.5 - ErfcLarge(y) + 0.5;
        return x < 0 ? -result : result;
    }

    /// <summary>erfc(x) = 1 − erf(x) without the cancellation, to about 1e-16 relative.</summary>
    public static double Erfc(double x)
    {
        if (double.IsNaN(x)) return x;
        var y = Math.Abs(x);
        if (y <= Threshold) return 1.0 - x * SmallRatio(y * y);
        var tail = ErfcLarge(y);
        return x < 0 ? 2.0 - tail : tail;
    }

    /// <summary>erf(x) in float, within about 6e-8 relative.</summary>
    public static float Erf(float x)
    {
        double xd = x, y = Math.Abs(xd);
        if (y <= Threshold) return (float)(xd * SmallRatio(y * y));
        if (!(y < 4.0)) return float.IsNaN(x) ? x : MathF.CopySign(1f, x);
        var result = 1.0 - Math.Exp(-y * y) * MediumRatio(y);
        return (float)(xd < 0 ? -result : result);
    }

    /// <summary>y = erf(x) over spans, vectorised; y may be x itself.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Erf(ReadOnlySpan<float> x, Span<float> y)
    {
        if (y.Length != x.Length) throw new ArgumentException("x and y must have the same length.", nameof(y));
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref var xs = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(x);
            ref var ys = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(y);
            for (; i <= x.Length - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var (lo, hi) = Vector256.Widen(Vector256.LoadUnsafe(ref xs, (nuint)i));
                Vector256.Narrow(Erf4(lo), Erf4(hi)).StoreUnsafe(ref ys, (nuint)i);
            }
        }
        for (; i < x.Length; i++) y[i] = Erf(x[i]);
    }

    /// <summary>The float-targeted erf on four double lanes: both fractions everywhere, then a select.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> Erf4(Vector256<double> x)
    {
        var y = Vector256.Abs(x);
        var z = y * y;
        var sn = Fma(Fma(Fma(Fma(Vector256.Create(A4), z, A0), z, A1), z, A2), z, A3);
        var sd = Fma(Fma(Fma(z + Vector256.Create(B0), z, B1), z, B2), z, B3);
        var small = x * sn / sd;

        // Past 4 the result is ±1 in float; clamping also keeps inf and huge |x| out of exp.
        var yc = Vector256.ConditionalSelect(Vector256.LessThan(y, Vector256.Create(4.0)), y, Vector256.Create(4.0));
        var mn = Vector256.Create(C8);
        mn = Fma(Fma(Fma(Fma(Fma(Fma(Fma(Fma(mn, yc, C0), yc, C1), yc, C2), yc, C3), yc, C4), yc, C5), yc, C6), yc, C7);
        var md = Fma(Fma(Fma(Fma(Fma(Fma(Fma(yc + Vector256.Create(D0), yc, D1), yc, D2), yc, D3), yc, D4), yc, D5), yc, D6), yc, D7);
        var large = Vector256<double>.One - Vector256.Exp(-(yc * yc)) * (mn / md);
        large = Vector256.CopySign(large, x);

        var result = Vector256.ConditionalSelect(Vector256.LessThanOrEqual(y, Vector256.Create(Threshold)), small, large);
        // NaN fails both comparisons above and would come out as ±1.
        return Vector256.ConditionalSelect(Vector256.Equals(x, x), result, x);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> Fma(Vector256<double> a, Vector256<double> b, double c) =>
        Vector256.FusedMultiplyAdd(a, b, Vector256.Create(c));

    /// <summary>P(z)/Q(z) of the |x| ≤ 0.46875 fraction, z = x².</summary>
    private static double SmallRatio(double z)
    {
        var num = (((A4 * z + A0) * z + A1) * z + A2) * z + A3;
        var den = (((z + B0) * z + B1) * z + B2) * z + B3;
        return num / den;
    }

    /// <summary>P(y)/Q(y) of the 0.46875 &lt; y ≤ 4 fraction: erfc(y) = exp(−y²)·ratio.</summary>
    private static double MediumRatio(double y)
    {
        var num = (((((((C8 * y + C0) * y + C1) * y + C2) * y + C3) * y + C4) * y + C5) * y + C6) * y + C7;
        var den = (((((((y + D0) * y + D1) * y + D2) * y + D3) * y + D4) * y + D5) * y + D6) * y + D7;
        return num / den;
    }

    /// <summary>erfc(y) for y &gt; 0.46875 at full double precision.</summary>
    private static double ErfcLarge(double y)
    {
        if (y >= 26.543) return 0.0; // erfc underflows past here
        double ratio;
        if (y <= 4.0)
        {
            ratio = MediumRatio(y);
        }
        else
        {
            var z = 1.0 / (y * y);
            var num = ((((P5 * z + P0) * z + P1) * z + P2) * z + P3) * z + P4;
            var den = ((((z + Q0) * z + Q1) * z + Q2) * z + Q3) * z + Q4;
            ratio = (InvSqrtPi - z * num / den) / y;
        }
        // exp(−y²) split as exp(−s²)·exp(−(y−s)(y+s)) with s = y rounded down to 1/16: y² itself would carry
        // a rounding error that exp magnifies by y².
        var s = Math.Truncate(y * 16.0) / 16.0;
        return Math.Exp(-s * s) * Math.Exp(-(y - s) * (y + s)) * ratio;
    }
}
