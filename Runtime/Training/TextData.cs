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
        var (documents, name) = spec.Kind == DataKind.BrownCorpus
            ? (BrownCorpus.Load().Select(d => d.Text).ToArray(), "brown")
            : (Blocks(ReadText(resolve(spec.Path!)), 64 * spec.Sequence), Path.GetFileName(spec.Path!));
        if (spec.Validation > 0 && documents.Length < 2)
            throw new DataException(DataException.Malformed, name,
                $"{name} is too short to hold out a validation part: it has fewer than two blocks of {64 * spec.Sequence} characters",
                "leave out `validation`, or use a longer text");
        var (train, validation) = CharSequences.SplitDocuments(documents, spec.Validation, seed);
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
        var output = model.OutputShape;
        var tables = model.Graph.Nodes.Where(n => n.Op == Compiler.Ir.Op.Embedding).Select(n => model.Graph[n.Inputs[1]].Shape[0].Size);
        var smallest = tables.Append(output.Last.Size).Min();
        if (smallest >= vocabulary.Size) return;
        throw new DiagnosticException(DiagnosticCatalog.DataShapeMismatch.At(source, spec.Span,
            $"the training text has {vocabulary.Size - 1} different characters, so {vocabulary.Size} token indices with the unknown one, but `{model.Name}` takes {smallest}",
            $"make the embedding's vocabulary and the number of scores at least {vocabulary.Size}, e.g. `embedding {vocabulary.Size} 64` and `dense {vocabulary.Size}`"));
    }

    private static string ReadText(string path)
    {
        if (!File.Exists(path)) throw new DataException(DataException.NotFound, path, $"{path} does not exist");
        return File.ReadAllText(path).Replace("\r\n", "\n", StringComparison.Ordinal);
    }

    private static string[] Blocks(string text, int size) =>
        Enumerable.Range(0, (text.Length + size - 1) / size).Select(i => text.Substring(i * size, Math.Min(size, text.Length - i * size))).ToArray();
}
