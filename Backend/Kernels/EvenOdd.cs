using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Dlc.Backend.Kernels;

/// <summary>
/// Splitting 16 consecutive floats into their even and odd elements and putting them back, with AVX2
/// shuffles: the stride-2 access of 2×2 pooling windows and of Winograd's tiles becomes two contiguous
/// vectors. Callers check <see cref="Avx2.IsSupported"/> first.
/// </summary>
internal static unsafe class EvenOdd
{
    /// <summary>Lanes below <paramref name="count"/> set.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> FirstLanes(int count) =>
        Vector256.LessThan(Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7), Vector256.Create(count)).AsSingle();

    /// <summary>The even and odd elements of 2·lanes consecutive floats (zeros past them), each in order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector256<float> Even, Vector256<float> Odd) Split(float* at, int lanes = 8)
    {
        var (lo, hi) = lanes == 8
            ? (Avx.LoadVector256(at), Avx.LoadVector256(at + 8))
            : (Avx.MaskLoad(at, FirstLanes(2 * lanes)), Avx.MaskLoad(at + 8, FirstLanes(2 * lanes - 8)));
        // Shuffle picks within 128-bit lanes ([0 2 8 10 | 4 6 12 14]); the permute puts the 64-bit pairs in order.
        var even = Avx2.Permute4x64(Avx.Shuffle(lo, hi, 0b10_00_10_00).AsDouble(), 0b11_01_10_00).AsSingle();
        var odd = Avx2.Permute4x64(Avx.Shuffle(lo, hi, 0b11_01_11_01).AsDouble(), 0b11_01_10_00).AsSingle();
        return (even, odd);
    }

    /// <summary>Stores a[0] b[0] a[1] b[1] … up to lane <paramref name="lanes"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Interleave(float* at, Vector256<float> a, Vector256<float> b, int lanes = 8)
    {
        var (lo, hi) = (Avx.UnpackLow(a, b), Avx.UnpackHigh(a, b));
        var (first, second) = (Avx.Permute2x128(lo, hi, 0x20), Avx.Permute2x128(lo, hi, 0x31));
        if (lanes == 8)
        {
            Avx.Store(at, first);
            Avx.Store(at + 8, second);
            return;
        }
        Avx.MaskStore(at, FirstLanes(2 * lanes), first);
        Avx.MaskStore(at + 8, FirstLanes(2 * lanes - 8), second);
    }
}
