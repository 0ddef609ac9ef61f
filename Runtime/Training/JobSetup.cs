using Dlc.Backend.Gemm;
using Dlc.Compiler.Elaboration;
using Dlc.Compiler.Jobs;
using Dlc.Runtime.Data;

namespace Dlc.Runtime.Training;

/// <summary>
/// Gets a job ready: the data loads on another thread while the model is elaborated, differentiated
/// and its first plan compiled, so start-up costs the longer of the two rather than their sum.
/// </summary>
public static class JobSetup
{
    /// <param name="vocabulary">A trained character-level model's characters (from its checkpoint), for evaluation.</param>
    public static (ModelRuntime Model, JobData Data) Prepare(CompiledFile file, TrainSpec spec, IGemm gemm, int? compileForBatch,
        bool winograd = true, CharVocabulary? vocabulary = null)
    {
        var graph = file.Models.First(m => m.Name == spec.Model);
        var input = graph.Inputs[0];
        var loading = Task.Run(() => DataSources.Load(file.Source, spec.Data, input, spec.Loss, spec.Seed, vocabulary, graph.OutputShape));
        ModelRuntime? model = null;
        try
        {
            model = new ModelRuntime(file, spec.Model, spec.Loss, gemm, spec.Seed, winograd) { Lengths = Lengths(spec.Data, input) };
            if (compileForBatch is { } batch) model.TrainingPlan(batch);
            var data = loading.GetAwaiter().GetResult();
            if (data.Vocabulary is { } characters) TextData.CheckFits(file.Source, spec.Data, model.Train, characters);
            return (model, data);
        }
        catch
        {
            model?.Dispose();
            throw;
        }
    }

    /// <summary>The sizes of a model input's symbols after the batch: T of a text corpus is its sequence length.</summary>
    public static IReadOnlyDictionary<string, int> Lengths(DataSpec data, ModelInput input) =>
        data.Kind is DataKind.BrownCorpus or DataKind.TextCorpus && input.Shape.Rank == 2 && input.Shape[1].Symbol is { } symbol
            ? new Dictionary<string, int> { [symbol] = data.Sequence }
            : new Dictionary<string, int>();
}
