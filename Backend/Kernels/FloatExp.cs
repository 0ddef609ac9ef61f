using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Dlc.Backend.Kernels;

/// <summary>A float exponential for the vector kernels whose exponentials dominate their time.</summary>
internal static class FloatExp
{
    /// <summary>
    /// e^x in float lanes: 2^n·2^f with x·log2 e = n + f, |f| ≤ ½, and 2^f by its Taylor series to f⁶ (relative error
    /// below 2e-7, as float's own rounding). The recurrent cells' and GELU's exponentials are most of their work, and
    /// this costs a few multiply-adds where the library's widens to double.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Exp8(Vector256<float> x)
    {
        x = Vector256.Min(Vector256.Max(x, Vector256.Create(-87.3f)), Vector256.Create(88.7f));
        var t = x * Vector256.Create(1.44269504f);
        var n = Vector256.Round(t);
        var f = t - n;
        var p = Vector256.Create(1.5403530e-4f);
        p = Vector256.FusedMultiplyAdd(p, f, Vector256.Create(1.3333558e-3f));
        p = Vector256.FusedMultiplyAdd(p, f, Vector256.Create(9.6181291e-3f));
        p = Vector256.FusedMultiplyAdd(p, f, Vector256.Create(5.5504109e-2f));
        p = Vector256.FusedMultiplyAdd(p, f, Vector256.Create(0.24022651f));
        p = Vector256.FusedMultiplyAdd(p, f, Vector256.Create(0.69314718f));
        p = Vector256.FusedMultiplyAdd(p, f, Vector256<float>.One);
        // n is whole and within ±127 here, so the native conversion (one instruction; the portable one saturates out of
        // range at a few more) gives the same integer.
        var scale = Vector256.ShiftLeft(Vector256.ConvertToInt32Native(n) + Vector256.Create(127), 23).AsSingle();
        return p * scale;
    }
}
