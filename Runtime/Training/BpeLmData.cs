using Dlc.Compiler.Elaboration;
using Dlc.Compiler.Jobs;
using Dlc.Diagnostics;
using Dlc.Runtime.Data;

namespace Dlc.Runtime.Training;

/// <summary>
/// Text as GPT-2 BPE tokens for a language model (`brownCorpus { level = bpe }`, `textCorpus { path; level = bpe }`):
/// each document (the corpus's texts as prose, a file in blocks of 64 sequences of about four characters a token) is
/// encoded by GPT-2's tokenizer, whole documents are held out for validation by the seed, and the vocabulary is the
/// training documents' tokens (<see cref="BpeVocabulary"/>; a validation token the training text never had is index 0).
/// </summary>
internal static class BpeLmData
{
    /// <param name="root">The corpus folder; null for the installed one (or DLC_DATA_BROWN's).</param>
    public static JobData Load(DataSpec spec, Func<string, string> resolve, ulong seed, BpeVocabulary? tokens, string? root = null)
    {
        var (documents, name) = LanguageModelData.Documents(spec, resolve, () => BrownCorpus.Load(root).Select(d => d.Text).ToArray(),
            path => LanguageModelData.Blocks(LanguageModelData.ReadText(path), 4 * 64 * spec.Sequence));
        var (train, validation) = LanguageModelData.Split(documents, name, spec, seed, $"{4 * 64 * spec.Sequence} characters");
        var trainIds = train.Select(BpeVocabulary.Tokenize).ToArray();
        tokens ??= BpeVocabulary.Build(trainIds, spec.MinCount, spec.MaxVocabulary);
        int[] Encode(IEnumerable<IReadOnlyList<int>> ids) => ids.SelectMany(d => d).Select(tokens.Encode).ToArray();
        var (trainSet, validationSet) = LanguageModelData.Windows(name, spec, tokens.Size, "tokens", Encode(trainIds),
            validation.Count == 0 ? null : Encode(validation.Select(BpeVocabulary.Tokenize)));
        return new JobData(trainSet, validationSet, null) { Tokens = tokens, TokenUnit = TokenUnit.Token };
    }

    /// <summary>The embeddings and scores of a BPE language model must hold the vocabulary: DL0405 at the `data` field otherwise.</summary>
    public static void CheckFits(SourceText source, DataSpec spec, ModelGraph model, BpeVocabulary tokens)
    {
        var smallest = LanguageModelData.Indices(model);
        if (smallest >= tokens.Size) return;
        throw new DiagnosticException(DiagnosticCatalog.DataShapeMismatch.At(source, spec.Span,
            $"the training text uses {tokens.Size - 1} of GPT-2's tokens, so {tokens.Size} token indices with the unknown one, but `{model.Name}` takes {smallest}",
            $"make the embedding's vocabulary and the number of scores at least {tokens.Size}, or limit the tokens with `maxVocabulary = {smallest}`"));
    }
}
