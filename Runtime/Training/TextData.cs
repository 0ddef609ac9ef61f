using Dlc.Compiler.Elaboration;
using Dlc.Compiler.Jobs;
using Dlc.Diagnostics;
using Dlc.Runtime.Data;

namespace Dlc.Runtime.Training;

/// <summary>
/// Character-level text for a language model: `brownCorpus` (its 500 texts) or `textCorpus { path }` (a UTF-8
/// file, taken in blocks of 64 sequences). Whole documents are held out for validation, chosen by the seed, so no
/// text is both trained on and validated on; the vocabulary is the training split's characters.
/// </summary>
internal static class TextData
{
    public static JobData Load(DataSpec spec, Func<string, string> resolve, ulong seed, CharVocabulary? vocabulary)
    {
        var (documents, name) = LanguageModelData.Documents(spec, resolve, () => BrownCorpus.Load().Select(d => d.Text).ToArray(),
            path => LanguageModelData.Blocks(LanguageModelData.ReadText(path), 64 * spec.Sequence));
        var (train, validation) = LanguageModelData.Split(documents, name, spec, seed, $"{64 * spec.Sequence} characters");
        var trainText = string.Concat(train);
        vocabulary ??= CharVocabulary.Build([trainText]);
        if (vocabulary.Size > 256)
            throw new DataException(DataException.Malformed, name,
                $"{name} has {vocabulary.Size - 1} different characters; a character-level model here reads at most 255",
                "use a text with fewer distinct characters");
        var trainSet = CharSequences.Windows($"{name}/train", trainText, vocabulary, spec.Sequence, vocabulary.Size);
        var validationSet = validation.Count == 0 ? null
            : CharSequences.Windows($"{name}/validation", string.Concat(validation), vocabulary, spec.Sequence, vocabulary.Size);
        if (trainSet.Count == 0)
            throw new DataException(DataException.Malformed, name, $"{name} is shorter than one sequence of {spec.Sequence + 1} characters");
        return new JobData(trainSet, validationSet, null) { Vocabulary = vocabulary, TokenUnit = TokenUnit.Character };
    }

    /// <summary>
    /// A character-level model's vocabulary must fit its classes and its embedding tables: DL0405 at the `data`
    /// field otherwise, naming the sizes.
    /// </summary>
    public static void CheckFits(SourceText source, DataSpec spec, ModelGraph model, CharVocabulary vocabulary)
    {
        var smallest = LanguageModelData.Indices(model);
        if (smallest >= vocabulary.Size) return;
        throw new DiagnosticException(DiagnosticCatalog.DataShapeMismatch.At(source, spec.Span,
            $"the training text has {vocabulary.Size - 1} different characters, so {vocabulary.Size} token indices with the unknown one, but `{model.Name}` takes {smallest}",
            $"make the embedding's vocabulary and the number of scores at least {vocabulary.Size}, e.g. `embedding {vocabulary.Size} 64` and `dense {vocabulary.Size}`"));
    }
}
