using Microsoft.ML.Tokenizers;

namespace Dlc.Runtime.Data;

/// <summary>
/// Text as GPT-2's byte-pair encoding (Microsoft.ML.Tokenizers with the GPT-2 vocabulary of 50,257 tokens), restricted
/// to the tokens the training text uses: a Brown-sized corpus uses a few tens of thousands of them, and scoring the
/// others at every position would only cost time. Index 0 stands for a token the training text never had (&lt;unk&gt;),
/// then the training text's tokens from the most frequent down (ties by GPT-2 id), each remembered with its GPT-2 id,
/// so decoding goes back through GPT-2's own table. Saved with a model's checkpoints (<see cref="Serialize"/>, the
/// metadata `tokens`), with the tokenizer's name, so sampling encodes and decodes as training did.
/// </summary>
public sealed class BpeVocabulary
{
    public const int Unknown = 0;

    /// <summary>The tokenizers this version knows, by the name a checkpoint records.</summary>
    public const string Gpt2 = "gpt2";

    private static readonly Lazy<Tokenizer> Gpt2Tokenizer = new(() => TiktokenTokenizer.CreateForModel("gpt2"));

    private readonly Dictionary<int, int> _local = [];

    /// <param name="ids">The GPT-2 ids of indices 1, 2, …, each once.</param>
    public BpeVocabulary(string tokenizer, IReadOnlyList<int> ids)
    {
        if (tokenizer != Gpt2) throw new ArgumentException($"`{tokenizer}` is not a tokenizer this version knows; it knows `{Gpt2}`", nameof(tokenizer));
        Tokenizer = tokenizer;
        Ids = ids;
        for (var i = 0; i < ids.Count; i++)
        {
            if (!_local.TryAdd(ids[i], i + 1)) throw new ArgumentException($"the vocabulary lists token {ids[i]} twice", nameof(ids));
        }
    }

    /// <summary>The tokenizer's name (`gpt2`).</summary>
    public string Tokenizer { get; }

    /// <summary>The GPT-2 ids of indices 1, 2, … (0 is unknown).</summary>
    public IReadOnlyList<int> Ids { get; }

    /// <summary>Indices in use, unknown included: the least vocabulary an embedding needs.</summary>
    public int Size => Ids.Count + 1;

    /// <summary>GPT-2's token ids of <paramref name="text"/>.</summary>
    public static IReadOnlyList<int> Tokenize(string text) => Gpt2Tokenizer.Value.EncodeToIds(text);

    /// <summary>The vocabulary of the tokens of <paramref name="documents"/> (GPT-2 ids), most frequent first, at most <paramref name="maxVocabulary"/> indices (0: no limit).</summary>
    public static BpeVocabulary Build(IEnumerable<IReadOnlyList<int>> documents, int minCount = 1, int maxVocabulary = 0)
    {
        var counts = new Dictionary<int, int>();
        foreach (var document in documents)
        {
            foreach (var id in document) counts[id] = counts.GetValueOrDefault(id) + 1;
        }
        var ids = counts.Where(c => c.Value >= minCount).OrderByDescending(c => c.Value).ThenBy(c => c.Key).Select(c => c.Key);
        if (maxVocabulary > 0) ids = ids.Take(maxVocabulary - 1);
        return new BpeVocabulary(Gpt2, ids.ToArray());
    }

    /// <summary>The index of a GPT-2 token, or <see cref="Unknown"/>.</summary>
    public int Encode(int id) => _local.GetValueOrDefault(id, Unknown);

    /// <summary>The indices of <paramref name="text"/>.</summary>
    public int[] Encode(string text) => Tokenize(text).Select(Encode).ToArray();

    /// <summary>The text of indices; an unknown one is written as U+FFFD.</summary>
    public string Decode(IEnumerable<int> indices)
    {
        var text = new System.Text.StringBuilder();
        var run = new List<int>();
        foreach (var index in indices)
        {
            if (index > 0 && index <= Ids.Count)
            {
                run.Add(Ids[index - 1]);
                continue;
            }
            text.Append(Gpt2Tokenizer.Value.Decode(run)).Append('\uFFFD');
            run.Clear();
        }
        return text.Append(Gpt2Tokenizer.Value.Decode(run)).ToString();
    }

    /// <summary>The text saved in a checkpoint: the tokenizer's name on the first line, then the GPT-2 ids of indices 1, 2, … separated by spaces.</summary>
    public string Serialize() => Tokenizer + "\n" + string.Join(" ", Ids);

    /// <summary>The vocabulary <see cref="Serialize"/> wrote; a tokenizer this version does not know is a <see cref="FormatException"/>.</summary>
    public static BpeVocabulary Deserialize(string text)
    {
        var lines = text.Split('\n', 2);
        if (lines[0] != Gpt2) throw new FormatException($"the checkpoint's tokenizer is `{lines[0]}`, and this version of dlc knows only `{Gpt2}`");
        var ids = lines.Length < 2 ? [] : lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(s => int.Parse(s, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        return new BpeVocabulary(lines[0], ids);
    }
}
