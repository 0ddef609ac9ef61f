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
        var (documents, name) = spec.Kind == DataKind.BrownCorpus
            ? (BrownCorpus.Load(root).Select(d => d.Text).ToArray(), "brown")
            : (Blocks(ReadText(resolve(spec.Path!)), 4 * 64 * spec.Sequence), Path.GetFileName(spec.Path!));
        if (spec.Validation > 0 && documents.Length < 2)
            throw new DataException(DataException.Malformed, name,
                $"{name} is too short to hold out a validation part: it has fewer than two blocks of {4 * 64 * spec.Sequence} characters",
                "leave out `validation`, or use a longer text");
        var (train, validation) = CharSequences.SplitDocuments(documents, spec.Validation, seed);
        var trainIds = train.Select(BpeVocabulary.Tokenize).ToArray();
        tokens ??= BpeVocabulary.Build(trainIds, spec.MinCount, spec.MaxVocabulary);
        Dataset Windows(string part, IEnumerable<IReadOnlyList<int>> ids) =>
            WordSequences.Windows($"{name}/{part}", ids.SelectMany(d => d).Select(tokens.Encode).ToArray(), spec.Sequence, tokens.Size);
        var trainSet = Windows("train", trainIds);
        if (trainSet.Count == 0)
            throw new DataException(DataException.Malformed, name, $"{name} is shorter than one sequence of {spec.Sequence + 1} tokens");
        var validationSet = validation.Count == 0 ? null : Windows("validation", validation.Select(BpeVocabulary.Tokenize));
        return new JobData(trainSet, validationSet, null) { Tokens = tokens, TokenUnit = TokenUnit.Token };
    }

    /// <summary>The embeddings and scores of a BPE language model must hold the vocabulary: DL0405 at the `data` field otherwise.</summary>
    public static void CheckFits(SourceText source, DataSpec spec, ModelGraph model, BpeVocabulary tokens)
    {
        var tables = model.Graph.Nodes.Where(n => n.Op == Compiler.Ir.Op.Embedding).Select(n => model.Graph[n.Inputs[1]].Shape[0].Size);
        var smallest = tables.Append(model.OutputShape.Last.Size).Min();
        if (smallest >= tokens.Size) return;
        throw new DiagnosticException(DiagnosticCatalog.DataShapeMismatch.At(source, spec.Span,
            $"the training text uses {tokens.Size - 1} of GPT-2's tokens, so {tokens.Size} token indices with the unknown one, but `{model.Name}` takes {smallest}",
            $"make the embedding's vocabulary and the number of scores at least {tokens.Size}, or limit the tokens with `maxVocabulary = {smallest}`"));
    }

    private static string ReadText(string path)
    {
        if (!File.Exists(path)) throw new DataException(DataException.NotFound, path, $"{path} does not exist");
        return File.ReadAllText(path).Replace("\r\n", "\n", StringComparison.Ordinal);
    }

    private static string[] Blocks(string text, int size) =>
        Enumerable.Range(0, (text.Length + size - 1) / size).Select(i => text.Substring(i * size, Math.Min(size, text.Length - i * size))).ToArray();
}
