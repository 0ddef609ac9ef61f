using System.Text;
using Dlc.Runtime.Data;

namespace Dlc.Runtime.Training;

/// <summary>How a language model's tokens and text meet: the prompt as token indices, and the text of generated tokens.</summary>
public interface ITokenCodec
{
    /// <summary>What a token is, in the plural, for messages and JSON keys: `characters`, `words`, `tokens`.</summary>
    string Unit { get; }

    /// <summary>The prompt's token indices; an empty prompt gives what a text starts after (a line break, an end of sentence).</summary>
    IReadOnlyList<int> Encode(string prompt);

    /// <summary>The text of <paramref name="tokens"/> as it continues <paramref name="prompt"/>.</summary>
    string Decode(string prompt, IReadOnlyList<int> tokens);
}

/// <summary>Characters: each character is a token; an empty prompt starts as a new line would.</summary>
public sealed class CharCodec(CharVocabulary vocabulary) : ITokenCodec
{
    public string Unit => "characters";

    public IReadOnlyList<int> Encode(string prompt) => (prompt.Length > 0 ? prompt : "\n").Select(vocabulary.Encode).ToArray();

    public string Decode(string prompt, IReadOnlyList<int> tokens) => string.Concat(tokens.Select(vocabulary.Decode));
}

/// <summary>
/// Words: the prompt split at blanks, each word looked up (a word outside the vocabulary reads as &lt;unk&gt;), and
/// generated words joined by spaces, &lt;eos&gt; written as a line break. An empty prompt starts after an &lt;eos&gt;.
/// </summary>
public sealed class WordCodec(WordVocabulary vocabulary) : ITokenCodec
{
    public string Unit => "words";

    public IReadOnlyList<int> Encode(string prompt)
    {
        var words = prompt.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        return (words.Length > 0 ? words : [WordSequences.EndOfSentence]).Select(vocabulary.Encode).ToArray();
    }

    public string Decode(string prompt, IReadOnlyList<int> tokens)
    {
        var text = new StringBuilder();
        var lineStart = prompt.Length == 0 || prompt[^1] == '\n';
        foreach (var token in tokens)
        {
            var word = vocabulary.Decode(token);
            if (word == WordSequences.EndOfSentence)
            {
                text.Append('\n');
                lineStart = true;
                continue;
            }
            if (!lineStart) text.Append(' ');
            text.Append(word);
            lineStart = false;
        }
        return text.ToString();
    }
}

/// <summary>
/// GPT-2 BPE tokens: the prompt encoded by GPT-2's tokenizer (a token the training text never had reads as index 0),
/// and generated tokens decoded together, so multi-byte characters split across tokens come out whole. An empty prompt
/// starts after a line break.
/// </summary>
public sealed class BpeCodec(BpeVocabulary vocabulary) : ITokenCodec
{
    public string Unit => "tokens";

    public IReadOnlyList<int> Encode(string prompt) => vocabulary.Encode(prompt.Length > 0 ? prompt : "\n");

    public string Decode(string prompt, IReadOnlyList<int> tokens) => vocabulary.Decode(tokens);
}
