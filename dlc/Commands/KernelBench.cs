using System.Globalization;
using System.Text.Json;
using Dlc.Backend.Gemm;
using Dlc.Backend.Native;
using Dlc.Cli.Output;

namespace Dlc.Cli.Commands;

/// <summary>`dlc bench --kernels`: GFLOP/s of every GEMM provider at the MLP's shapes, fused and unfused.</summary>
internal static class KernelBench
{
    public static int Run(CliContext context, int threads)
    {
        if (Mkl.IsAvailable) Mkl.SetThreads(threads);
        var providers = new List<(string Name, IGemm Provider)>();
        if (Mkl.IsAvailable) providers.Add(("mkl", new MklGemm(threads)));
        else context.Error.WriteLine($"warning DL0907: {Mkl.LoadError}");
        using var managed = new ManagedGemm(threads);
        providers.Add(("managed", managed));
        var rows = KernelBenchmark.Run(providers);
        if (context.Json)
        {
            context.Out.WriteLine(JsonSerializer.Serialize(rows, Summaries.JsonOptions));
            return ExitCodes.Ok;
        }
        static string F(double x) => x.ToString("0.0", CultureInfo.InvariantCulture);
        context.Out.WriteLine($"GEMM GFLOP/s (median, best), {threads} threads");
        context.Out.WriteLine($"  {"kernel",-22} {"shape",-22} {string.Join(" ", providers.Select(p => $"{p.Name,16}"))}");
        foreach (var shape in rows.GroupBy(r => (r.Kernel, r.TransA, r.TransB, r.M, r.N, r.K)))
        {
            var (kernel, ta, tb, m, n, k) = shape.Key;
            var text = $"{(ta ? "T" : "N")}{(tb ? "T" : "N")} {m}x{n}x{k}";
            var cells = providers.Select(p => shape.FirstOrDefault(r => r.Provider == p.Name) is { } r ? $"{F(r.MedianGflops)} ({F(r.BestGflops)})" : "-");
            context.Out.WriteLine($"  {kernel,-22} {text,-22} {string.Join(" ", cells.Select(c => $"{c,16}"))}");
        }
        return ExitCodes.Ok;
    }
}
