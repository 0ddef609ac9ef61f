using System.Runtime.Intrinsics.X86;
using Dlc.Backend.Gemm;
using Dlc.Backend.Tests.Support;

namespace Dlc.Backend.Tests.Gemm;

/// <summary>
/// A single row's product that reads only the rows of op(B) its nonzero entries pick (<see cref="GemmRowKernel.RunRows"/>,
/// and the copy of op(B) stored k×n that <see cref="ManagedGemm.Prepack"/> makes for it at batch 1) against the reference
/// in double; which of B and the copy it reads; and where a NaN reaches C.
/// </summary>
public unsafe class SkipZerosTests
{
    /// <summary>
    /// Depths around a 16-lane group and past it; widths below, at and around a 128-column pass, masked ends; a third, all
    /// or none of a's entries zero; C overwritten and scaled (beta); rows of B three floats longer than n.
    /// </summary>
    [Theory]
    [InlineData(1, 1, 0.0, 0f)]
    [InlineData(15, 10, 0.5, 0f)]
    [InlineData(16, 16, 0.0, 0.5f)]
    [InlineData(17, 64, 0.33, 0f)]
    [InlineData(100, 127, 0.5, 1f)]
    [InlineData(784, 128, 0.66, 0f)]
    [InlineData(784, 130, 0.66, 0.5f)]
    [InlineData(256, 256, 0.5, 0f)]
    [InlineData(300, 300, 1.0, 0.5f)]
    [InlineData(33, 250, 0.0, 0f)]
    public void Rows_of_nonzero_entries_match_the_reference(int k, int n, double zeros, float beta)
    {
        if (!Avx512F.IsSupported) return;
        var ldb = n + 3;
        var a = WithZeros(TestData.Normal(k, 1), zeros, 2);
        var b = TestData.Normal(k * ldb, 3, std: 1f / MathF.Sqrt(k));
        // The floats past each row's n are never read into C.
        for (var p = 0; p < k; p++)
        for (var j = n; j < ldb; j++) b[p * ldb + j] = float.NaN;
        var c = TestData.Normal(n + 16, 4);
        var before = (float[])c.Clone();
        const float alpha = 1.5f;

        fixed (float* pa = a, pb = b, pc = c) GemmRowKernel.RunRows(pa, k, pb, ldb, n, pc, alpha, beta);

        for (var j = 0; j < n; j++)
        {
            var sum = 0.0;
            for (var p = 0; p < k; p++) sum += (double)a[p] * b[p * ldb + j];
            var expected = alpha * sum + beta * before[j];
            Math.Abs(c[j] - expected).ShouldBeLessThan(1e-4 * (1 + Math.Abs(expected)), $"c[{j}]");
        }
        // Nothing past n is written.
        c.AsSpan(n).ToArray().ShouldBe(before.AsSpan(n).ToArray());
    }

    [Fact]
    public void A_nan_in_a_row_of_b_that_a_zero_entry_skips_does_not_reach_c_but_a_nan_in_a_does()
    {
        if (!Avx512F.IsSupported) return;
        const int k = 40, n = 200;
        var a = TestData.Normal(k, 5);
        var b = TestData.Normal(k * n, 6);
        a[7] = 0f;
        b.AsSpan(7 * n, n).Fill(float.NaN);
        var c = new float[n];
        fixed (float* pa = a, pb = b, pc = c) GemmRowKernel.RunRows(pa, k, pb, n, n, pc, 1f, 0f);
        c.ShouldAllBe(v => float.IsFinite(v));

        a[7] = float.NaN;
        fixed (float* pa = a, pb = b, pc = c) GemmRowKernel.RunRows(pa, k, pb, n, n, pc, 1f, 0f);
        c.ShouldAllBe(v => float.IsNaN(v));
    }

    [Fact]
    public void Skipping_pays_when_at_least_one_entry_in_eight_is_zero()
    {
        var a = TestData.Normal(80, 7);
        fixed (float* pa = a)
        {
            GemmRowKernel.SkippingPays(pa, 80).ShouldBeFalse();
            for (var p = 0; p < 9; p++) a[p * 8] = 0f;
            GemmRowKernel.SkippingPays(pa, 80).ShouldBeFalse();
            a[79] = 0f;
            GemmRowKernel.SkippingPays(pa, 80).ShouldBeTrue();
        }
    }

    /// <summary>
    /// A dense layer at batch 1 with B transposed, on one thread and split over two, reading its copy of op(B) where a
    /// has zeros and B where it has none: the copy's values once B is cleared after packing, B's otherwise.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void A_batch_of_one_reads_the_copy_where_its_input_has_zeros_and_b_where_it_has_none(int threads)
    {
        if (!Avx512F.IsSupported) return;
        const int k = 784, n = 256;
        var sparse = WithZeros(TestData.Normal(k, 8), 0.5, 9);
        var dense = TestData.Normal(k, 10);
        var b = TestData.Normal(n * k, 11, std: 1f / MathF.Sqrt(k));
        var bias = TestData.Normal(n, 12, std: 0.1f);
        using var gemm = new ManagedGemm(threads);
        fixed (float* pb = b, pbias = bias)
        {
            using var copy = gemm.Prepack(false, true, 1, n, k, pb, k);
            copy.ShouldNotBeNull();
            var (weights, biases) = ((IntPtr)pb, (IntPtr)pbias);
            float[] Run(float[] a, PackedB? packed)
            {
                var c = new float[n];
                var epilogue = GemmEpilogue.Forward((float*)biases, GemmActivation.Relu);
                fixed (float* pa = a, pc = c)
                    for (var run = 0; run < 20; run++)
                    {
                        KeepWorkersAwake();
                        gemm.SgemmFused(false, true, 1, n, k, 1f, pa, k, (float*)weights, k, 0f, pc, n, epilogue, packed);
                    }
                return c;
            }

            var expected = Reference(sparse, b, bias, k, n);
            var fromCopy = Run(sparse, copy);
            for (var j = 0; j < n; j++) Math.Abs(fromCopy[j] - expected[j]).ShouldBeLessThan(1e-4, $"c[{j}]");
            var denseBefore = Run(dense, copy);
            Run(dense, null).ShouldBe(denseBefore);

            b.AsSpan().Clear();
            Run(sparse, copy).ShouldBe(fromCopy);
            // With B zero, C holds the bias through the ReLU: the dense input read B, not the copy.
            Run(dense, copy).ShouldBe(bias.Select(v => MathF.Max(v, 0f)).ToArray());
        }
    }

    [Fact]
    public void Two_chained_layers_at_batch_one_read_their_copies_with_the_reference_results()
    {
        if (!Avx512F.IsSupported) return;
        const int k = 784, n1 = 256, n2 = 96;
        var a = WithZeros(TestData.Normal(k, 13), 0.6, 14);
        var b1 = TestData.Normal(n1 * k, 15, std: 1f / MathF.Sqrt(k));
        var bias1 = TestData.Normal(n1, 16, std: 0.1f);
        var b2 = TestData.Normal(n2 * n1, 17, std: 1f / MathF.Sqrt(n1));
        var bias2 = TestData.Normal(n2, 18, std: 0.1f);
        var h = new float[n1];
        var y = new float[n2];
        using var gemm = new ManagedGemm(2);
        fixed (float* pa = a, pb1 = b1, pbias1 = bias1, pb2 = b2, pbias2 = bias2, ph = h, py = y)
        {
            using var copy1 = gemm.Prepack(false, true, 1, n1, k, pb1, k);
            using var copy2 = gemm.Prepack(false, true, 1, n2, n1, pb2, n1);
            // Cleared after packing: only the copies hold the weights.
            b1.AsSpan().Clear();
            b2.AsSpan().Clear();
            for (var run = 0; run < 20; run++)
            {
                KeepWorkersAwake();
                gemm.SgemmChain(1, k, pa, k, true, n1, pb1, k, ph, GemmEpilogue.Forward(pbias1, GemmActivation.Relu),
                    true, n2, pb2, n1, py, GemmEpilogue.Forward(pbias2, GemmActivation.Relu), copy1, copy2);
            }
        }
        var expectedH = Reference(a, TestData.Normal(n1 * k, 15, std: 1f / MathF.Sqrt(k)), bias1, k, n1);
        var expectedY = Reference(expectedH.Select(v => (float)v).ToArray(), TestData.Normal(n2 * n1, 17, std: 1f / MathF.Sqrt(n1)), bias2, n1, n2);
        for (var j = 0; j < n1; j++) Math.Abs(h[j] - expectedH[j]).ShouldBeLessThan(1e-4, $"h[{j}]");
        for (var j = 0; j < n2; j++) Math.Abs(y[j] - expectedY[j]).ShouldBeLessThan(1e-4, $"y[{j}]");
    }

    [Fact]
    public void A_copy_is_refused_or_left_unread_by_a_product_it_is_not_laid_out_for()
    {
        if (!Avx512F.IsSupported) return;
        const int k = 256, n = 128;
        var a = TestData.Normal(8 * k, 19);
        var b = TestData.Normal(n * k, 20);
        var c = new float[8 * n];
        using var gemm = new ManagedGemm(2);
        fixed (float* pa = a, pb = b, pc = c)
        {
            using var rows = gemm.Prepack(false, true, 1, n, k, pb, k)!;
            using var panels = gemm.Prepack(false, true, 1000, n, k, pb, k)!;
            var (pa1, pb1, pc1) = ((IntPtr)pa, (IntPtr)pb, (IntPtr)pc);
            void Run(int m, PackedB copy) =>
                gemm.SgemmFused(false, true, m, n, k, 1f, (float*)pa1, k, (float*)pb1, k, 0f, (float*)pc1, n, GemmEpilogue.None, copy);
            Should.Throw<ArgumentException>(() => Run(8, rows));
            Should.Throw<ArgumentException>(() => Run(1, panels));

            // A single row too narrow for a copy of its own leaves a many-rows copy unread rather than misread, even with
            // the zeros that would have it read a copy of its own.
            const int narrow = 48;
            for (var p = 0; p < k; p += 2) a[p] = 0f;
            using var narrowPanels = gemm.Prepack(false, true, 1000, narrow, k, pb, k);
            narrowPanels.ShouldNotBeNull();
            gemm.SgemmFused(false, true, 1, narrow, k, 1f, pa, k, pb, k, 0f, pc, narrow, GemmEpilogue.None);
            var expected = c.AsSpan(0, narrow).ToArray();
            c.AsSpan().Clear();
            gemm.SgemmFused(false, true, 1, narrow, k, 1f, pa, k, pb, k, 0f, pc, narrow, GemmEpilogue.None, narrowPanels);
            c.AsSpan(0, narrow).ToArray().ShouldBe(expected);
        }
    }

    /// <summary>
    /// Wakes the two-thread provider's worker and waits until it spins, so the batch-1 product that follows is split
    /// between the threads (see ManagedGemm.FewRowsParts) rather than run on the caller while the worker sleeps.
    /// </summary>
    private static void KeepWorkersAwake()
    {
        var pool = WorkerPool.Shared(1);
        var deadline = DateTime.UtcNow.AddSeconds(1);
        while (!pool.WorkersSpinning && DateTime.UtcNow < deadline)
        {
            pool.Wake();
            Thread.SpinWait(100);
        }
    }

    /// <summary>a with about <paramref name="fraction"/> of its entries set to zero, drawn from <paramref name="seed"/>.</summary>
    private static float[] WithZeros(float[] a, double fraction, int seed)
    {
        var rng = new Random(seed);
        for (var i = 0; i < a.Length; i++)
            if (rng.NextDouble() < fraction) a[i] = 0f;
        return a;
    }

    /// <summary>relu(a·Bᵀ + bias) in double, B stored n rows of k.</summary>
    private static double[] Reference(float[] a, float[] b, float[] bias, int k, int n)
    {
        var y = new double[n];
        for (var j = 0; j < n; j++)
        {
            var sum = (double)bias[j];
            for (var p = 0; p < k; p++) sum += (double)a[p] * b[j * k + p];
            y[j] = Math.Max(sum, 0);
        }
        return y;
    }
}
