using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Dlc.Backend.Kernels;

/// <summary>An element-wise function of two inputs, in vector and scalar form that must agree.</summary>
internal interface IBinaryOp
{
    static abstract Vector256<float> Apply(Vector256<float> a, Vector256<float> b);
    static abstract float Apply(float a, float b);
}

/// <summary>An element-wise function of one input, in vector and scalar form that must agree.</summary>
internal interface IUnaryOp
{
    static abstract Vector256<float> Apply(Vector256<float> x);
    static abstract float Apply(float x);
}

/// <summary>
/// Runs an <see cref="IUnaryOp"/> or <see cref="IBinaryOp"/> over spans, 256 bits at a time with a scalar tail. These maps are
/// memory-bound, so 256-bit vectors already saturate bandwidth and run on every x64 with AVX2.
/// </summary>
internal static class ElementwiseMap
{
    /// <summary>y[i] = op(x[i]); y may be x itself.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Unary<TOp>(ReadOnlySpan<float> x, Span<float> y)
        where TOp : IUnaryOp
    {
        Shapes.Same(x.Length, y.Length, nameof(y));
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref var xr = ref MemoryMarshal.GetReference(x);
            ref var yr = ref MemoryMarshal.GetReference(y);
            for (; i <= x.Length - Vector256<float>.Count; i += Vector256<float>.Count)
                TOp.Apply(Vector256.LoadUnsafe(ref xr, (nuint)i)).StoreUnsafe(ref yr, (nuint)i);
        }
        for (; i < x.Length; i++) y[i] = TOp.Apply(x[i]);
    }

    /// <summary>y[i] = op(a[i], b[i]); y may be a or b itself.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Binary<TOp>(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y)
        where TOp : IBinaryOp
    {
        Shapes.Same(a.Length, b.Length, nameof(b));
        Shapes.Same(a.Length, y.Length, nameof(y));
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref var ar = ref MemoryMarshal.GetReference(a);
            ref var br = ref MemoryMarshal.GetReference(b);
            ref var yr = ref MemoryMarshal.GetReference(y);
            for (; i <= a.Length - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var va = Vector256.LoadUnsafe(ref ar, (nuint)i);
                var vb = Vector256.LoadUnsafe(ref br, (nuint)i);
                TOp.Apply(va, vb).StoreUnsafe(ref yr, (nuint)i);
            }
        }
        for (; i < a.Length; i++) y[i] = TOp.Apply(a[i], b[i]);
    }
}
