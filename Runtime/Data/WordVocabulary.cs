namespace Dlc.Runtime.Data;

/// <summary>
/// The words a word-level model reads, each with its index, as Keras's Tokenizer and torchtext's vocab build them:
/// index 0 is padding, 1 stands for any word outside the vocabulary, then the training split's words from the most
/// frequent down (ties in ordinal order), those seen fewer than <c>minCount</c> times left out, and at most
/// <c>maxVocabulary</c> indices in all. Saved with a model's checkpoints (<see cref="Serialize"/>, the metadata
/// `words`), so evaluation encodes exactly as training did.
/// </summary>
public sealed class WordVocabulary
{
    public const int Padding = 0;
    public const int Unknown = 1;

    /// <summary>How indices 0 and 1 are written out.</summary>
    public const string PaddingWord = "<pad>";
    public const string UnknownWord = "<unk>";

    private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);

    /// <param name="words">The words of indices 2, 3, …, each once.</param>
    /// <param name="lowercase">Whether words are lower-cased before they are looked up (as they were counted).</param>
    public WordVocabulary(IReadOnlyList<string> words, bool lowercase)
    {
        Words = words;
        Lowercase = lowercase;
        for (var i = 0; i < words.Count; i++)
        {
            if (words[i].Length == 0 || words[i].Any(char.IsWhiteSpace))
                throw new ArgumentException($"a vocabulary word is not empty and has no blanks, found `{words[i]}`", nameof(words));
            if (!_index.TryAdd(words[i], i + 2)) throw new ArgumentException($"the vocabulary lists `{words[i]}` twice", nameof(words));
        }
    }

    /// <summary>
    /// The vocabulary of <paramref name="sentences"/>: words counted (lower-cased first with <paramref name="lowercase"/>),
    /// those seen at least <paramref name="minCount"/> times kept, most frequent first, at most <paramref name="maxVocabulary"/>
    /// indices with padding and unknown (0: no limit).
    /// </summary>
    public static WordVocabulary Build(IEnumerable<IEnumerable<string>> sentences, bool lowercase, int minCount = 1, int maxVocabulary = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(minCount, 1);
        if (maxVocabulary is not 0 and < 3) throw new ArgumentOutOfRangeException(nameof(maxVocabulary), maxVocabulary, "must leave room for a word after padding and unknown");
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var sentence in sentences)
        {
            foreach (var word in sentence)
            {
                var key = lowercase ? word.ToLowerInvariant() : word;
                counts[key] = counts.GetValueOrDefault(key) + 1;
            }
        }
        var words = counts.Where(c => c.Value >= minCount)
            .OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal)
            .Select(c => c.Key);
        if (maxVocabulary > 0) words = words.Take(maxVocabulary - 2);
        return new WordVocabulary(words.ToArray(), lowercase);
    }

    /// <summary>The words of indices 2, 3, … (0 is padding, 1 unknown).</summary>
    public IReadOnlyList<string> Words { get; }

    public bool Lowercase { get; }

    /// <summary>Indices in use, padding and unknown included: the least vocabulary an embedding needs.</summary>
    public int Size => Words.Count + 2;

    public int Encode(string word) => _index.GetValueOrDefault(Lowercase ? word.ToLowerInvariant() : word, Unknown);

    public string Decode(int index) => index switch
    {
        Padding => PaddingWord,
        _ when index >= 2 && index < Size => Words[index - 2],
        _ => UnknownWord,
    };

    /// <summary>The text saved in a checkpoint: `lowercase` or `cased` on the first line, then one word a line from index 2.</summary>
    public string Serialize() => (Lowercase ? "lowercase" : "cased") + "\n" + string.Join("\n", Words);

    /// <summary>The vocabulary <see cref="Serialize"/> wrote.</summary>
    public static WordVocabulary Deserialize(string text)
    {
        var lines = text.Split('\n');
        if (lines[0] is not ("lowercase" or "cased")) throw new FormatException("a saved word vocabulary starts with `lowercase` or `cased`");
        return new WordVocabulary(lines.Length > 1 && !(lines.Length == 2 && lines[1].Length == 0) ? lines[1..] : [], lines[0] == "lowercase");
    }
}
