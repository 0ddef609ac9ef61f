using Dlc.Backend.Gemm;
using Dlc.Backend.Kernels;
using Dlc.Backend.Tests.Support;

namespace Dlc.Backend.Tests.Gemm;

/// <summary>
/// SgemmFused of every provider, with every epilogue and transpose, against the reference (see FusedGemmCase).
/// "default" is a provider that only implements Sgemm, so IGemm's default SgemmFused is what runs.
/// </summary>
public class GemmFusedTests
{
    // Tiny and degenerate (1×1×1, a single row against the MLP's widest layer, a single column, k = 0), odd
    // sizes with ragged micro-tiles, k past one k block (the epilogue must wait for the last), n past one
    // column panel, a product large enough for two threads, one split over k between them, rows claimed by two threads
    // through a depth past one k block in one pass (400×64×300), dot products row by row split over two threads
    // (1500×7×100, 700×12×130), and the MLP's first layer.
    private static readonly (int M, int N, int K)[] Shapes =
    [
        (1, 1, 1), (1, 784, 256), (7, 1, 13), (5, 9, 0), (65, 129, 257), (13, 17, 300), (40, 1100, 9), (300, 40, 100),
        (128, 256, 784), (20, 30, 2600), (33, 300, 400), (401, 70, 90), (37, 10, 300), (400, 64, 300), (1500, 7, 100), (700, 12, 130),
    ];

    private const long SlowProviderLimit = 3_000_000;

    public static TheoryData<string, int, bool, bool> Cases()
    {
        var data = new TheoryData<string, int, bool, bool>();
        foreach (var provider in new[] { "mkl", "managed-1", "managed-2", "managed-512-emulated", "managed-scalar", "default" })
        for (var e = 0; e < EpilogueSpec.All.Length; e++)
        foreach (var ta in new[] { false, true })
        foreach (var tb in new[] { false, true })
            data.Add(provider, e, ta, tb);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Fused_epilogue_matches_the_reference_gemm_and_activation_kernels_over_all_shapes_when_mkl_is_present_or_managed(
        string provider, int epilogue, bool transA, bool transB)
    {
        var gemm = Provider(provider);
        if (gemm is null) return;
        try
        {
            foreach (var (m, n, k) in Shapes)
            {
                if (provider is "managed-512-emulated" or "managed-scalar" && (long)m * n * k > SlowProviderLimit) continue;
                FusedGemmCase.Check(gemm, GemmCase.Get(m, n, k, transA, transB), EpilogueSpec.All[epilogue]);
            }
        }
        finally
        {
            (gemm as IDisposable)?.Dispose();
        }
    }

    public static TheoryData<int> EpilogueIndices() => [.. Enumerable.Range(0, EpilogueSpec.All.Length)];

    /// <summary>
    /// The AVX2 and AVX-512 kernels apply most epilogues to a full tile as it leaves the registers, and to the edge tiles (and
    /// the rest of the epilogues) after storing: the same operations in the same order, so the same bits as the epilogue on
    /// the stored strip, on one thread and two, over every transpose, beta 0 (C not read) and not, and the shapes' ragged
    /// tiles and k blocks. The AVX-512 kernel runs emulated on a CPU without it, so it takes the smaller shapes there.
    /// </summary>
    [Theory]
    [MemberData(nameof(EpilogueIndices))]
    public void An_epilogue_in_the_tiles_registers_gives_the_bits_of_the_epilogue_on_the_stored_tiles(int epilogue)
    {
        var spec = EpilogueSpec.All[epilogue];
        foreach (var isa in new[] { GemmIsa.Vector256, GemmIsa.Vector512 })
        foreach (var threads in new[] { 1, 2 })
        {
            using var inTile = new ManagedGemm(threads, isa, tileEpilogues: true);
            using var stored = new ManagedGemm(threads, isa, tileEpilogues: false);
            var emulated = isa == GemmIsa.Vector512 && !System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated;
            foreach (var (m, n, k) in Shapes.Where(s => !emulated || (long)s.M * s.N * s.K <= SlowProviderLimit))
            foreach (var ta in new[] { false, true })
            foreach (var tb in new[] { false, true })
            foreach (var beta in new[] { 0f, GemmCase.Beta })
            {
                var g = GemmCase.Get(m, n, k, ta, tb);
                var (fused, plain) = (FusedGemmCase.Run(inTile, g, spec, beta), FusedGemmCase.Run(stored, g, spec, beta));
                var differs = Enumerable.Range(0, fused.Length).FirstOrDefault(i => BitConverter.SingleToInt32Bits(fused[i]) != BitConverter.SingleToInt32Bits(plain[i]), -1);
                differs.ShouldBe(-1, $"{spec} with {isa} on {threads} thread(s), {(ta ? "Aᵀ" : "A")}·{(tb ? "Bᵀ" : "B")} {m}x{n}x{k}, beta {beta}: element {differs}");
            }
        }
    }

    public static TheoryData<string> FastProviders() => ["mkl", "managed-2", "default"];

    [Theory]
    [MemberData(nameof(FastProviders))]
    public unsafe void Fused_epilogue_gives_what_the_separate_bias_and_activation_kernels_give(string provider)
    {
        var gemm = Provider(provider);
        if (gemm is null) return;
        const int m = 65, n = 129, k = 257;
        var a = TestData.Uniform(m * k, 31, -1, 1);
        var b = TestData.Uniform(n * k, 32, -1, 1);
        var bias = TestData.Normal(n, 33);
        var saved = TestData.Normal(m * n, 34, std: 2f);
        var residual = TestData.Normal(m * n, 35, std: 2f);
        using var managedMath = VectorMath.Force(false);
        foreach (var spec in EpilogueSpec.All)
        {
            var fused = new float[m * n];
            var separate = new float[m * n];
            // A forward epilogue that keeps GELU′ writes it here; the separate kernels' GELU′ goes to keptSeparate.
            var (kept, keptSeparate) = (new float[m * n], new float[m * n]);
            fixed (float* pa = a, pb = b, pf = fused, ps = separate, pbias = bias, psaved = saved, pkept = kept, presidual = residual)
            {
                var epilogue = spec.Of(pbias, spec.Kept && !spec.Derivative ? pkept : psaved, n, presidual, n);
                gemm.SgemmFused(false, true, m, n, k, 1f, pa, k, pb, k, 0f, pf, n, epilogue);
                gemm.Sgemm(false, true, m, n, k, 1f, pa, k, pb, k, 0f, ps, n);
            }
            if (spec.Bias) Linear.BiasAdd(separate, bias, separate, m, n);
            if (spec.Kept && !spec.Derivative)
            {
                Activations.GeluBackward(separate, Enumerable.Repeat(1f, m * n).ToArray(), keptSeparate);
                Close.All(kept, TestData.ToDouble(keptSeparate), 4 * Close.U, 64 * Close.U, $"{provider} {spec}: GELU′");
            }
            if (spec.Kept && spec.Derivative) Elementwise.Multiply(separate, saved, separate);
            else Separate(spec, separate, saved);
            if (spec.Residual) Elementwise.Add(separate, residual, separate);
            // Same formulas in the same order: equal but for the odd ulp where a kernel's scalar tail or
            // TensorPrimitives' exp differs from the vector code (64 ulps of 1 absolute covers 1 + erf near −40).
            Close.All(fused, separate, 4 * Close.U, 64 * Close.U, $"{provider} {spec}");
        }
        (gemm as IDisposable)?.Dispose();
    }

    [Theory]
    [MemberData(nameof(FastProviders))]
    public unsafe void A_derivative_epilogue_without_an_activation_or_a_saved_tensor_is_refused(string provider)
    {
        var gemm = Provider(provider);
        if (gemm is null) return;
        var buffer = new float[64];
        fixed (float* p = buffer)
        {
            var q = p;
            Should.Throw<ArgumentException>(() =>
                gemm.SgemmFused(false, false, 4, 4, 4, 1f, q, 4, q, 4, 0f, q, 4, GemmEpilogue.DerivativeOf(GemmActivation.None, q, 4)));
            Should.Throw<ArgumentNullException>(() =>
                gemm.SgemmFused(false, false, 4, 4, 4, 1f, q, 4, q, 4, 0f, q, 4, GemmEpilogue.DerivativeOf(GemmActivation.Relu, null, 4)));
            Should.Throw<ArgumentOutOfRangeException>(() =>
                gemm.SgemmFused(false, false, 4, 4, 4, 1f, q, 4, q, 4, 0f, q, 4, GemmEpilogue.DerivativeOf(GemmActivation.Relu, q, 3)));
        }
        (gemm as IDisposable)?.Dispose();
    }

    public static TheoryData<string, bool> SumProviders()
    {
        var data = new TheoryData<string, bool>();
        foreach (var provider in new[] { "mkl", "managed-1", "managed-2", "managed-512-emulated", "default" })
        foreach (var ta in new[] { false, true })
            data.Add(provider, ta);
        return data;
    }

    [Theory]
    [MemberData(nameof(SumProviders))]
    public unsafe void Sums_of_op_a_rows_come_with_the_product_over_all_shapes_and_splits(string provider, bool transA)
    {
        var gemm = Provider(provider);
        if (gemm is null) return;
        // Fewer rows than a micro-tile, split over rows, over columns (m < n), over k (k ≥ 4·max(m, n)), k = 0,
        // k past one k block so the sums run over several packed blocks, and a classifier head's weight gradient (10 rows
        // of a transposed A, in place four at a time).
        foreach (var (m, n, k) in new[] { (3, 20, 40), (300, 40, 100), (40, 300, 90), (60, 20, 2600), (9, 9, 0), (70, 33, 700), (10, 256, 128) })
        {
            var c = GemmCase.Get(m, n, k, transA, transB: false);
            var product = (float[])c.C0.Clone();
            var sums = Enumerable.Repeat(float.NaN, m).ToArray();
            var bias = TestData.Normal(n, 41);
            fixed (float* pa = c.A, pb = c.B, pc = product, ps = sums, pbias = bias)
            {
                var epilogue = GemmEpilogue.Forward(pbias, GemmActivation.Relu).WithSumsOfA(ps);
                gemm.SgemmFused(transA, false, m, n, k, GemmCase.Alpha, pa, c.Lda, pb, c.Ldb, GemmCase.Beta, pc, c.Ldc, epilogue);
            }
            for (var i = 0; i < m; i++)
            {
                double expected = 0, bound = 0;
                for (var p = 0; p < k; p++)
                {
                    double v = transA ? c.A[p * c.Lda + i] : c.A[i * c.Lda + p];
                    expected += v;
                    bound += Math.Abs(v);
                }
                ((double)sums[i]).ShouldBe(expected, (k + 2) * Close.U * bound + 1e-30, $"{provider} {m}x{n}x{k}: row {i}");
            }
            // The sums change nothing in C: it is the product with bias and ReLU.
            for (var i = 0; i < m; i++)
            {
                for (var j = 0; j < n; j++)
                {
                    var want = Math.Max(0, c.Expected[i * c.Ldc + j] + bias[j]);
                    ((double)product[i * c.Ldc + j]).ShouldBe(want, c.Bound[i * c.Ldc + j] + 4 * Close.U * Math.Abs(want) + 1e-6,
                        $"{provider} {m}x{n}x{k}: C[{i}, {j}]");
                }
            }
        }
        (gemm as IDisposable)?.Dispose();
    }

    [Fact]
    public unsafe void The_plain_epilogue_changes_nothing_and_says_so()
    {
        GemmEpilogue.None.IsIdentity.ShouldBeTrue();
        GemmEpilogue.Forward(null, GemmActivation.Relu).IsIdentity.ShouldBeFalse();
    }

    private static void Separate(EpilogueSpec spec, float[] c, float[] saved)
    {
        switch (spec.Derivative, spec.Activation)
        {
            case (false, GemmActivation.Relu): Activations.Relu(c, c); break;
            case (false, GemmActivation.Gelu): Activations.Gelu(c, c); break;
            case (false, GemmActivation.Tanh): Activations.Tanh(c, c); break;
            case (false, GemmActivation.Sigmoid): Activations.Sigmoid(c, c); break;
            case (true, GemmActivation.Relu): Activations.ReluBackward(saved, c, c); break;
            case (true, GemmActivation.Gelu): Activations.GeluBackward(saved, c, c); break;
            case (true, GemmActivation.Tanh): Activations.TanhBackward(saved, c, c); break;
            case (true, GemmActivation.Sigmoid): Activations.SigmoidBackward(saved, c, c); break;
        }
    }

    private static IGemm? Provider(string name) => name == "default" ? new SgemmOnly(new ManagedGemm(2)) : GemmCase.Provider(name);

    /// <summary>Implements only Sgemm, so calls reach IGemm's default SgemmFused.</summary>
    private sealed unsafe class SgemmOnly(ManagedGemm inner) : IGemm, IDisposable
    {
        public string Name => "default";

        public void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha, float* a, int lda, float* b, int ldb,
            float beta, float* c, int ldc) =>
            inner.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);

        public void Dispose() => inner.Dispose();
    }
}
