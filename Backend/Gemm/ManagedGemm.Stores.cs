using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Dlc.Backend.Kernels;

namespace Dlc.Backend.Gemm;

/// <summary>Storing into C what the kernels did not store themselves: edge tiles computed into scratch, and C scaled alone.</summary>
public sealed unsafe partial class ManagedGemm
{
    /// <summary>The valid rows × cols of a tile computed into scratch (row stride ld), scaled into C: alpha·tile + beta·C.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void StoreScratch(float* tile, int ld, float* c, int ldc, int rows, int cols, float alpha, float beta)
    {
        if (Avx512F.IsSupported && cols <= 32 && cols <= ld)
        {
            StoreScratch32(tile, ld, c, ldc, rows, cols, alpha, beta);
            return;
        }
        for (var i = 0; i < rows; i++)
        {
            var crow = c + (long)i * ldc;
            var trow = tile + (long)i * ld;
            for (var j = 0; j < cols; j++)
                crow[j] = beta == 0f ? alpha * trow[j] : alpha * trow[j] + beta * crow[j];
        }
    }

    /// <summary>
    /// <see cref="StoreScratch"/> for rows of at most 32 columns (at most ld), sixteen at a time under masks, each element as
    /// <see cref="GemmKernels.Scaled(float*, Vector512{float}, float, float)"/> makes a full tile's: an edge column gets
    /// the same arithmetic as the columns before it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void StoreScratch32(float* tile, int ld, float* c, int ldc, int rows, int cols, float alpha, float beta)
    {
        var (low, high) = (EvenOdd.FirstLanes16(cols), EvenOdd.FirstLanes16(cols - 16));
        var (va, vb) = (Vector512.Create(alpha), Vector512.Create(beta));
        for (var i = 0; i < rows; i++)
        {
            var crow = c + (long)i * ldc;
            var trow = tile + (long)i * ld;
            // A tile sixteen wide (Narrow's) has no second vector: cols ≤ 16 there, so its mask stores nothing.
            var (v0, v1) = (Vector512.Load(trow), ld >= 32 ? Vector512.Load(trow + 16) : Vector512<float>.Zero);
            if (beta != 0f)
            {
                v0 = Vector512.FusedMultiplyAdd(v0, va, Avx512F.MaskLoad(crow, low, Vector512<float>.Zero) * vb);
                v1 = Vector512.FusedMultiplyAdd(v1, va, Avx512F.MaskLoad(crow + 16, high, Vector512<float>.Zero) * vb);
            }
            else if (alpha != 1f)
            {
                v0 *= va;
                v1 *= va;
            }
            Avx512F.MaskStore(crow, low, v0);
            Avx512F.MaskStore(crow + 16, high, v1);
        }
    }

    private static void ScaleRows(float* c, int ldc, int m, int n, float beta)
    {
        for (var i = 0; i < m; i++)
        {
            var row = new Span<float>(c + (long)i * ldc, n);
            if (beta == 0f) row.Clear();
            else if (beta != 1f) TensorPrimitives.Multiply(row, beta, row);
        }
    }
}
