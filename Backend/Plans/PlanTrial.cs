using System.Diagnostics;

namespace Dlc.Backend.Plans;

/// <summary>Times candidate plans of one graph and keeps the fastest.</summary>
internal static class PlanTrial
{
    private const int Rounds = 4;

    /// <summary>A plan's identity for the tuning cache: the hash of its IR text and sizes.</summary>
    public static string Key(Compiler.Ir.Graph graph, IReadOnlyDictionary<string, int> symbols)
    {
        var text = Compiler.Ir.IrPrinter.Print(graph) + string.Join(",", symbols.OrderBy(s => s.Key).Select(s => $"{s.Key}={s.Value}"));
        return "plan " + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)))[..16];
    }

    /// <summary>
    /// Runs the candidates in turn, a few rounds, and keeps the one with the shortest run (the minimum is
    /// the figure least disturbed by other work). Any random stream the plans draw from (dropout) is put
    /// back as it was, so a trial never changes a seeded run's results. The others are disposed.
    /// </summary>
    public static ExecutionPlan Fastest(IReadOnlyList<ExecutionPlan> candidates, Rng? rng)
    {
        var state = rng?.GetState();
        var best = new double[candidates.Count];
        Array.Fill(best, double.MaxValue);
        foreach (var plan in candidates) plan.Run();
        for (var round = 0; round < Rounds; round++)
        {
            for (var i = 0; i < candidates.Count; i++)
            {
                var start = Stopwatch.GetTimestamp();
                candidates[i].Run();
                best[i] = Math.Min(best[i], Stopwatch.GetElapsedTime(start).TotalSeconds);
            }
        }
        if (state is not null) rng!.SetState(state);
        var winner = Array.IndexOf(best, best.Min());
        for (var i = 0; i < candidates.Count; i++)
        {
            if (i != winner) candidates[i].Dispose();
        }
        return candidates[winner];
    }
}
