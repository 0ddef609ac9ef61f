using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Dlc.Backend.Kernels;

/// <summary>
/// Splitting 16 consecutive floats into their even and odd elements and putting them back, with AVX2
/// shuffles: the stride-2 access of 2×2 pooling windows and of Winograd's tiles becomes two contiguous
/// vectors. Callers check <see cref="Avx2.IsSupported"/> first (<see cref="Avx512F.IsSupported"/> for the 32-float forms).
/// </summary>
internal static unsafe class EvenOdd
{
    private static readonly Vector512<int> Indices = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    private static readonly Vector512<int> Evens = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    private static readonly Vector512<int> Odds = Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    private static readonly Vector512<int> FirstPairs = Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    private static readonly Vector512<int> SecondPairs = Vector512.Create(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);

    /// <summary>Lanes below <paramref name="count"/> of sixteen set (none for a count of 0 or less).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> FirstLanes16(int count) => Vector512.LessThan(Indices, Vector512.Create(count)).AsSingle();

    /// <summary>The even and odd elements of 2·lanes consecutive floats (lanes ≤ 16; zeros past them), each in order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Vector512<float> Even, Vector512<float> Odd) Split16(float* at, int lanes)
    {
        var zero = Vector512<float>.Zero;
        var (lo, hi) = lanes == 16
            ? (Vector512.Load(at), Vector512.Load(at + 16))
            : (Avx512F.MaskLoad(at, FirstLanes16(2 * lanes), zero), Avx512F.MaskLoad(at + 16, FirstLanes16(2 * lanes - 16), zero));
        return (Avx512F.PermuteVar16x32x2(lo, Evens, hi), Avx512F.PermuteVar16x32x2(lo, Odds, hi));
    }

    /// <summary>at[0], at[2], … at[2(lanes − 1)] (lanes ≤ 16; zeros past them), reading nothing past the last of them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Evens16(float* at, int lanes)
    {
        var zero = Vector512<float>.Zero;
        var (lo, hi) = (Avx512F.MaskLoad(at, FirstLanes16(2 * lanes - 1), zero), Avx512F.MaskLoad(at + 16, FirstLanes16(2 * lanes - 17), zero));
        return Avx512F.PermuteVar16x32x2(lo, Evens, hi);
    }

    /// <summary>at[2i] += v[i] for i &lt; lanes (≤ 16); the odd elements between are written back as they were, and nothing
    /// past at[2(lanes − 1)] is read or written.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void AddToEvens16(float* at, Vector512<float> v, int lanes)
    {
        var zero = Vector512<float>.Zero;
        var (m0, m1) = (FirstLanes16(2 * lanes - 1), FirstLanes16(2 * lanes - 17));
        var (lo, hi) = (Avx512F.MaskLoad(at, m0, zero), Avx512F.MaskLoad(at + 16, m1, zero));
        var (even, odd) = (Avx512F.PermuteVar16x32x2(lo, Evens, hi) + v, Avx512F.PermuteVar16x32x2(lo, Odds, hi));
        Avx512F.MaskStore(at, m0, Avx512F.PermuteVar16x32x2(even, FirstPairs, odd));
        Avx512F.MaskStore(at + 16, m1, Avx512F.PermuteVar16x32x2(even, SecondPairs, odd));
    }

    /// <summary>Stores a[0] b[0] a[1] b[1] … up to lane <paramref name="lanes"/> (≤ 16).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Interleave16(float* at, Vector512<float> a, Vector512<float> b, int lanes)
    {
        var (first, second) = (Avx512F.PermuteVar16x32x2(a, FirstPairs, b), Avx512F.PermuteVar16x32x2(a, SecondPairs, b));
        if (lanes == 16)
        {
            first.Store(at);
            second.Store(at + 16);
            return;
        }
        Avx512F.MaskStore(at, FirstLanes16(2 * lanes), first);
        Avx512F.MaskStore(at + 16, FirstLanes16(2 * lanes - 16), second);
    }

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
