using Dlc.Backend.Gemm;
using Dlc.Backend.Plans;
using Dlc.Compiler.Autodiff;
using Dlc.Compiler.Elaboration;
using Dlc.Compiler.Ir;
using Dlc.Compiler.Jobs;
using Dlc.Diagnostics;

namespace Dlc.Backend.Tests.Plans;

/// <summary>A model whose arithmetic broadcasts, compiled into a plan: one training step against the definition.</summary>
public class BroadcastingPlanTests
{
    // A gate per sample ([N, 1]) and per channel ([N, 2, 1, 1]), numbers combined with tensors, and division.
    private const string Source = """
        model Gated (x: Tensor[N, 1, 4, 4]) : Tensor[N, 3] =
            let f = x |> conv2d 2 (kernel = 3, padding = 1)
            let s = f |> flatten |> dense 2 |> sigmoid |> reshape [2; 1; 1]
            let h = f * s |> flatten |> dense 4 |> relu
            let g = h |> dense 1 |> sigmoid
            (h * g + h - g) / (1 + g) - 0.5 * h |> dense 3

        train Gated { data = fashionMnist; loss = crossEntropy }
        """;

    private static GradientGraph TrainingGraphOf()
    {
        var file = ProgramCompiler.Compile(new SourceText("gated.dl", Source));
        file.Diagnostics.ShouldBeEmpty();
        Capabilities.CheckTrain(file, file.Trains[0]).ShouldBeEmpty();
        return TrainingGraph.Build(file.Elaborate("Gated", training: true), LossKind.CrossEntropy);
    }

    private static ExecutionPlan Plan(GradientGraph gradients, ParameterStore store, int batch) =>
        ExecutionPlan.Compile(gradients.Graph, store,
            new PlanOptions(new Dictionary<string, int> { ["N"] = batch }, GemmProviders.Create("managed", 1, out _)));

    [Fact]
    public void A_broadcasting_training_step_matches_the_reference_interpreter()
    {
        var gradients = TrainingGraphOf();
        gradients.Graph.Nodes.ShouldContain(n => n.Op == Op.Expand);
        gradients.Graph.Nodes.ShouldContain(n => n.Op == Op.ReduceTo);
        gradients.Graph.Nodes.ShouldContain(n => n.Op == Op.Divide);
        const int batch = 5;
        using var store = new ParameterStore(gradients.Graph.Parameters);
        store.Initialize(new Rng(3));
        using var plan = Plan(gradients, store, batch);
        new Rng(5).FillUniform(plan.Input("x"), -1, 1);
        var labels = plan.Input(TrainingGraph.TargetInput);
        for (var i = 0; i < batch; i++) labels[i] = i % 3;
        plan.Run();

        PlanReference.ShouldMatch(gradients, store, plan, batch, "broadcasting");
    }

    [Fact]
    public void A_broadcasting_training_step_allocates_no_managed_memory()
    {
        var gradients = TrainingGraphOf();
        using var store = new ParameterStore(gradients.Graph.Parameters);
        store.Initialize(new Rng(1));
        using var plan = Plan(gradients, store, 8);
        plan.Run();
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10; i++) plan.Run();
        (GC.GetAllocatedBytesForCurrentThread() - before).ShouldBe(0);
    }
}
