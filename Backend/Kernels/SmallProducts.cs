using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Dlc.Backend.Kernels;

/// <summary>
/// C = alpha·A·B for the small products inside attention, where B (a head's keys or values, a few tens of KiB) sits
/// in L1 and packing it for every block of rows would cost as much as the product. A is read in place through two
/// strides, so the same loop multiplies by A or by Aᵀ; B is row-major; C is overwritten. The register tile is six
/// rows of C by sixteen columns, the GEMM's own AVX2 kernel reading A and B in place
/// (<see cref="Gemm.GemmKernels.RunInPlace"/>), then four and single rows for the rest, broadcasting one element of A
/// against two vectors of B per step of the sum. With AVX-512 and C's columns a multiple of 32, eight rows at a time go
/// through the GEMM's 8×32 tile first (<see cref="Gemm.GemmKernels.RunInPlace"/>): the encoder layer's attention,
/// forward and backward, 2.7 – 2.9 → 2.1 – 2.2 ms a step (medians of 20, alternating in one process). Every element is the same chain of multiply-adds whatever tile it
/// falls in. Callers take <see cref="IsSupported"/> first (x64 with AVX2 and FMA) and keep their general products
/// otherwise.
/// </summary>
internal static unsafe class SmallProducts
{
    /// <summary>Whether the vector loop runs here: 256-bit vectors in hardware, which brings FMA on every x64 with AVX2.</summary>
    internal static bool IsSupported => Vector256.IsHardwareAccelerated && System.Runtime.Intrinsics.X86.Fma.IsSupported;

    /// <summary>
    /// C[m×n] = alpha·Σₖ A(i, k)·B[k, j] with A(i, k) = a[i·rowStride + k·depthStride] (so (lda, 1) is A and (1, lda)
    /// is Aᵀ of a row-major A), B row-major with row stride ldb, C row-major with row stride ldc; n a multiple of 8.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Multiply(int m, int n, int k, float alpha, float* a, int rowStride, int depthStride,
        float* b, int ldb, float* c, int ldc)
    {
        if (n % 8 != 0) throw new ArgumentException($"the columns of C must be a multiple of 8, got {n}", nameof(n));
        var i = 0;
        if (Vector512.IsHardwareAccelerated && n % 32 == 0)
        {
            for (; i + 8 <= m; i += 8)
            {
                var ai = a + (long)i * rowStride;
                var ci = c + (long)i * ldc;
                for (var j = 0; j < n; j += 32) Gemm.GemmKernels.RunInPlace(Gemm.GemmIsa.Vector512, k, ai, rowStride, depthStride, b + j, ldb, ci + j, ldc, alpha, 0f);
            }
        }
        for (; i + 6 <= m; i += 6)
        {
            var ai = a + (long)i * rowStride;
            var ci = c + (long)i * ldc;
            var j = 0;
            for (; j + 16 <= n; j += 16) Gemm.GemmKernels.RunInPlace(Gemm.GemmIsa.Vector256, k, ai, rowStride, depthStride, b + j, ldb, ci + j, ldc, alpha, 0f);
            if (j < n)
            {
                Tile4x8(k, alpha, ai, rowStride, depthStride, b + j, ldb, ci + j, ldc);
                Tile1x8(k, alpha, ai + 4L * rowStride, depthStride, b + j, ldb, ci + 4L * ldc + j);
                Tile1x8(k, alpha, ai + 5L * rowStride, depthStride, b + j, ldb, ci + 5L * ldc + j);
            }
        }
        for (; i + 4 <= m; i += 4)
        {
            var ai = a + (long)i * rowStride;
            var ci = c + (long)i * ldc;
            var j = 0;
            for (; j + 16 <= n; j += 16) Tile4x16(k, alpha, ai, rowStride, depthStride, b + j, ldb, ci + j, ldc);
            if (j < n) Tile4x8(k, alpha, ai, rowStride, depthStride, b + j, ldb, ci + j, ldc);
        }
        for (; i < m; i++)
        {
            var ai = a + (long)i * rowStride;
            var ci = c + (long)i * ldc;
            for (var j = 0; j < n; j += 8) Tile1x8(k, alpha, ai, depthStride, b + j, ldb, ci + j);
        }
    }

    /// <summary>Sixteen floats of a row of C, scaled unless alpha is 1 (all but the scores): a short sum's tile spares its multiplies.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* c, Vector256<float> v0, Vector256<float> v1, float alpha)
    {
        if (alpha != 1f)
        {
            var s = Vector256.Create(alpha);
            v0 *= s;
            v1 *= s;
        }
        v0.Store(c);
        v1.Store(c + 8);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile4x16(int k, float alpha, float* a, int rowStride, int depthStride, float* b, int ldb, float* c, int ldc)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector256<float> c20 = default, c21 = default, c30 = default, c31 = default;
        float* a0 = a, a1 = a + rowStride, a2 = a1 + rowStride, a3 = a2 + rowStride;
        for (long p = 0, end = (long)k * depthStride; p != end; p += depthStride)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            b += ldb;
            var x = Vector256.Create(a0[p]);
            c00 = Vector256.FusedMultiplyAdd(x, b0, c00);
            c01 = Vector256.FusedMultiplyAdd(x, b1, c01);
            x = Vector256.Create(a1[p]);
            c10 = Vector256.FusedMultiplyAdd(x, b0, c10);
            c11 = Vector256.FusedMultiplyAdd(x, b1, c11);
            x = Vector256.Create(a2[p]);
            c20 = Vector256.FusedMultiplyAdd(x, b0, c20);
            c21 = Vector256.FusedMultiplyAdd(x, b1, c21);
            x = Vector256.Create(a3[p]);
            c30 = Vector256.FusedMultiplyAdd(x, b0, c30);
            c31 = Vector256.FusedMultiplyAdd(x, b1, c31);
        }
        Store(c, c00, c01, alpha);
        Store(c + ldc, c10, c11, alpha);
        Store(c + 2L * ldc, c20, c21, alpha);
        Store(c + 3L * ldc, c30, c31, alpha);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile4x8(int k, float alpha, float* a, int rowStride, int depthStride, float* b, int ldb, float* c, int ldc)
    {
        Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default;
        float* a0 = a, a1 = a + rowStride, a2 = a1 + rowStride, a3 = a2 + rowStride;
        for (long p = 0, end = (long)k * depthStride; p != end; p += depthStride)
        {
            var b0 = Vector256.Load(b);
            b += ldb;
            c0 = Vector256.FusedMultiplyAdd(Vector256.Create(a0[p]), b0, c0);
            c1 = Vector256.FusedMultiplyAdd(Vector256.Create(a1[p]), b0, c1);
            c2 = Vector256.FusedMultiplyAdd(Vector256.Create(a2[p]), b0, c2);
            c3 = Vector256.FusedMultiplyAdd(Vector256.Create(a3[p]), b0, c3);
        }
        var s = Vector256.Create(alpha);
        (c0 * s).Store(c);
        (c1 * s).Store(c + ldc);
        (c2 * s).Store(c + 2L * ldc);
        (c3 * s).Store(c + 3L * ldc);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile1x8(int k, float alpha, float* a, int depthStride, float* b, int ldb, float* c)
    {
        Vector256<float> c0 = default;
        for (var p = 0; p < k; p++)
        {
            c0 = Vector256.FusedMultiplyAdd(Vector256.Create(*a), Vector256.Load(b), c0);
            a += depthStride;
            b += ldb;
        }
        (c0 * Vector256.Create(alpha)).Store(c);
    }

    /// <summary>
    /// dst[j, i] = src[i·srcStride + j] for i &lt; rows, j &lt; cols: dst is cols×rows, row stride ldd. Whole 8×8 blocks go
    /// through register transposes (eight loads and stores where element by element costs 64 of each); attention
    /// transposes a head's keys or values this way once per pair.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Transpose(float* src, int srcStride, int rows, int cols, float* dst, int ldd)
    {
        var (wholeRows, wholeCols) = System.Runtime.Intrinsics.X86.Avx.IsSupported ? (rows & ~7, cols & ~7) : (0, 0);
        for (var i = 0; i < wholeRows; i += 8)
        {
            for (var j = 0; j < wholeCols; j += 8) Gemm.GemmTranspose.Block(src + (long)i * srcStride + j, srcStride, dst + (long)j * ldd + i, ldd);
        }
        // The ragged edges: columns past the whole blocks of the block rows, then the rows after them.
        for (var i = 0; i < rows; i++)
        {
            var s = src + (long)i * srcStride;
            for (var j = i < wholeRows ? wholeCols : 0; j < cols; j++) dst[(long)j * ldd + i] = s[j];
        }
    }
}
