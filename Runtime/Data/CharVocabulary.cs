namespace Dlc.Runtime.Data;

/// <summary>
/// The characters a character-level model reads and writes, each with its index: 0 stands for any character
/// the training text did not have, then the training text's characters in ordinal order. Saved with a model's
/// checkpoints (<see cref="Characters"/>, the metadata `vocabulary`), so evaluation and sampling encode and
/// decode exactly as training did.
/// </summary>
public sealed class CharVocabulary
{
    /// <summary>How index 0, a character outside the vocabulary, is written out.</summary>
    public const char Unknown = '\uFFFD';

    private readonly Dictionary<char, int> _index = [];

    /// <param name="characters">The characters of indices 1, 2, …, each once.</param>
    public CharVocabulary(string characters)
    {
        Characters = characters;
        for (var i = 0; i < characters.Length; i++)
        {
            if (!_index.TryAdd(characters[i], i + 1))
                throw new ArgumentException($"the vocabulary lists `{characters[i]}` twice", nameof(characters));
        }
    }

    /// <summary>The vocabulary of the characters of <paramref name="texts"/>.</summary>
    public static CharVocabulary Build(IEnumerable<string> texts)
    {
        var seen = new HashSet<char>();
        foreach (var text in texts) seen.UnionWith(text);
        return new CharVocabulary(new string(seen.Order().ToArray()));
    }

    /// <summary>The characters of indices 1, 2, … (index 0 is <see cref="Unknown"/>).</summary>
    public string Characters { get; }

    /// <summary>Indices in use, the unknown one included: the least number of classes a model needs.</summary>
    public int Size => Characters.Length + 1;

    public int Encode(char c) => _index.GetValueOrDefault(c);

    public char Decode(int index) => index > 0 && index <= Characters.Length ? Characters[index - 1] : Unknown;
}
