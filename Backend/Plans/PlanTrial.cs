using System.Diagnostics;

namespace Dlc.Backend.Plans;

/// <summary>Times candidate plans of one graph and keeps the fastest.</summary>
internal static class PlanTrial
{
    private const double BurstSeconds = 2e-3;
    private const double BudgetSeconds = 0.05;
    private const int MinRounds = 5;
    private const int MaxRounds = 15;

    /// <summary>A plan's identity for the tuning cache: the hash of its IR text and sizes.</summary>
    public static string Key(Compiler.Ir.Graph graph, IReadOnlyDictionary<string, int> symbols)
    {
        var text = Compiler.Ir.IrPrinter.Print(graph) + string.Join(",", symbols.OrderBy(s => s.Key).Select(s => $"{s.Key}={s.Value}"));
        return "plan " + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)))[..16];
    }

    /// <summary>
    /// Runs the candidates in turn, round after round, and keeps the one with the shortest median run. A round runs each
    /// candidate for about <see cref="BurstSeconds"/> (a small plan many times), so the figure is the steady state a
    /// training loop or a server sees, not a first run: MKL's plan for the MLP at batch 1 ran 40 µs when run once after
    /// another plan and 190 µs run back to back, and won a trial of single runs against the managed kernels' 13 µs. The
    /// rounds fit about <see cref="BudgetSeconds"/> a candidate, at least <see cref="MinRounds"/>; their median is the
    /// figure least moved by a burst of other load, where the fastest single run was the one most flattered by it. Between
    /// providers within a few percent of each other (the MLP's inference at batch 1000 on a 2-core Xeon) either may win.
    /// Any random stream the plans draw from (dropout) is put back as it was, so a trial never changes a seeded run's
    /// results. The others are disposed.
    /// </summary>
    public static ExecutionPlan Fastest(IReadOnlyList<ExecutionPlan> candidates, Rng? rng)
    {
        var state = rng?.GetState();
        // The first run of each (page faults on fresh buffers, code not yet compiled) sizes its bursts.
        var runs = new int[candidates.Count];
        var slowest = 0.0;
        for (var i = 0; i < candidates.Count; i++)
        {
            var once = Time(candidates[i], 1);
            runs[i] = (int)Math.Clamp(BurstSeconds / Math.Max(once, 1e-7), 1, 1000);
            slowest = Math.Max(slowest, once * runs[i]);
        }
        var rounds = (int)Math.Clamp(BudgetSeconds / Math.Max(slowest, 1e-7), MinRounds, MaxRounds);
        var seconds = new double[candidates.Count][];
        for (var i = 0; i < candidates.Count; i++) seconds[i] = new double[rounds];
        for (var round = 0; round < rounds; round++)
        {
            for (var i = 0; i < candidates.Count; i++) seconds[i][round] = Time(candidates[i], runs[i]) / runs[i];
        }
        if (state is not null) rng!.SetState(state);
        var medians = seconds.Select(s => s.Order().ElementAt(rounds / 2)).ToArray();
        var winner = Array.IndexOf(medians, medians.Min());
        for (var i = 0; i < candidates.Count; i++)
        {
            if (i != winner) candidates[i].Dispose();
        }
        return candidates[winner];
    }

    private static double Time(ExecutionPlan plan, int runs)
    {
        var start = Stopwatch.GetTimestamp();
        for (var r = 0; r < runs; r++) plan.Run();
        return Stopwatch.GetElapsedTime(start).TotalSeconds;
    }
}
