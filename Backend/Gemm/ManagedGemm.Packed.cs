using System.Runtime.CompilerServices;

namespace Dlc.Backend.Gemm;

/// <summary>A right-hand side packed once and multiplied many times (a recurrent layer's w_hh).</summary>
public sealed unsafe partial class ManagedGemm
{
    /// <summary>
    /// op(B) [k×n] packed once into the panels <see cref="SgemmPacked"/> reads, for a right-hand side that many
    /// products share (a recurrent layer's w_hh, multiplied at every step): the packing then costs once per
    /// sequence rather than once per step. <paramref name="packed"/> holds <see cref="PackedSize"/> floats.
    /// </summary>
    internal void PackB(bool transB, int k, int n, float* b, int ldb, float* packed)
    {
        for (var jc = 0; jc < n; jc += _nc)
        {
            var nc = Math.Min(_nc, n - jc);
            var ncPadded = (nc + _nr - 1) / _nr * _nr;
            for (var pc = 0; pc < k; pc += Kc)
                GemmPacking.PackB(transB, b, ldb, pc, jc, Math.Min(Kc, k - pc), nc, _nr, packed + (long)jc * k + (long)pc * ncPadded);
        }
    }

    /// <summary>Floats of op(B) [k×n] packed by <see cref="PackB"/>.</summary>
    internal int PackedSize(int k, int n) => (n + _nr - 1) / _nr * _nr * k;

    // Panels are stored block column after block column (nc wide), each k deep, one kc block after another.

    /// <summary>C[m×n] = alpha·A·B + beta·C on this thread, with B packed by <see cref="PackB"/> (A not transposed).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal void SgemmPacked(int m, int n, int k, float alpha, float* a, int lda, float* packed, float beta, float* c, int ldc)
    {
        if (m == 0 || n == 0) return;
        var kcMax = Math.Min(Kc, k);
        var aPack = GemmPacking.ThreadBuffer(_mc * kcMax);
        var tile = stackalloc float[_mr * _nr];
        for (var jc = 0; jc < n; jc += _nc)
        {
            var nc = Math.Min(_nc, n - jc);
            var ncPadded = (nc + _nr - 1) / _nr * _nr;
            for (var pc = 0; pc < k; pc += Kc)
            {
                var kc = Math.Min(Kc, k - pc);
                var kBeta = pc == 0 ? beta : 1f;
                var bPack = packed + (long)jc * k + (long)pc * ncPadded;
                for (var ic = 0; ic < m; ic += _mc)
                {
                    var mc = Math.Min(_mc, m - ic);
                    GemmPacking.PackA(false, a, lda, ic, pc, mc, kc, _mr, aPack);
                    for (var jr = 0; jr < nc; jr += _nr)
                    {
                        var nr = Math.Min(_nr, nc - jr);
                        for (var ir = 0; ir < mc; ir += _mr)
                        {
                            var mr = Math.Min(_mr, mc - ir);
                            var cTile = c + (long)(ic + ir) * ldc + jc + jr;
                            var aPanel = aPack + (long)ir * kc;
                            var bPanel = bPack + (long)jr * kc;
                            if (mr == _mr && nr == _nr)
                            {
                                GemmKernels.Run(_isa, kc, aPanel, bPanel, cTile, ldc, alpha, kBeta);
                                continue;
                            }
                            if (nr == _nr && GemmKernels.RunRows(_isa, mr, kc, aPanel, bPanel, cTile, ldc, alpha, kBeta)) continue;
                            GemmKernels.Run(_isa, kc, aPanel, bPanel, tile, _nr, 1f, 0f);
                            StoreScratch(tile, _nr, cTile, ldc, mr, nr, alpha, kBeta);
                        }
                    }
                }
            }
        }
    }
}
