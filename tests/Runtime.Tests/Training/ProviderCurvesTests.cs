using Dlc.Backend;
using Dlc.Backend.Gemm;
using Dlc.Backend.Native;
using Dlc.Compiler.Elaboration;
using Dlc.Compiler.Jobs;
using Dlc.Diagnostics;
using Dlc.Runtime.Training;

namespace Dlc.Runtime.Tests.Training;

/// <summary>
/// The same model, seed, batches and optimiser trained with each GEMM provider (dlc's kernels on one thread and on two,
/// and MKL where it is installed) follows the same loss curve to float tolerance: the providers sum in different orders,
/// and nothing else may differ.
/// </summary>
public class ProviderCurvesTests
{
    // Wide enough for the products to take the blocked kernels and, on two threads, to split; the output layer's 10
    // columns take the dot-product path.
    private const string Source = """
        model Mlp (x: Tensor[N, 96]) : Tensor[N, 10] =
            x |> dense 128 |> relu |> dense 128 |> relu |> dense 10
        """;

    private const int Batch = 128;
    private const int Steps = 40;

    [Fact]
    public void Training_curves_with_each_provider_agree_to_float_tolerance()
    {
        var reference = Curve(new ManagedGemm(1));
        // It trains: the loss falls well below its start.
        reference[^1].ShouldBeLessThan(0.5 * reference[0]);
        var others = new List<(string Name, IGemm Gemm)> { ("managed on two threads", new ManagedGemm(2)) };
        if (Mkl.IsAvailable) others.Add(("mkl", new MklGemm(2)));
        foreach (var (name, gemm) in others)
        {
            var curve = Curve(gemm);
            for (var step = 0; step < Steps; step++)
                curve[step].ShouldBe(reference[step], 1e-4 * Math.Max(1, reference[step]), $"{name}, step {step}");
        }
    }

    /// <summary>The loss of each of <see cref="Steps"/> Adam steps, each on its own batch of a fixed stream of noise labelled by a fixed rule.</summary>
    private static double[] Curve(IGemm gemm)
    {
        var file = ProgramCompiler.Compile(new SourceText("mlp.dl", Source));
        using var model = new ModelRuntime(file, "Mlp", LossKind.CrossEntropy, gemm, seed: 7);
        var plan = model.TrainingPlan(Batch);
        using var optimizer = new Optimizer(new OptimizerSpec(OptimizerKind.Adam, 1e-2), model.Parameters);
        var data = new Rng(11);
        var losses = new double[Steps];
        for (var step = 0; step < Steps; step++)
        {
            var x = plan.Input("x");
            data.FillUniform(x, -1, 1);
            var target = plan.Input(TrainingGraph.TargetInput);
            // The class: which of the first ten inputs is largest.
            for (var i = 0; i < Batch; i++) target[i] = System.Numerics.Tensors.TensorPrimitives.IndexOfMax<float>(x.Slice(i * 96, 10));
            plan.Run();
            losses[step] = plan.Scalar(TrainingGraph.LossOutput);
            optimizer.Update();
        }
        return losses;
    }
}
