namespace Dlc.Runtime.Data;

/// <summary>
/// Sentences with a tag per word as samples of a sequence-labelling task: the word indices of each sentence and the
/// class of each word, padded to the longest sentence (a batch is then cut to its own longest, see
/// <see cref="Dataset.GatherSequences"/>). Whole documents are held out: every tenth for testing, and a fraction
/// of the rest, chosen by the seed, for validation.
/// </summary>
public static class TaggedSequences
{
    /// <summary>The test documents are those at positions 9, 19, 29, … of the corpus (the Brown Corpus: ca10, ca20, ca30, ca40, cb06, …, 50 of its 500 texts across every genre).</summary>
    public const int TestEvery = 10;

    /// <summary>
    /// Test documents (every <see cref="TestEvery"/>th, fixed), then validation documents (a <paramref name="validation"/>
    /// fraction of the others, drawn by <paramref name="seed"/> alone) and the training documents; each part keeps the order.
    /// </summary>
    public static (IReadOnlyList<T> Train, IReadOnlyList<T> Validation, IReadOnlyList<T> Test) SplitDocuments<T>(
        IReadOnlyList<T> documents, double validation, ulong seed)
    {
        var test = documents.Where((_, i) => i % TestEvery == TestEvery - 1).ToArray();
        var rest = documents.Where((_, i) => i % TestEvery != TestEvery - 1).ToArray();
        var (train, held) = CharSequences.SplitDocuments(rest, validation, seed);
        return (train, held, test);
    }

    /// <summary>
    /// One sample per sentence: its words encoded by <paramref name="vocabulary"/>, its tags by <paramref name="tag"/>
    /// (a class below <paramref name="classNames"/>.Count), padded to the longest sentence.
    /// </summary>
    public static Dataset Encode(string name, IReadOnlyList<BrownCorpus.TaggedSentence> sentences, WordVocabulary vocabulary,
        Func<string, int> tag, IReadOnlyList<string> classNames)
    {
        if (sentences.Count == 0) throw new ArgumentException($"{name} has no sentences", nameof(sentences));
        var width = sentences.Max(s => s.Words.Count);
        var tokens = new float[sentences.Count * width];
        var labels = new float[sentences.Count * width];
        var lengths = new int[sentences.Count];
        Array.Fill(labels, Backend.Kernels.Losses.IgnoreLabel);
        for (var i = 0; i < sentences.Count; i++)
        {
            var sentence = sentences[i];
            lengths[i] = sentence.Words.Count;
            for (var t = 0; t < sentence.Words.Count; t++)
            {
                tokens[i * width + t] = vocabulary.Encode(sentence.Words[t]);
                labels[i * width + t] = tag(sentence.Tags[t]);
            }
        }
        return Dataset.FromPaddedSequences(name, tokens, width, lengths, labels, classNames.Count, classNames);
    }
}
