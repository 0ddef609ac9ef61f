using Dlc.Backend;
using Dlc.Backend.Gemm;
using Dlc.Compiler.Elaboration;
using Dlc.Compiler.Jobs;
using Dlc.Diagnostics;
using Dlc.Runtime.Training;

namespace Dlc.Runtime.Tests.Training;

/// <summary>
/// <see cref="ModelRuntime.WeightsFixed"/>: inference plans used inside pack their weights once, training plans never,
/// and the copies last until the outermost scope ends.
/// </summary>
public class FixedWeightsTests
{
    private const string Source = """
        model Mlp (x: Tensor[N, 200]) : Tensor[N, 10] =
            x |> dense 256 |> relu |> dense 10
        """;

    [Fact]
    public void Inference_plans_used_while_the_weights_are_fixed_read_them_packed_until_the_outermost_scope_ends()
    {
        var file = ProgramCompiler.Compile(new SourceText("mlp.dl", Source));
        using var model = new ModelRuntime(file, "Mlp", LossKind.CrossEntropy, new ManagedGemm(2), 7);
        var plan = model.InferencePlan(1000);
        new Rng(5).FillUniform(plan.Input("x"), -1, 1);
        plan.Run();
        var expected = plan.Output(ModelGraph.OutputName).ToArray();

        using (model.WeightsFixed())
        {
            using (model.WeightsFixed())
            {
                model.InferencePlan(1000).WeightsPacked.ShouldBeTrue();
                model.TrainingPlan(1000).WeightsPacked.ShouldBeFalse();
            }
            plan.WeightsPacked.ShouldBeTrue();
            plan.Run();
            plan.Output(ModelGraph.OutputName).ToArray().ShouldBe(expected);
            // A plan first used inside the scope packs too.
            model.InferencePlan(999).WeightsPacked.ShouldBeTrue();
        }
        plan.WeightsPacked.ShouldBeFalse();
        model.InferencePlan(999).WeightsPacked.ShouldBeFalse();
    }
}
