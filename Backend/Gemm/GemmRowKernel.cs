using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Dlc.Backend.Gemm;

/// <summary>
/// One row of C from one row of op(A) and an unpacked, untransposed B: c = alpha·a·B + beta·c. Used when C
/// has fewer rows than a micro-tile, where packing B would cost as much as the product. Eight accumulators
/// of 8 columns each stay in registers over the whole k loop, so C is written once and each B row segment
/// is read once; eight chains also cover the FMA latency.
/// </summary>
internal static unsafe class GemmRowKernel
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Run(float* a, int k, float* b, int ldb, int n, float* c, float alpha, float beta)
    {
        var j = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; j + 64 <= n; j += 64)
            {
                Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default;
                Vector256<float> c4 = default, c5 = default, c6 = default, c7 = default;
                var bp = b + j;
                for (var p = 0; p < k; p++, bp += ldb)
                {
                    var ap = Vector256.Create(a[p]);
                    c0 = Vector256.FusedMultiplyAdd(ap, Vector256.Load(bp), c0);
                    c1 = Vector256.FusedMultiplyAdd(ap, Vector256.Load(bp + 8), c1);
                    c2 = Vector256.FusedMultiplyAdd(ap, Vector256.Load(bp + 16), c2);
                    c3 = Vector256.FusedMultiplyAdd(ap, Vector256.Load(bp + 24), c3);
                    c4 = Vector256.FusedMultiplyAdd(ap, Vector256.Load(bp + 32), c4);
                    c5 = Vector256.FusedMultiplyAdd(ap, Vector256.Load(bp + 40), c5);
                    c6 = Vector256.FusedMultiplyAdd(ap, Vector256.Load(bp + 48), c6);
                    c7 = Vector256.FusedMultiplyAdd(ap, Vector256.Load(bp + 56), c7);
                }
                Store(c + j, c0, alpha, beta);
                Store(c + j + 8, c1, alpha, beta);
                Store(c + j + 16, c2, alpha, beta);
                Store(c + j + 24, c3, alpha, beta);
                Store(c + j + 32, c4, alpha, beta);
                Store(c + j + 40, c5, alpha, beta);
                Store(c + j + 48, c6, alpha, beta);
                Store(c + j + 56, c7, alpha, beta);
            }
            for (; j + 8 <= n; j += 8)
            {
                var acc = Vector256<float>.Zero;
                var bp = b + j;
                for (var p = 0; p < k; p++, bp += ldb) acc = Vector256.FusedMultiplyAdd(Vector256.Create(a[p]), Vector256.Load(bp), acc);
                Store(c + j, acc, alpha, beta);
            }
        }
        for (; j < n; j++)
        {
            var sum = 0f;
            var bp = b + j;
            for (var p = 0; p < k; p++, bp += ldb) sum = MathF.FusedMultiplyAdd(a[p], *bp, sum);
            c[j] = beta == 0f ? alpha * sum : alpha * sum + beta * c[j];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* c, Vector256<float> acc, float alpha, float beta)
    {
        var scaled = acc * Vector256.Create(alpha);
        if (beta != 0f) scaled = Vector256.FusedMultiplyAdd(Vector256.Load(c), Vector256.Create(beta), scaled);
        scaled.Store(c);
    }
}
