using Dlc.Backend.Gemm;
using Dlc.Backend.Kernels;
using Dlc.Backend.Tests.Support;

namespace Dlc.Backend.Tests.Gemm;

/// <summary>
/// An epilogue under test: bias or not, activation, forward or derivative; <see cref="Kept"/> for GELU's kept derivative
/// (forward: written to the saved tensor; derivative: multiplied by it); <see cref="Residual"/> for a tensor added last.
/// </summary>
public sealed record EpilogueSpec(bool Bias, GemmActivation Activation, bool Derivative, bool Kept = false, bool Residual = false)
{
    public static readonly EpilogueSpec[] All =
    [
        new(false, GemmActivation.None, false), new(true, GemmActivation.None, false),
        new(false, GemmActivation.Relu, false), new(true, GemmActivation.Relu, false),
        new(true, GemmActivation.Gelu, false), new(true, GemmActivation.Tanh, false),
        new(false, GemmActivation.Sigmoid, false),
        new(false, GemmActivation.Relu, true), new(false, GemmActivation.Gelu, true),
        new(false, GemmActivation.Tanh, true), new(false, GemmActivation.Sigmoid, true),
        new(true, GemmActivation.Gelu, false, Kept: true), new(false, GemmActivation.Gelu, true, Kept: true),
        new(false, GemmActivation.None, false, Residual: true), new(true, GemmActivation.None, false, Residual: true),
        new(false, GemmActivation.Relu, true, Residual: true),
    ];

    public override string ToString() =>
        (Derivative ? "d" : "") + (Bias ? "bias+" : "") + Activation.ToString().ToLowerInvariant() + (Kept ? " kept" : "") + (Residual ? " +residual" : "");

    /// <summary>The epilogue itself, over the given bias and saved tensor.</summary>
    public unsafe GemmEpilogue Of(float* bias, float* saved, int savedStride, float* residual = null, int residualStride = 0)
    {
        var epilogue = (Derivative, Kept) switch
        {
            (true, false) => GemmEpilogue.DerivativeOf(Activation, saved, savedStride),
            (true, true) => GemmEpilogue.TimesKeptDerivative(Activation, saved, savedStride),
            (false, false) => GemmEpilogue.Forward(Bias ? bias : null, Activation),
            (false, true) => GemmEpilogue.ForwardKeepingDerivative(Bias ? bias : null, Activation, saved, savedStride),
        };
        return Residual ? epilogue.WithResidual(residual, residualStride) : epilogue;
    }
}

/// <summary>
/// A fused GEMM checked against ReferenceGemm in double followed by the reference epilogue (ReferenceGemm.
/// ApplyEpilogue, i.e. ActivationsReference's kernels), on a <see cref="GemmCase"/>'s padded operands. The
/// saved tensor has its own padded stride (n + 2, NaN in the padding) so a wrong stride or an out-of-row read
/// shows. Bound: the product's bound from GemmCase plus the bias add's rounding, carried through an
/// activation whose slope is at most 1.13 (GELU) and so taken as 1.2; then each activation's own rounding,
/// a few ulps relative (rtol 8u) or, where 1 + erf or 1 − y² cancel, a few ulps of 1 times the input
/// (8u·|v|). Indexing mistakes move values by O(0.1) and more. A kept GELU′ (slope at most 0.5 in the pre-activation)
/// is held to half the pre-activation's bound plus the 1.5e-7 of Φ's formula, a few ulps of 1 beyond it.
/// </summary>
internal static class FusedGemmCase
{
    public static void Check(IGemm gemm, GemmCase g, EpilogueSpec spec)
    {
        var (m, n) = (g.M, g.N);
        var operands = Operands.For(spec, m, n);
        var (bias, saved, residual, lds, ldr) = operands;
        var c = Multiply(gemm, g, spec, operands, GemmCase.Beta);

        var expected = (double[])g.Expected.Clone();
        var kept = new double[saved.Length];
        if (spec.Kept && !spec.Derivative) ReferenceGemm.ApplyKeepingDerivative<double>(expected, g.Ldc, m, n, TestData.ToDouble(bias), kept, lds);
        else if (spec.Kept)
        {
            for (var i = 0; i < m; i++)
            {
                for (var j = 0; j < n; j++) expected[i * g.Ldc + j] *= saved[i * lds + j];
            }
        }
        else
        {
            ReferenceGemm.ApplyEpilogue<double>(expected, g.Ldc, m, n, TestData.ToDouble(bias), spec.Activation, spec.Derivative,
                TestData.ToDouble(saved), lds);
        }
        for (var i = 0; spec.Residual && i < m; i++)
        {
            for (var j = 0; j < n; j++) expected[i * g.Ldc + j] += residual[i * ldr + j];
        }
        var what = $"{gemm.Name} {spec} {(g.TransA ? "Aᵀ" : "A")}·{(g.TransB ? "Bᵀ" : "B")} m={m} n={n} k={g.K}";
        for (var i = 0; i < m; i++)
        {
            for (var j = 0; j < g.Ldc && i * g.Ldc + j < c.Length; j++)
            {
                var index = i * g.Ldc + j;
                if (j >= n)
                {
                    float.IsNaN(c[index]).ShouldBeTrue($"{what}: padding at row {i}, column {j} was written");
                    continue;
                }
                var v = Math.Abs(g.Expected[index]) + (spec.Bias ? Math.Abs(bias[j]) : 0) + (spec.Residual ? Math.Abs(residual[i * ldr + j]) : 0);
                var bound = 1.2 * (g.Bound[index] + Close.U * v) + 8 * Close.U * v + 8 * Close.U * Math.Abs(expected[index]) + 1e-30;
                var error = Math.Abs(c[index] - expected[index]);
                if (!(error <= bound))
                    throw new ShouldAssertException($"{what}: C[{i},{j}] = {c[index]:G9}, expected {expected[index]:G17}, bound {bound:G3}");
                if (!spec.Kept || spec.Derivative) continue;
                var keptBound = 0.5 * (g.Bound[index] + Close.U * v) + 1.5e-7 + 8 * Close.U;
                var keptError = Math.Abs(saved[i * lds + j] - kept[i * lds + j]);
                if (!(keptError <= keptBound))
                    throw new ShouldAssertException($"{what}: GELU′ at [{i},{j}] = {saved[i * lds + j]:G9}, expected {kept[i * lds + j]:G17}, bound {keptBound:G3}");
            }
            // The kept derivative's padding is not written.
            for (var j = n; spec.Kept && !spec.Derivative && j < lds; j++)
                float.IsNaN(saved[i * lds + j]).ShouldBeTrue($"{what}: padding of the kept derivative at row {i}, column {j} was written");
        }
    }

    /// <summary>C after the fused product with <paramref name="spec"/>, then the saved tensor (written by a kept GELU′), end to end.</summary>
    public static float[] Run(IGemm gemm, GemmCase g, EpilogueSpec spec, float beta = GemmCase.Beta)
    {
        var operands = Operands.For(spec, g.M, g.N);
        return [.. Multiply(gemm, g, spec, operands, beta), .. operands.Saved];
    }

    /// <summary>
    /// An epilogue's operands: the bias, the saved tensor (row stride Lds = n + 2) and the residual (its own stride,
    /// Ldr = n + 3), each NaN in its padding; empty where the epilogue has none.
    /// </summary>
    private sealed record Operands(float[] Bias, float[] Saved, float[] Residual, int Lds, int Ldr)
    {
        public static Operands For(EpilogueSpec spec, int m, int n) =>
            new(spec.Bias ? TestData.Normal(n, 21, std: 2f) : [], FusedGemmCase.Saved(spec, m, n, n + 2),
                spec.Residual ? FusedGemmCase.Residual(m, n, n + 3) : [], n + 2, n + 3);
    }

    /// <summary>C (a copy of the case's C0) after the fused product; a kept GELU′ is written into the operands' saved tensor.</summary>
    private static unsafe float[] Multiply(IGemm gemm, GemmCase g, EpilogueSpec spec, Operands o, float beta)
    {
        var c = (float[])g.C0.Clone();
        fixed (float* pa = g.A, pb = g.B, pc = c, pbias = o.Bias, ps = o.Saved, pr = o.Residual)
        {
            gemm.SgemmFused(g.TransA, g.TransB, g.M, g.N, g.K, GemmCase.Alpha, pa, g.Lda, pb, g.Ldb, beta, pc, g.Ldc,
                spec.Of(pbias, ps, o.Lds, pr, o.Ldr));
        }
        return c;
    }

    /// <summary>m rows of n values with row stride <paramref name="ldr"/>, NaN in the padding.</summary>
    public static float[] Residual(int m, int n, int ldr)
    {
        var values = new float[Math.Max(1, m * ldr)];
        Array.Fill(values, float.NaN);
        var source = TestData.Normal(m * n, 23, std: 3f);
        for (var i = 0; i < m; i++)
        {
            for (var j = 0; j < n; j++) values[i * ldr + j] = source[i * n + j];
        }
        return values;
    }

    /// <summary>
    /// What the forward pass would have saved: y of ReLU (with exact zeros), sigmoid and tanh, x of GELU, GELU′(x) when
    /// kept; for a forward epilogue that keeps GELU′, NaN where it is to write.
    /// </summary>
    public static float[] Saved(EpilogueSpec spec, int m, int n, int lds)
    {
        if (!spec.Derivative && !spec.Kept) return [];
        var values = new float[Math.Max(1, m * lds)];
        Array.Fill(values, float.NaN);
        var source = TestData.Normal(m * n, 22, std: 2f);
        for (var i = 0; i < m; i++)
        {
            for (var j = 0; j < n; j++)
            {
                var x = source[i * n + j];
                values[i * lds + j] = spec.Activation switch
                {
                    GemmActivation.Relu => MathF.Max(x, 0f),
                    GemmActivation.Sigmoid => 1f / (1f + MathF.Exp(-x)),
                    GemmActivation.Tanh => MathF.Tanh(x),
                    _ when spec.Kept && !spec.Derivative => float.NaN,
                    _ when spec.Kept => (float)(0.5 * (1 + ErrorFunction.Erf(x / Math.Sqrt(2))) + x * Math.Exp(-0.5 * x * x) / Math.Sqrt(2 * Math.PI)),
                    _ => x,
                };
            }
        }
        return values;
    }
}
