using Dlc.Backend.Gemm;
using Dlc.Backend.Plans;
using Dlc.Compiler.Autodiff;
using Dlc.Compiler.Elaboration;
using Dlc.Compiler.Jobs;
using Dlc.Diagnostics;

namespace Dlc.Backend.Tests.Plans;

/// <summary>A small convolutional network compiled into a plan: one step against the definition, then training.</summary>
public class ConvolutionPlanTests
{
    private const string Source = """
        model Cnn (x: Tensor[N, 1, 8, 8]) : Tensor[N, 3] =
            x |> conv2d 4 (kernel = 3, padding = 1) |> relu |> maxPool 2
              |> conv2d 6 (kernel = 3, stride = 2, padding = 1, groups = 2) |> relu
              |> flatten |> dense 3

        train Cnn { data = fashionMnist; loss = crossEntropy }
        """;

    private static GradientGraph TrainingGraphOf()
    {
        var file = ProgramCompiler.Compile(new SourceText("cnn.dl", Source));
        file.Diagnostics.ShouldBeEmpty();
        Capabilities.CheckTrain(file, file.Trains[0]).ShouldBeEmpty();
        return TrainingGraph.Build(file.Elaborate("Cnn", training: true), LossKind.CrossEntropy);
    }

    [Fact]
    public void A_convolutional_training_step_matches_the_reference_interpreter()
    {
        var gradients = TrainingGraphOf();
        var graph = gradients.Graph;
        const int batch = 5;
        using var store = new ParameterStore(graph.Parameters);
        store.Initialize(new Rng(3));
        using var plan = ExecutionPlan.Compile(graph, store,
            new PlanOptions(new Dictionary<string, int> { ["N"] = batch }, GemmProviders.Create("managed", 1, out _)));
        new Rng(5).FillUniform(plan.Input("x"), -1, 1);
        var labels = plan.Input(TrainingGraph.TargetInput);
        for (var i = 0; i < batch; i++) labels[i] = i % 3;
        plan.Run();

        PlanReference.ShouldMatch(gradients, store, plan, batch, "the managed GEMM");
    }

    [Fact]
    public void A_tiny_convolutional_model_learns_a_fixed_batch()
    {
        var graph = TrainingGraphOf().Graph;
        const int batch = 12;
        using var store = new ParameterStore(graph.Parameters);
        store.Initialize(new Rng(1));
        using var plan = ExecutionPlan.Compile(graph, store,
            new PlanOptions(new Dictionary<string, int> { ["N"] = batch }, GemmProviders.Create("managed", 1, out _)));
        new Rng(2).FillUniform(plan.Input("x"), -1, 1);
        var labels = plan.Input(TrainingGraph.TargetInput);
        for (var i = 0; i < batch; i++) labels[i] = i % 3;

        plan.Run();
        var first = plan.Scalar(TrainingGraph.LossOutput);
        var last = first;
        for (var step = 0; step < 60; step++)
        {
            // Plain gradient descent over the one contiguous parameter buffer.
            System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(store.Gradients.Span, -0.5f, store.Values.Span, store.Values.Span);
            plan.Run();
            last = plan.Scalar(TrainingGraph.LossOutput);
        }
        float.IsFinite(last).ShouldBeTrue();
        last.ShouldBeLessThan(first * 0.5f, $"loss {first} → {last}");
    }

    [Fact]
    public void A_convolutional_training_step_allocates_no_managed_memory()
    {
        var graph = TrainingGraphOf().Graph;
        using var store = new ParameterStore(graph.Parameters);
        store.Initialize(new Rng(1));
        using var plan = ExecutionPlan.Compile(graph, store,
            new PlanOptions(new Dictionary<string, int> { ["N"] = 8 }, GemmProviders.Create("managed", 1, out _)));
        plan.Run();
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10; i++) plan.Run();
        (GC.GetAllocatedBytesForCurrentThread() - before).ShouldBe(0);
    }
}
