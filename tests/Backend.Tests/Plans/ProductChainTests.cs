using Dlc.Backend.Gemm;
using Dlc.Backend.Plans;
using Dlc.Compiler.Elaboration;
using Dlc.Compiler.Ir;
using Dlc.Compiler.Jobs;
using Dlc.Compiler.Passes;
using Dlc.Diagnostics;

namespace Dlc.Backend.Tests.Plans;

/// <summary>
/// Dense layers of a batch of one chained in pairs (the `gemm-chain` pass): one step, one hand-off, for two products; the
/// outputs those of the reference interpreter, the memory plan aware that the second product is written at the first's step.
/// </summary>
public class ProductChainTests
{
    // Five layers: chains (1, 2) and (3, 4); the last stands alone. Widths of 256 make the products large enough to split
    // once the workers are awake.
    private const string Deep = """
        model Deep (x: Tensor[N, 300]) : Tensor[N, 10] =
            x |> dense 256 |> relu |> dense 256 |> tanh |> dense 256 |> relu |> dense 256 |> dense 10
        """;

    private static Graph Graph() => ProgramCompiler.Compile(new SourceText("deep.dl", Deep)).Elaborate("Deep", training: false).Graph;

    [Fact]
    public void Two_pairs_of_batch_one_products_run_as_two_steps_and_match_the_reference_interpreter()
    {
        var graph = Graph();
        using var gemm = new ManagedGemm(2);
        using var store = new ParameterStore(graph.Parameters);
        store.Initialize(new Rng(3));
        var symbols = new Dictionary<string, int> { ["N"] = 1 };
        using var plan = ExecutionPlan.Compile(graph, store, new PlanOptions(symbols, gemm));
        var products = graph.Nodes.Where(n => n.Op == Op.MatMul).Select(n => n.Id).ToArray();

        plan.StepLabels.Count(l => l.Contains(", then ", StringComparison.Ordinal)).ShouldBe(2);
        plan.StepLabels.Count.ShouldBe(3);
        var chains = plan.Fusions().Where(f => f.Kind == "dense after dense in one hand-off").ToList();
        chains.Where(f => f.Fired).Select(f => (f.Producer, f.Consumer)).ShouldBe([(products[0], products[1]), (products[2], products[3])], ignoreOrder: true);
        // The second and third products are no pair (the second ends the first chain), nor are the fourth and fifth.
        chains.Where(f => !f.Fired).ShouldAllBe(f => f.Reason!.Contains("already chained"));

        // The fourth product's result is written at the third's step, while the other thread may still read the third's A
        // (the second's result): their lives overlap, so they get memory of their own.
        var lives = plan.Memory().Buffers;
        lives.Single(b => b.What.StartsWith($"%{products[3]} ", StringComparison.Ordinal)).First.ShouldBe(products[2]);

        // Run after run, so the workers are awake and the products split.
        var rng = new Rng(5);
        for (var run = 0; run < 200; run++)
        {
            rng.FillUniform(plan.Input("x"), -1, 1);
            plan.Run();
            if (run % 50 != 49) continue;
            var feeds = new Dictionary<string, double[]> { ["x"] = plan.Input("x").ToArray().Select(v => (double)v).ToArray() };
            foreach (var p in graph.Parameters) feeds[p.Name] = store.Value(p.Name).ToArray().Select(v => (double)v).ToArray();
            var expected = ReferenceInterpreter.Run(graph, symbols, feeds)[graph.Outputs[0].Node];
            var actual = plan.Output(graph.Outputs[0].Name).ToArray();
            for (var i = 0; i < actual.Length; i++) ((double)actual[i]).ShouldBe(expected[i], 1e-5 + 1e-4 * Math.Abs(expected[i]), $"y[{i}], run {run}");
        }
    }

    [Theory]
    [InlineData(8, 2, 0, "")]
    [InlineData(1, 1, 4, "one thread")]
    public void Products_of_a_micro_tile_of_rows_or_on_one_thread_are_not_chained(int batch, int threads, int unchained, string reason)
    {
        var graph = Graph();
        using var gemm = new ManagedGemm(threads);
        using var store = new ParameterStore(graph.Parameters);
        using var plan = ExecutionPlan.Compile(graph, store, new PlanOptions(new Dictionary<string, int> { ["N"] = batch }, gemm));

        plan.StepLabels.ShouldNotContain(l => l.Contains(", then ", StringComparison.Ordinal));
        var findings = plan.Fusions().Where(f => f.Kind == "dense after dense in one hand-off").ToList();
        findings.Count.ShouldBe(unchained);
        findings.ShouldAllBe(f => !f.Fired && f.Reason!.Contains(reason));
    }

    [Fact]
    public void Without_the_pass_each_product_has_its_step()
    {
        var graph = Graph();
        using var gemm = new ManagedGemm(2);
        using var store = new ParameterStore(graph.Parameters);
        using var plan = ExecutionPlan.Compile(graph, store,
            new PlanOptions(new Dictionary<string, int> { ["N"] = 1 }, gemm) { Passes = PassSet.Parse(null, [PassSet.GemmChain], out _) });

        plan.StepLabels.Count.ShouldBe(5);
        plan.Fusions().Where(f => f.Kind == "dense after dense in one hand-off").ShouldAllBe(f => !f.Fired && f.Reason!.Contains("`gemm-chain` pass is off"));
    }
}
