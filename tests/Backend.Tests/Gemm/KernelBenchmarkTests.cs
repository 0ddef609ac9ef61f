using Dlc.Backend.Gemm;

namespace Dlc.Backend.Tests.Gemm;

/// <summary>The benchmark's shape of output only; how fast anything runs is never asserted.</summary>
public class KernelBenchmarkTests
{
    [Fact]
    public void Every_provider_gets_a_row_per_shape_then_fused_and_separate_rows_with_positive_rates()
    {
        using var one = new ManagedGemm(1);
        var shapes = new GemmShape[] { new(false, true, 8, 16, 32), new(true, false, 3, 5, 7) };
        var rows = KernelBenchmark.Run([("a", one), ("b", one)], shapes, secondsPerCase: 0.001);

        var gemmRows = rows.Where(r => r.Kernel == KernelBenchmark.Gemm).ToList();
        gemmRows.Select(r => (r.Provider, r.TransA, r.TransB, r.M, r.N, r.K)).ShouldBe(
            [("a", false, true, 8, 16, 32), ("b", false, true, 8, 16, 32), ("a", true, false, 3, 5, 7), ("b", true, false, 3, 5, 7)]);
        var fusionCases = KernelBenchmark.ForwardFusionShapes.Count + KernelBenchmark.BackwardFusionShapes.Count;
        rows.Count.ShouldBe(gemmRows.Count + 2 * 2 * fusionCases);
        rows.Count(r => r.Kernel == KernelBenchmark.FusedBiasRelu).ShouldBe(2 * KernelBenchmark.ForwardFusionShapes.Count);
        rows.Count(r => r.Kernel == KernelBenchmark.UnfusedReluGradient).ShouldBe(2 * KernelBenchmark.BackwardFusionShapes.Count);
        foreach (var row in rows)
        {
            row.MedianGflops.ShouldBeGreaterThan(0);
            row.BestGflops.ShouldBeGreaterThanOrEqualTo(row.MedianGflops);
        }
    }

    [Fact]
    public void The_default_shapes_are_the_mlps_products_at_batch_128_and_two_squares()
    {
        KernelBenchmark.DefaultShapes.ShouldContain(new GemmShape(false, true, 128, 256, 784));
        KernelBenchmark.DefaultShapes.ShouldContain(new GemmShape(true, false, 256, 784, 128));
        KernelBenchmark.DefaultShapes.ShouldContain(new GemmShape(false, false, 1024, 1024, 1024));
        new GemmShape(false, true, 128, 256, 784).Key.ShouldBe("NT 128x256x784");
    }
}
