using Dlc.Backend.Gemm;
using Dlc.Compiler.Elaboration;
using Dlc.Compiler.Jobs;

namespace Dlc.Runtime.Training;

/// <summary>
/// Gets a job ready: the data loads on another thread while the model is elaborated, differentiated
/// and its first plan compiled, so start-up costs the longer of the two rather than their sum.
/// </summary>
public static class JobSetup
{
    public static (ModelRuntime Model, JobData Data) Prepare(CompiledFile file, TrainSpec spec, IGemm gemm, int? compileForBatch, bool winograd = true)
    {
        var input = file.Models.First(m => m.Name == spec.Model).Inputs[0];
        var loading = Task.Run(() => DataSources.Load(file.Source, spec.Data, input, spec.Loss, spec.Seed));
        ModelRuntime? model = null;
        try
        {
            model = new ModelRuntime(file, spec.Model, spec.Loss, gemm, spec.Seed, winograd);
            if (compileForBatch is { } batch) model.TrainingPlan(batch);
            return (model, loading.GetAwaiter().GetResult());
        }
        catch
        {
            model?.Dispose();
            throw;
        }
    }
}
