using Dlc.Backend.Gemm;
using Dlc.Backend.Kernels;
using Dlc.Backend.Kernels.Reference;
using Dlc.Backend.Tests.Support;

namespace Dlc.Backend.Tests.Kernels;

/// <summary>
/// Cross-attention (float, per-pair products) against the double reference over odd shapes: queries and memories of
/// different lengths, one position, head sizes that are not a multiple of the vector width, memory lengths from 0 to
/// all, one and two threads. Head sizes and memory lengths that are multiples of 8 take the small-product path (any
/// query length, the dates example's 11 among them); the rest, and a memory length off the vector width, the GEMM.
/// </summary>
public unsafe class CrossAttentionTests
{
    public static TheoryData<int, int, int, int, bool, int> Cases()
    {
        var data = new TheoryData<int, int, int, int, bool, int>();
        foreach (var (tq, tk, e, heads) in new[]
                 {
                     (1, 1, 4, 1), (7, 5, 15, 3), (3, 40, 8, 2), (33, 9, 12, 4), (16, 12, 16, 2),
                     (11, 32, 64, 4), (1, 8, 8, 1), (5, 16, 32, 2), (40, 24, 16, 1),
                 })
        {
            foreach (var packed in new[] { false, true })
            {
                foreach (var threads in new[] { 1, 2 }) data.Add(tq, tk, e, heads, packed, threads);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_and_every_gradient_match_the_reference(int tq, int tk, int e, int heads, bool packed, int threads)
    {
        int[]? lengths = packed ? [tk, 0, 1, Math.Max(1, tk / 2)] : null;
        var n = lengths?.Length ?? 3;
        var g = new CrossAttentionGeometry(n, tq, tk, e, heads);
        var q = TestData.Normal(n * tq * e, 1, std: 1.5f);
        var k = TestData.Normal(n * tk * e, 2, std: 1.5f);
        var v = TestData.Normal(n * tk * e, 3);
        var dy = TestData.Normal(n * tq * e, 4);
        var (y, dq, dk, dv) = Run(g, q, k, v, dy, threads, lengths);
        Small(g).ShouldBe(SmallProducts.IsSupported && tk % 8 == 0 && e / heads % 8 == 0);

        var ry = new double[y.Length];
        CrossAttentionReference.Forward<double>(TestData.ToDouble(q), TestData.ToDouble(k), TestData.ToDouble(v), ry, g, lengths);
        var (rdq, rdk, rdv) = (new double[dq.Length], new double[dk.Length], new double[dv.Length]);
        CrossAttentionReference.Backward<double>(TestData.ToDouble(q), TestData.ToDouble(k), TestData.ToDouble(v), TestData.ToDouble(dy), rdq, rdk, rdv, g, lengths);
        Close.All(y, ry, 1e-4, 1e-5, "y");
        Close.All(dq, rdq, 1e-4, 1e-4, "dq");
        Close.All(dk, rdk, 1e-4, 1e-4, "dk");
        Close.All(dv, rdv, 1e-4, 1e-4, "dv");
        if (packed)
        {
            // A memory of padding only gives zeros, and its keys and values get no gradient.
            y.AsSpan(tq * e, tq * e).ToArray().ShouldAllBe(x => x == 0f);
            dk.AsSpan(tk * e, tk * e).ToArray().ShouldAllBe(x => x == 0f);
            dv.AsSpan(tk * e, tk * e).ToArray().ShouldAllBe(x => x == 0f);
        }
    }

    [Fact]
    public void The_memory_past_its_length_changes_nothing()
    {
        var g = new CrossAttentionGeometry(1, 4, 6, 4, 2);
        var q = TestData.Normal(4 * 4, 5);
        var k = TestData.Normal(6 * 4, 6);
        var v = TestData.Normal(6 * 4, 7);
        var dy = TestData.Normal(4 * 4, 8);
        var (before, _, _, _) = Run(g, q, k, v, dy, 1, [3]);
        for (var i = 3 * 4; i < k.Length; i++)
        {
            k[i] += 5f;
            v[i] -= 5f;
        }
        var (after, _, _, _) = Run(g, q, k, v, dy, 1, [3]);
        after.ShouldBe(before);
        var (unmasked, _, _, _) = Run(g, q, k, v, dy, 1);
        unmasked.ShouldNotBe(after);
    }

    private static bool Small(CrossAttentionGeometry g)
    {
        using var parallel = new SampleParallel(1);
        var buffers = new List<NativeBuffer>();
        var kernel = new CrossAttentionKernel(g, parallel, new ManagedGemm(1), length =>
        {
            buffers.Add(new NativeBuffer(Math.Max(1, length)));
            return buffers[^1];
        }, backward: false);
        foreach (var b in buffers) b.Dispose();
        return kernel.SmallProducts;
    }

    [Theory]
    [InlineData(11, 32, 64, 4)]
    [InlineData(7, 5, 15, 3)]
    public void An_inference_kernel_gives_the_training_kernels_result(int tq, int tk, int e, int heads)
    {
        // Without gradients the probabilities live in per-thread scratch instead of being kept for the backward pass.
        int[] lengths = [tk, 3, 0];
        var g = new CrossAttentionGeometry(3, tq, tk, e, heads);
        var (q, k, v) = (TestData.Normal(3 * tq * e, 11), TestData.Normal(3 * tk * e, 12), TestData.Normal(3 * tk * e, 13));
        var dy = new float[q.Length];
        var (training, _, _, _) = Run(g, q, k, v, dy, 2, lengths);
        var (inference, _, _, _) = Run(g, q, k, v, dy, 2, lengths, backward: false);
        inference.ShouldBe(training);
    }

    private static (float[] Y, float[] Dq, float[] Dk, float[] Dv) Run(CrossAttentionGeometry g, float[] q, float[] k, float[] v, float[] dy, int threads,
        int[]? lengths = null, bool backward = true)
    {
        using var parallel = new SampleParallel(threads);
        var buffers = new List<NativeBuffer>();
        NativeBuffer Buffer(int length)
        {
            var b = new NativeBuffer(Math.Max(1, length));
            buffers.Add(b);
            return b;
        }
        NativeBuffer From(float[] values)
        {
            var b = Buffer(values.Length);
            values.CopyTo(b.Span);
            return b;
        }
        var kernel = new CrossAttentionKernel(g, parallel, new ManagedGemm(1), Buffer, backward);
        var (qb, kb, vb, dyb) = (From(q), From(k), From(v), From(dy));
        var lb = From(lengths?.Select(l => (float)l).ToArray() ?? [0f]);
        var l = lengths is null ? null : lb.Pointer;
        // Garbage in the outputs: the kernel must overwrite, not accumulate.
        var outputs = new[] { Buffer(q.Length), Buffer(q.Length), Buffer(k.Length), Buffer(v.Length) };
        foreach (var o in outputs) o.Span.Fill(float.NaN);
        kernel.Forward(qb.Pointer, kb.Pointer, vb.Pointer, outputs[0].Pointer, l);
        for (var wrt = 0; wrt < (backward ? 3 : 0); wrt++) kernel.Backward(wrt, qb.Pointer, kb.Pointer, vb.Pointer, dyb.Pointer, outputs[wrt + 1].Pointer, l);
        var result = (outputs[0].Span.ToArray(), outputs[1].Span.ToArray(), outputs[2].Span.ToArray(), outputs[3].Span.ToArray());
        foreach (var b in buffers) b.Dispose();
        return result;
    }
}
