using Dlc.Backend.Gemm;
using Dlc.Backend.Plans;
using Dlc.Compiler.Elaboration;
using Dlc.Diagnostics;

namespace Dlc.Backend.Tests.Plans;

/// <summary>
/// A plan whose weights are packed once (<see cref="ExecutionPlan.PackWeights"/>): the same outputs, bit for bit, from
/// the copies, which it reads until they are released.
/// </summary>
public class PackedWeightsTests
{
    // Two layers wide enough for two threads to claim rows at batch 1000 (200 and 256 deep, so one block of B on either
    // kernel); the classifier's 10 columns are dot products, which read the weights in place.
    private const string Source = """
        model Mlp (x: Tensor[N, 200]) : Tensor[N, 10] =
            x |> dense 256 |> relu |> dense 256 |> relu |> dense 10
        """;

    [Fact]
    public void A_plan_reads_its_packed_weights_with_the_same_outputs_until_they_are_released()
    {
        var graph = ProgramCompiler.Compile(new SourceText("mlp.dl", Source)).Elaborate("Mlp", training: false).Graph;
        using var gemm = new ManagedGemm(2);
        using var store = new ParameterStore(graph.Parameters);
        store.Initialize(new Rng(3));
        using var plan = ExecutionPlan.Compile(graph, store, new PlanOptions(new Dictionary<string, int> { ["N"] = 1000 }, gemm));
        new Rng(5).FillUniform(plan.Input("x"), -1, 1);
        float[] Outputs()
        {
            plan.Run();
            return plan.Output(ModelGraph.OutputName).ToArray();
        }
        var expected = Outputs();

        // The two hidden layers' weights, each packed whole; not the classifier's.
        plan.PackWeights().ShouldBe((256 * 200 + 256 * 256) * sizeof(float));
        plan.WeightsPacked.ShouldBeTrue();
        Outputs().ShouldBe(expected);

        // The runs read the copies: a change to the first layer's weights shows only once they are released.
        var first = graph.Parameters.First(p => p.Shape.Rank == 2).Name;
        store.Value(first).Clear();
        Outputs().ShouldBe(expected);
        plan.UnpackWeights();
        plan.WeightsPacked.ShouldBeFalse();
        Outputs().ShouldNotBe(expected);
    }

    /// <summary>
    /// At batch 1 the hidden layers (chained in one hand-off) get copies stored k×n, read where their inputs have zeros:
    /// the same outputs to float rounding (the sums run in another order), from the copies until they are released.
    /// </summary>
    [Fact]
    public void A_batch_one_plan_reads_copies_of_its_weights_where_its_inputs_have_zeros()
    {
        if (!System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated) return;
        var graph = ProgramCompiler.Compile(new SourceText("mlp.dl", Source)).Elaborate("Mlp", training: false).Graph;
        using var gemm = new ManagedGemm(2);
        using var store = new ParameterStore(graph.Parameters);
        store.Initialize(new Rng(3));
        using var plan = ExecutionPlan.Compile(graph, store, new PlanOptions(new Dictionary<string, int> { ["N"] = 1 }, gemm));
        var x = plan.Input("x");
        new Rng(5).FillUniform(x, -1, 1);
        // Half the inputs zero, as an image's background is.
        for (var i = 0; i < x.Length; i += 2) x[i] = 0f;
        float[] Outputs()
        {
            plan.Run();
            return plan.Output(ModelGraph.OutputName).ToArray();
        }
        var expected = Outputs();

        plan.PackWeights().ShouldBe((256 * 200 + 256 * 256) * sizeof(float));
        var packed = Outputs();
        for (var i = 0; i < expected.Length; i++) MathF.Abs(packed[i] - expected[i]).ShouldBeLessThan(1e-5f, $"output {i}");

        foreach (var weights in graph.Parameters.Where(p => p.Shape.Rank == 2 && p.Shape[0] == 256)) store.Value(weights.Name).Clear();
        // Within rounding, not bit for bit: whether a run splits the layers over both threads (the worker still spinning
        // or not) changes the order of the second layer's sums.
        var fromCopies = Outputs();
        for (var i = 0; i < packed.Length; i++) MathF.Abs(fromCopies[i] - packed[i]).ShouldBeLessThan(1e-5f, $"output {i}");
        plan.UnpackWeights();
        Outputs().ShouldNotBe(packed);
    }
}
