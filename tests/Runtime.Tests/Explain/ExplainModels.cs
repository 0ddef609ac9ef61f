using Dlc.Backend.Gemm;
using Dlc.Compiler.Elaboration;
using Dlc.Compiler.Jobs;
using Dlc.Diagnostics;
using Dlc.Runtime.Training;

namespace Dlc.Runtime.Tests.Explain;

/// <summary>Small models compiled from .dl source, with parameters the tests set, for attributions with known answers.</summary>
internal static class ExplainModels
{
    public static ModelRuntime Compile(string source, string model, LossKind loss, ulong seed = 1)
    {
        var file = ProgramCompiler.Compile(new SourceText("test.dl", source));
        file.HasErrors.ShouldBeFalse(string.Join("\n", file.Diagnostics.Select(d => d.Message)));
        return new ModelRuntime(file, model, loss, new ManagedGemm(1), seed);
    }

    /// <summary>f(x) = w·x + b over four features, a regression.</summary>
    public static ModelRuntime Linear(float[] w, float b)
    {
        var runtime = Compile("model Linear (x: Tensor[N, 4]) : Tensor[N, 1] =\n    x |> dense 1\n", "Linear", LossKind.Mse);
        w.CopyTo(runtime.Parameters.Value("Linear.dense.weight"));
        runtime.Parameters.Value("Linear.dense.bias")[0] = b;
        return runtime;
    }

    /// <summary>Deterministic values in [−1, 1].</summary>
    public static float[] Values(int count, int seed)
    {
        var rng = new Backend.Rng((ulong)seed);
        var values = new float[count];
        rng.FillUniform(values, -1f, 1f);
        return values;
    }
}
