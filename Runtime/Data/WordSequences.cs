namespace Dlc.Runtime.Data;

/// <summary>
/// Text cut into training samples for a word-level language model: windows of T word indices (the input) and the T
/// words that follow each one (the targets, one per position), windows following each other without overlap, so
/// every word is predicted once per epoch. Sentences are joined with <see cref="EndOfSentence"/> between them, as the
/// Penn Treebank language-modelling data marks them, so a model learns where sentences end.
/// </summary>
public static class WordSequences
{
    /// <summary>The word that ends every sentence.</summary>
    public const string EndOfSentence = "<eos>";

    /// <summary>The words of <paramref name="sentences"/> in order, each sentence followed by <see cref="EndOfSentence"/>.</summary>
    public static IEnumerable<string> Stream(IEnumerable<IReadOnlyList<string>> sentences) =>
        sentences.SelectMany(s => s.Append(EndOfSentence));

    /// <summary>The windows of <paramref name="tokens"/> (word indices) of <paramref name="length"/> words, with their next words.</summary>
    public static Dataset Windows(string name, IReadOnlyList<int> tokens, int length, int classes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 1);
        var count = Math.Max(0, (tokens.Count - 1) / length);
        var inputs = new float[count * length];
        var targets = new float[count * length];
        for (var i = 0; i < inputs.Length; i++)
        {
            inputs[i] = tokens[i];
            targets[i] = tokens[i + 1];
        }
        return Dataset.FromFloats(name, inputs, [length], targets, classes, null, length);
    }
}
