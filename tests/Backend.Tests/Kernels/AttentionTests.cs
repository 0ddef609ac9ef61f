using Dlc.Backend.Gemm;
using Dlc.Backend.Kernels;
using Dlc.Backend.Kernels.Reference;
using Dlc.Backend.Tests.Support;

namespace Dlc.Backend.Tests.Kernels;

/// <summary>
/// Scaled dot-product attention (float, batched products over every sample and head) against the double reference,
/// over odd shapes: one position, head sizes that are not a multiple of the vector width, lengths on both sides of
/// the causal block, one head and many, one and two threads.
/// </summary>
public unsafe class AttentionTests
{
    public static TheoryData<int, int, int, int, bool, int> Cases()
    {
        var data = new TheoryData<int, int, int, int, bool, int>();
        // (2, 64, 64, 2) and (1, 40, 16, 2) have head sizes and lengths that are multiples of 8: the small-product path.
        foreach (var (n, t, e, heads) in new[] { (1, 1, 4, 1), (2, 7, 15, 3), (3, 33, 8, 2), (2, 70, 12, 4), (1, 5, 3, 3), (2, 64, 64, 2), (1, 40, 16, 2) })
        {
            foreach (var causal in new[] { false, true })
            {
                foreach (var threads in new[] { 1, 2 }) data.Add(n, t, e, heads, causal, threads);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_and_backward_match_the_reference(int n, int t, int e, int heads, bool causal, int threads)
    {
        var g = new AttentionGeometry(n, t, e, heads, causal);
        var x = TestData.Normal(n * t * 3 * e, 1, std: 1.5f);
        var dy = TestData.Normal(n * t * e, 2);
        var (y, dx) = Run(g, x, dy, threads);

        var ry = new double[y.Length];
        AttentionReference.Forward<double>(TestData.ToDouble(x), ry, g);
        var rdx = new double[dx.Length];
        AttentionReference.Backward<double>(TestData.ToDouble(x), TestData.ToDouble(dy), rdx, g);
        // Each result sums T products of d-term dot products through an exp: float rounding, far below an indexing error.
        Close.All(y, ry, 1e-4, 1e-5, "y");
        Close.All(dx, rdx, 1e-4, 1e-4, "dx");
    }

    public static TheoryData<int, int, int, bool, int> PaddedCases()
    {
        var data = new TheoryData<int, int, int, bool, int>();
        // Lengths from 0 (padding only) to T, on both sides of the causal block.
        foreach (var (t, e, heads) in new[] { (7, 15, 3), (40, 8, 2), (1, 4, 1), (40, 32, 2) })
        {
            foreach (var causal in new[] { false, true })
            {
                foreach (var threads in new[] { 1, 2 }) data.Add(t, e, heads, causal, threads);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(PaddedCases))]
    public void With_lengths_forward_and_backward_match_the_reference(int t, int e, int heads, bool causal, int threads)
    {
        int[] lengths = [.. new[] { t, 0, 1, Math.Max(1, t / 2), Math.Max(1, t - 1) }];
        var n = lengths.Length;
        var g = new AttentionGeometry(n, t, e, heads, causal);
        var x = TestData.Normal(n * t * 3 * e, 8, std: 1.5f);
        var dy = TestData.Normal(n * t * e, 9);
        var (y, dx) = Run(g, x, dy, threads, lengths);

        var ry = new double[y.Length];
        AttentionReference.Forward<double>(TestData.ToDouble(x), ry, g, lengths);
        var rdx = new double[dx.Length];
        AttentionReference.Backward<double>(TestData.ToDouble(x), TestData.ToDouble(dy), rdx, g, lengths);
        Close.All(y, ry, 1e-4, 1e-5, "y");
        Close.All(dx, rdx, 1e-4, 1e-4, "dx");
        // A sample of padding only gives zeros and takes no gradient.
        y.AsSpan(t * e, t * e).ToArray().ShouldAllBe(v => v == 0f);
        dx.AsSpan(t * 3 * e, t * 3 * e).ToArray().ShouldAllBe(v => v == 0f);
    }

    [Fact]
    public void A_padded_key_changes_nothing_and_gets_no_gradient()
    {
        var g = new AttentionGeometry(1, 6, 4, 2, false);
        var x = TestData.Normal(6 * 12, 10);
        var dy = TestData.Normal(6 * 4, 11);
        var (before, dx) = Run(g, x, dy, 1, [4]);
        // Change the q, k and v of positions 4 and 5 (padding): the outputs of positions 0..3 stay as they were.
        for (var i = 4 * 12; i < x.Length; i++) x[i] += 3f;
        var (after, _) = Run(g, x, dy, 1, [4]);
        after.AsSpan(0, 4 * 4).ToArray().ShouldBe(before.AsSpan(0, 4 * 4).ToArray());
        // No gradient reaches the keys and values of the padding (the padded queries do get one: they read real keys).
        for (var i = 4; i < 6; i++) dx.AsSpan(i * 12 + 4, 8).ToArray().ShouldAllBe(v => v == 0f);
        // Without the lengths the padding is read.
        var (unmasked, _) = Run(g, x, dy, 1);
        unmasked.AsSpan(0, 4 * 4).ToArray().ShouldNotBe(after.AsSpan(0, 4 * 4).ToArray());
    }

    [Theory]
    [InlineData(9, 8)]
    [InlineData(16, 16)]
    public void Scores_far_larger_than_exp_can_take_stay_finite(int t, int e)
    {
        // q·k/√d reaches about 10⁴ here: exp of that overflows float unless the row's maximum is subtracted first.
        var g = new AttentionGeometry(1, t, e, 2, true);
        var x = TestData.Normal(t * 3 * e, 3, std: 60f);
        var (y, dx) = Run(g, x, TestData.Normal(t * e, 4), 1);
        y.ShouldAllBe(v => float.IsFinite(v));
        dx.ShouldAllBe(v => float.IsFinite(v));
        var ry = new double[y.Length];
        AttentionReference.Forward<double>(TestData.ToDouble(x), ry, g);
        Close.All(y, ry, 1e-3, 1e-3, "y");
    }

    [Fact]
    public void A_causal_position_ignores_every_later_one()
    {
        var g = new AttentionGeometry(1, 6, 4, 2, true);
        var x = TestData.Normal(6 * 12, 5);
        var (before, _) = Run(g, x, new float[6 * 4], 1);
        // Change every k and v of positions 3..5: the outputs of positions 0..2 stay exactly as they were.
        for (var i = 3 * 12; i < x.Length; i++) x[i] += 1f;
        var (after, _) = Run(g, x, new float[6 * 4], 1);
        after.AsSpan(0, 3 * 4).ToArray().ShouldBe(before.AsSpan(0, 3 * 4).ToArray());
        after.AsSpan(3 * 4).ToArray().ShouldNotBe(before.AsSpan(3 * 4).ToArray());
    }

    [Fact]
    public void With_a_cache_each_position_run_alone_gives_the_whole_sequence_result()
    {
        var g = new AttentionGeometry(2, 11, 6, 3, true);
        var x = TestData.Normal(2 * 11 * 18, 6);
        var (whole, _) = Run(g, x, new float[2 * 11 * 6], 2);
        using var parallel = new SampleParallel(1);
        var buffers = new List<NativeBuffer>();
        var step = new AttentionKernel(g with { Steps = 1 }, parallel, new ManagedGemm(1), Owned(buffers), backward: false);
        var cursor = new SequenceCursor(16);
        step.UseCache(cursor);
        using var input = new NativeBuffer(2 * 18);
        using var output = new NativeBuffer(2 * 6);
        for (var i = 0; i < 11; i++)
        {
            for (var s = 0; s < 2; s++) x.AsSpan((s * 11 + i) * 18, 18).CopyTo(input.Span.Slice(s * 18, 18));
            step.Forward(input.Pointer, output.Pointer);
            cursor.Next++;
            for (var s = 0; s < 2; s++)
                Close.All(output.Span.Slice(s * 6, 6), whole.AsSpan((s * 11 + i) * 6, 6).ToArray().Select(v => (double)v).ToArray(), 1e-5, 1e-6, $"sample {s}, position {i}");
        }
        foreach (var b in buffers) b.Dispose();
    }

    [Fact]
    public void Attention_without_a_causal_mask_refuses_to_generate()
    {
        using var parallel = new SampleParallel(1);
        var buffers = new List<NativeBuffer>();
        var kernel = new AttentionKernel(new AttentionGeometry(1, 1, 4, 1, false), parallel, new ManagedGemm(1), Owned(buffers), backward: false);
        Should.Throw<InvalidOperationException>(() => kernel.UseCache(new SequenceCursor(4))).Message.ShouldContain("causal");
        foreach (var b in buffers) b.Dispose();
    }

    private static Func<int, NativeBuffer> Owned(List<NativeBuffer> buffers) => length =>
    {
        var b = new NativeBuffer(Math.Max(1, length));
        buffers.Add(b);
        return b;
    };

    private static (float[] Y, float[] Dx) Run(AttentionGeometry g, float[] x, float[] dy, int threads, int[]? lengths = null)
    {
        using var parallel = new SampleParallel(threads);
        var buffers = new List<NativeBuffer>();
        var kernel = new AttentionKernel(g, parallel, new ManagedGemm(1), Owned(buffers), backward: true);
        using var xb = new NativeBuffer(x.Length);
        using var yb = new NativeBuffer(g.Batch * g.Steps * g.Features);
        using var dyb = new NativeBuffer(dy.Length);
        using var dxb = new NativeBuffer(x.Length);
        x.CopyTo(xb.Span);
        dy.CopyTo(dyb.Span);
        // Garbage in the outputs: the kernel must overwrite, not accumulate.
        yb.Span.Fill(float.NaN);
        dxb.Span.Fill(float.NaN);
        using var lb = new NativeBuffer(Math.Max(1, lengths?.Length ?? 0));
        if (lengths is not null)
        {
            for (var i = 0; i < lengths.Length; i++) lb.Span[i] = lengths[i];
        }
        var l = lengths is null ? null : lb.Pointer;
        kernel.Forward(xb.Pointer, yb.Pointer, l);
        kernel.Backward(xb.Pointer, dyb.Pointer, dxb.Pointer, l);
        var result = (yb.Span.ToArray(), dxb.Span.ToArray());
        foreach (var b in buffers) b.Dispose();
        return result;
    }

    [Theory]
    [InlineData(13)]
    [InlineData(24)]
    public void A_masked_softmax_row_and_its_gradient_match_double_for_every_visible_length(int length)
    {
        // Row lengths with and without room for a whole last vector; NaN past the visible part must not leak in.
        for (var visible = 0; visible <= length; visible++)
        {
            var scores = TestData.Normal(length, (ulong)(10 + visible), std: 3f);
            var row = (float[])scores.Clone();
            for (var i = visible; i < length; i++) row[i] = float.NaN;
            AttentionPairs.MaskedSoftmax(row, visible);

            var max = visible == 0 ? 0.0 : scores.Take(visible).Max(v => (double)v);
            var sum = scores.Take(visible).Sum(v => Math.Exp(v - max));
            var expected = Enumerable.Range(0, length).Select(i => i < visible ? Math.Exp(scores[i] - max) / sum : 0.0).ToArray();
            Close.All(row, expected, 1e-6, 1e-6, $"softmax, {visible} of {length} visible");

            var dp = TestData.Normal(length, (ulong)(50 + visible));
            var dpIn = (float[])dp.Clone();
            for (var i = visible; i < length; i++) dp[i] = float.NaN;
            AttentionPairs.SoftmaxGradient(row, dp, visible, 0.5f);
            var dot = Enumerable.Range(0, visible).Sum(i => (double)dpIn[i] * row[i]);
            var expectedGrad = Enumerable.Range(0, length).Select(i => i < visible ? (dpIn[i] - dot) * row[i] * 0.5 : 0.0).ToArray();
            Close.All(dp, expectedGrad, 1e-6, 1e-6, $"softmax gradient, {visible} of {length} visible");
        }
    }
}
