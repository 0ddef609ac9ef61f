using System.Diagnostics;

namespace Dlc.Backend.Gemm;

/// <summary>
/// Times providers at one shape on scratch buffers: a warm-up call each (JIT, pack buffers, MKL's threads),
/// then a few runs per provider, interleaved so a burst of other load on the machine hits all of them
/// alike. A run repeats the product for about a millisecond; the result is each provider's median run, in
/// seconds per product. A shape costs a few milliseconds per provider, more for products that alone take
/// longer than that.
/// </summary>
internal static unsafe class GemmTrial
{
    private const double RunSeconds = 1e-3;

    internal static double[] Measure(GemmShape shape, IReadOnlyList<IGemm> providers)
    {
        var (sa, sb, sc) = shape.Sizes;
        var (lda, ldb, ldc) = shape.Strides;
        using var a = Filled(sa, 1);
        using var b = Filled(sb, 2);
        using var c = new NativeBuffer(checked((int)Math.Max(1, sc)));
        void Call(IGemm gemm) =>
            gemm.Sgemm(shape.TransA, shape.TransB, shape.M, shape.N, shape.K, 1f, a.Pointer, lda, b.Pointer, ldb, 0f, c.Pointer, ldc);

        var repeats = new int[providers.Count];
        var slowest = 0.0;
        for (var p = 0; p < providers.Count; p++)
        {
            Call(providers[p]);
            var once = Time(() => Call(providers[p]), 1);
            slowest = Math.Max(slowest, once);
            repeats[p] = (int)Math.Clamp(RunSeconds / Math.Max(once, 1e-9), 1, 10_000);
        }
        // Five runs, or three where a single product takes longer than a few runs' worth of the budget.
        var runs = slowest > 5 * RunSeconds ? 3 : 5;
        var samples = new double[providers.Count][];
        for (var p = 0; p < providers.Count; p++) samples[p] = new double[runs];
        for (var run = 0; run < runs; run++)
        {
            for (var p = 0; p < providers.Count; p++)
            {
                var gemm = providers[p];
                samples[p][run] = Time(() => Call(gemm), repeats[p]) / repeats[p];
            }
        }
        var medians = new double[providers.Count];
        for (var p = 0; p < providers.Count; p++)
        {
            Array.Sort(samples[p]);
            medians[p] = samples[p][runs / 2];
        }
        return medians;
    }

    private static double Time(Action body, int repeats)
    {
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < repeats; i++) body();
        return Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    private static NativeBuffer Filled(long length, ulong seed)
    {
        var buffer = new NativeBuffer(checked((int)Math.Max(1, length)));
        // Values of the size a trained layer sees: nothing denormal or huge that could slow one provider.
        new Rng(seed).FillUniform(buffer.Span, -1f, 1f);
        return buffer;
    }
}
