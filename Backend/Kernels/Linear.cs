using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Dlc.Backend.Kernels;

/// <summary>
/// The bias half of a linear layer (the product itself is an IGemm call). Shapes: x, y, dy [R, C];
/// bias, dbias [C], one value per column.
/// </summary>
public static class Linear
{
    /// <summary>y[r, c] = x[r, c] + bias[c]; y may be x itself.</summary>
    public static void BiasAdd(ReadOnlySpan<float> x, ReadOnlySpan<float> bias, Span<float> y, int rows, int cols)
    {
        var size = Shapes.Matrix(rows, cols);
        Shapes.Same(size, x.Length, nameof(x));
        Shapes.Same(cols, bias.Length, nameof(bias));
        Shapes.Same(size, y.Length, nameof(y));
        for (var r = 0; r < rows; r++) TensorPrimitives.Add(x.Slice(r * cols, cols), bias, y.Slice(r * cols, cols));
    }

    /// <summary>Columns the bias gradient sums at once (eight vectors down the rows).</summary>
    public const int BiasColumnBlock = 64;

    /// <summary>
    /// dbias[c] = Σ_r dy[r, c] (overwritten, not accumulated), summed row after row as the reference does.
    /// Strips of 64 columns keep their eight vector sums in registers while the rows stream past, so dbias is
    /// written once instead of once per row, and eight independent adds hide the add latency.
    /// </summary>
    public static void BiasBackward(ReadOnlySpan<float> dy, Span<float> dbias, int rows, int cols) =>
        BiasBackward(dy, dbias, rows, cols, 0, cols);

    /// <summary>
    /// <see cref="BiasBackward(ReadOnlySpan{float}, Span{float}, int, int)"/> for columns [c0, c1) only, so a plan can
    /// split the columns over threads; c0 should be a multiple of <see cref="BiasColumnBlock"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void BiasBackward(ReadOnlySpan<float> dy, Span<float> dbias, int rows, int cols, int c0, int c1)
    {
        Shapes.Same(Shapes.Matrix(rows, cols), dy.Length, nameof(dy));
        Shapes.Same(cols, dbias.Length, nameof(dbias));
        ref var src = ref MemoryMarshal.GetReference(dy);
        ref var dst = ref MemoryMarshal.GetReference(dbias);
        var stride = (nuint)cols;
        var c = c0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; c + BiasColumnBlock <= c1; c += BiasColumnBlock)
            {
                Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
                Vector256<float> s4 = default, s5 = default, s6 = default, s7 = default;
                var at = (nuint)c;
                for (var r = 0; r < rows; r++, at += stride)
                {
                    s0 += Vector256.LoadUnsafe(ref src, at);
                    s1 += Vector256.LoadUnsafe(ref src, at + 8);
                    s2 += Vector256.LoadUnsafe(ref src, at + 16);
                    s3 += Vector256.LoadUnsafe(ref src, at + 24);
                    s4 += Vector256.LoadUnsafe(ref src, at + 32);
                    s5 += Vector256.LoadUnsafe(ref src, at + 40);
                    s6 += Vector256.LoadUnsafe(ref src, at + 48);
                    s7 += Vector256.LoadUnsafe(ref src, at + 56);
                }
                var to = (nuint)c;
                s0.StoreUnsafe(ref dst, to);
                s1.StoreUnsafe(ref dst, to + 8);
                s2.StoreUnsafe(ref dst, to + 16);
                s3.StoreUnsafe(ref dst, to + 24);
                s4.StoreUnsafe(ref dst, to + 32);
                s5.StoreUnsafe(ref dst, to + 40);
                s6.StoreUnsafe(ref dst, to + 48);
                s7.StoreUnsafe(ref dst, to + 56);
            }
            for (; c + 8 <= c1; c += 8)
            {
                var sum = Vector256<float>.Zero;
                var at = (nuint)c;
                for (var r = 0; r < rows; r++, at += stride) sum += Vector256.LoadUnsafe(ref src, at);
                sum.StoreUnsafe(ref dst, (nuint)c);
            }
        }
        for (; c < c1; c++)
        {
            var sum = 0f;
            for (var r = 0; r < rows; r++) sum += dy[r * cols + c];
            dbias[c] = sum;
        }
    }
}
