using System.Text;

namespace Dlc.Runtime.Data;

/// <summary>
/// Word lists of several languages, as Debian's w* packages install them under /usr/share/dict (one word a line,
/// UTF-8), made into a language-identification task: which language is this word from?
/// <list type="bullet">
/// <item>A word is lower-cased (so German's capitalised nouns, names and acronyms say nothing by their case) and
/// kept only if every character is a letter: possessives (`cat's`), contractions (`aujourd'hui`), hyphenated
/// compounds and numbers go, so that an apostrophe or a hyphen cannot give a language away.</item>
/// <item>A word that is in the lists of two or more languages (`radio`, `taxi`) is dropped from all of them: no
/// single label is right for it.</item>
/// <item>Every language keeps as many words as the smallest one has (and at most <c>perLanguage</c>), drawn by the
/// seed, so the classes are balanced and chance is 1 / languages.</item>
/// </list>
/// </summary>
public static class WordLists
{
    public const string DefaultRoot = "/usr/share/dict";
    public const string EnvironmentVariable = "DLC_DATA_DICT";

    /// <summary>Languages by name: the file of /usr/share/dict and the Debian package that installs it.</summary>
    public static readonly IReadOnlyList<(string Language, string File, string Package)> Known =
    [
        ("english", "american-english", "wamerican"),
        ("german", "ngerman", "wngerman"),
        ("french", "french", "wfrench"),
        ("spanish", "spanish", "wspanish"),
        ("italian", "italian", "witalian"),
        ("dutch", "dutch", "wdutch"),
        ("portuguese", "portuguese", "wportuguese"),
    ];

    /// <summary>The folder the lists are read from: the argument, else the environment variable, else /usr/share/dict.</summary>
    public static string ResolveRoot(string? root = null) =>
        root ?? (Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment : DefaultRoot);

    /// <summary>The file a language's words are read from: a known language's list, else the file of that name.</summary>
    public static string PathOf(string language, string? root = null)
    {
        var known = Known.FirstOrDefault(k => k.Language == language);
        return Path.Combine(ResolveRoot(root), known.File ?? language);
    }

    /// <summary>
    /// Each language's words, cleaned, without the words several languages share, in ordinal order (so the result
    /// does not depend on the files' order), and the number of shared words dropped.
    /// </summary>
    public static (IReadOnlyList<string[]> Words, int Shared) Load(IReadOnlyList<string> languages, string? root = null)
    {
        var lists = languages.Select(language => Read(language, root)).ToArray();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var list in lists)
        {
            foreach (var word in list) seen[word] = seen.GetValueOrDefault(word) + 1;
        }
        var shared = seen.Count(w => w.Value > 1);
        var words = lists.Select(list => list.Where(w => seen[w] == 1).Order(StringComparer.Ordinal).ToArray()).ToArray();
        for (var i = 0; i < languages.Count; i++)
        {
            if (words[i].Length < 2)
                throw new DataException(DataException.Malformed, PathOf(languages[i], root),
                    $"{PathOf(languages[i], root)} has {words[i].Length} word{(words[i].Length == 1 ? "" : "s")} of letters only that no other language has",
                    "choose word lists of languages with words of their own");
        }
        return (words, shared);
    }

    /// <summary>
    /// The same number of words from every language, drawn by the seed: the smallest language's count, or
    /// <paramref name="perLanguage"/> when that is smaller. The draw of each language is a stream of its own.
    /// </summary>
    public static IReadOnlyList<string[]> Balance(IReadOnlyList<string[]> words, int? perLanguage, ulong seed)
    {
        var count = words.Min(w => w.Length);
        if (perLanguage is { } cap) count = Math.Min(count, cap);
        var rng = new Backend.Rng(seed).Fork(0xD1C7_5EED);
        return words.Select((list, i) =>
        {
            var order = Enumerable.Range(0, list.Length).ToArray();
            rng.Fork((ulong)i + 1).Shuffle(order);
            return order[..count].Order().Select(j => list[j]).ToArray();
        }).ToArray();
    }

    /// <summary>
    /// Words as <paramref name="length"/> character indices each, padded and cut as Keras's <c>pad_sequences</c> does
    /// by default: padding (index 0) before a short word, and a long word keeps its last <paramref name="length"/>
    /// characters, where its ending is. A character the vocabulary lacks is 0 as well.
    /// </summary>
    public static byte[] Encode(IReadOnlyList<string> words, CharVocabulary vocabulary, int length)
    {
        if (vocabulary.Size > 256) throw new ArgumentException($"{vocabulary.Size} characters do not fit a byte", nameof(vocabulary));
        var result = new byte[words.Count * length];
        for (var i = 0; i < words.Count; i++)
        {
            var word = words[i];
            var kept = Math.Min(word.Length, length);
            for (var k = 0; k < kept; k++)
                result[i * length + length - kept + k] = (byte)vocabulary.Encode(word[word.Length - kept + k]);
        }
        return result;
    }

    /// <summary>A word's characters from its indices, the padding left out.</summary>
    public static string Decode(ReadOnlySpan<float> indices, CharVocabulary vocabulary)
    {
        var text = new StringBuilder(indices.Length);
        foreach (var index in indices)
        {
            if (index > 0) text.Append(vocabulary.Decode((int)index));
        }
        return text.ToString();
    }

    /// <summary>
    /// A line of a list as a word: trimmed and lower-cased; null unless it is letters only. Debian's lists write
    /// accented letters precomposed (é as one character); a combining accent is not a letter, so such a word goes.
    /// </summary>
    public static string? Clean(string line)
    {
        var word = line.Trim().ToLowerInvariant();
        if (word.Length == 0) return null;
        foreach (var c in word)
        {
            if (!char.IsLetter(c)) return null;
        }
        return word;
    }

    private static string[] Read(string language, string? root)
    {
        var path = PathOf(language, root);
        var known = Known.FirstOrDefault(k => k.Language == language);
        var help = known.Package is { } package
            ? $"install it: apt-get install {package} (bin/setup does)"
            : $"`{language}` is not one of {string.Join(", ", Known.Select(k => k.Language))}, so it names a file of {ResolveRoot(root)}; check the name";
        if (!File.Exists(path))
            throw new DataException(DataException.NotFound, path, $"the word list of {language}, {path}, does not exist", help);
        var words = new HashSet<string>(StringComparer.Ordinal);
        var decoder = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
        try
        {
            foreach (var line in File.ReadLines(path, decoder))
            {
                if (Clean(line) is { } word) words.Add(word);
            }
        }
        catch (DecoderFallbackException)
        {
            throw new DataException(DataException.Malformed, path, $"{path} is not UTF-8 text", "word lists are read as UTF-8, one word a line");
        }
        return words.ToArray();
    }
}
