using Dlc.Compiler.Elaboration;
using Dlc.Compiler.Jobs;
using Dlc.Diagnostics;
using Dlc.Runtime.Data;

namespace Dlc.Runtime.Training;

/// <summary>
/// Word-level text for a language model (`brownCorpus { level = word }`, `textCorpus { path; level = word }`): the
/// Brown Corpus's own word tokens sentence by sentence (a text file's blank-separated words line by line), each
/// sentence ended by &lt;eos&gt;. Whole documents (of a text file, blocks of 64 sequences) are held out for validation,
/// chosen by the seed; the vocabulary is built from the training documents only (Keras's indexing: 0 padding, 1
/// &lt;unk&gt;, then the most frequent words, `minCount` and `maxVocabulary` as for tagging), so a validation word the
/// training text never had, or one cut by the limits, reads as &lt;unk&gt;.
/// </summary>
internal static class WordLmData
{
    /// <param name="root">The corpus folder; null for the installed one (or DLC_DATA_BROWN's).</param>
    public static JobData Load(DataSpec spec, Func<string, string> resolve, ulong seed, WordVocabulary? words, string? root = null)
    {
        var (documents, name) = LanguageModelData.Documents(spec, resolve,
            () => BrownCorpus.LoadTagged(root).Select(d => (IReadOnlyList<IReadOnlyList<string>>)d.Sentences.Select(s => s.Words).ToArray()).ToArray(),
            path => Blocks(ReadLines(path), 64 * spec.Sequence));
        var (train, validation) = LanguageModelData.Split(documents, name, spec, seed, $"{64 * spec.Sequence} words");
        var trainWords = WordSequences.Stream(train.SelectMany(d => d)).ToArray();
        words ??= WordVocabulary.Build([trainWords], spec.Lowercase, spec.MinCount, spec.MaxVocabulary);
        var (trainSet, validationSet) = LanguageModelData.Windows(name, spec, words.Size, "words", trainWords.Select(words.Encode).ToArray(),
            validation.Count == 0 ? null : WordSequences.Stream(validation.SelectMany(d => d)).Select(words.Encode).ToArray());
        return new JobData(trainSet, validationSet, null) { Words = words, TokenUnit = TokenUnit.Word };
    }

    /// <summary>
    /// A word-level language model reads word indices [N, T] and scores every word of the vocabulary at each position:
    /// its embeddings must hold the vocabulary and its scores cover it. DL0405 at the `data` field otherwise.
    /// </summary>
    public static void CheckFits(SourceText source, DataSpec spec, ModelGraph model, WordVocabulary words)
    {
        var smallest = LanguageModelData.Indices(model);
        if (smallest >= words.Size) return;
        throw new DiagnosticException(DiagnosticCatalog.DataShapeMismatch.At(source, spec.Span,
            $"the vocabulary of the training text has {words.Size} word indices with padding and unknown, but `{model.Name}` takes {smallest}",
            $"make the embedding's vocabulary and the number of scores at least {words.Size} (`embedding {words.Size} 128` and `dense {words.Size}`), or limit the words with `maxVocabulary = {smallest}`"));
    }

    private static IReadOnlyList<string>[] ReadLines(string path)
    {
        if (!File.Exists(path)) throw new DataException(DataException.NotFound, path, $"{path} does not exist");
        return File.ReadLines(path)
            .Select(line => (IReadOnlyList<string>)line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
            .Where(words => words.Count > 0)
            .ToArray();
    }

    // Lines grouped into documents of about `size` words, so validation holds out whole stretches of the text.
    private static IReadOnlyList<IReadOnlyList<string>>[] Blocks(IReadOnlyList<string>[] lines, int size)
    {
        var blocks = new List<IReadOnlyList<IReadOnlyList<string>>>();
        var current = new List<IReadOnlyList<string>>();
        var count = 0;
        foreach (var line in lines)
        {
            current.Add(line);
            count += line.Count + 1;
            if (count < size) continue;
            blocks.Add(current);
            (current, count) = ([], 0);
        }
        if (current.Count > 0) blocks.Add(current);
        return blocks.ToArray();
    }
}
