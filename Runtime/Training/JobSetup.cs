using Dlc.Backend.Gemm;
using Dlc.Compiler.Elaboration;
using Dlc.Compiler.Jobs;
using Dlc.Compiler.Passes;
using Dlc.Runtime.Data;

namespace Dlc.Runtime.Training;

/// <summary>
/// Gets a job ready: the data loads on another thread while the model is elaborated, differentiated
/// and its first plan compiled, so start-up costs the longer of the two rather than their sum.
/// </summary>
public static class JobSetup
{
    /// <param name="passes">The compiler passes to run (all when null).</param>
    /// <param name="vocabulary">A trained character-level model's characters (from its checkpoint), for evaluation.</param>
    /// <param name="words">A trained word-level model's vocabulary (from its checkpoint), for evaluation.</param>
    public static (ModelRuntime Model, JobData Data) Prepare(CompiledFile file, TrainSpec spec, IGemm gemm, int? compileForBatch,
        bool winograd = true, CharVocabulary? vocabulary = null, WordVocabulary? words = null, PassSet? passes = null, BpeVocabulary? tokens = null)
    {
        var graph = file.Models.First(m => m.Name == spec.Model);
        var input = graph.Inputs[0];
        var loading = Task.Run(() => DataSources.Load(file.Source, spec.Data, input, spec.Loss, spec.Seed, vocabulary, words, graph.OutputShape, tokens));
        // Sentences set each batch's length, so no plan can be compiled before the data says it.
        if (spec.Data.IsTagging) compileForBatch = null;
        ModelRuntime? model = null;
        try
        {
            model = new ModelRuntime(file, spec.Model, spec.Loss, gemm, spec.Seed, winograd, spec.LabelSmoothing) { Lengths = Lengths(spec.Data, graph.Inputs), Passes = passes ?? PassSet.All };
            if (compileForBatch is { } batch) model.TrainingPlan(batch);
            var data = loading.GetAwaiter().GetResult();
            if (spec.Data.IsSequencePairs) DateData.CheckFits(file.Source, spec.Data, model.Train);
            else if (data.Vocabulary is { } characters && spec.Data.Kind == DataKind.WordLists) WordListData.CheckFits(file.Source, spec.Data, model.Train, characters);
            else if (data.Vocabulary is { } text) TextData.CheckFits(file.Source, spec.Data, model.Train, text);
            if (data.Tokens is { } bpe) BpeLmData.CheckFits(file.Source, spec.Data, model.Train, bpe);
            if (data.Words is { } lm && data.TokenUnit == TokenUnit.Word) WordLmData.CheckFits(file.Source, spec.Data, model.Train, lm);
            else if (data.Words is { } known && spec.Data.IsGenre) GenreData.CheckFits(file.Source, spec.Data, model.Train, known);
            else if (data.Words is { } tagged) TagData.CheckFits(file.Source, spec.Data, model.Train, tagged);
            return (model, data);
        }
        catch
        {
            model?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The sizes of a model input's symbols after the batch: T of a text corpus is its sequence length, of word lists
    /// the word length, of a time series the window. Sentences to tag set T batch by batch.
    /// </summary>
    public static IReadOnlyDictionary<string, int> Lengths(DataSpec data, IReadOnlyList<ModelInput> inputs)
    {
        if (!data.IsSequencePairs) return Lengths(data, inputs[0]);
        // Pairs: the source's length S and the decoder's T (checked against the model when the file was compiled).
        var lengths = new Dictionary<string, int>();
        int[] given = [DatesSpec.SourceLength, DatesSpec.TargetLength];
        for (var i = 0; i < Math.Min(2, inputs.Count); i++)
        {
            if (inputs[i].Shape.Rank >= 2 && inputs[i].Shape[1].Symbol is { } symbol) lengths[symbol] = given[i];
        }
        return lengths;
    }

    /// <summary>The sizes of one model input's symbols after the batch, as <see cref="Lengths(DataSpec, IReadOnlyList{ModelInput})"/>.</summary>
    public static IReadOnlyDictionary<string, int> Lengths(DataSpec data, ModelInput input)
    {
        int? length = data.Kind switch
        {
            DataKind.BrownCorpus or DataKind.TextCorpus when !data.IsTagging => data.Sequence,
            DataKind.WordLists => data.WordLists!.Length,
            DataKind.TimeSeries => data.Series!.Window,
            _ => null,
        };
        return length is { } t && input.Shape.Rank >= 2 && input.Shape[1].Symbol is { } symbol
            ? new Dictionary<string, int> { [symbol] = t }
            : new Dictionary<string, int>();
    }
}
