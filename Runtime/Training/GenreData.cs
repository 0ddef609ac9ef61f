using Dlc.Compiler.Elaboration;
using Dlc.Compiler.Jobs;
using Dlc.Diagnostics;
using Dlc.Runtime.Data;

namespace Dlc.Runtime.Training;

/// <summary>
/// Genre classification of the Brown Corpus (`brownCorpus { task = genre; sequence = 64 }`). 500 texts are too few
/// samples for a document classifier, so each text is cut into windows of `sequence` words, each labelled with its
/// text's genre; the last, shorter window of a text is kept when it has at least a quarter of the words, padded with
/// index 0 (so `embedding ... (maskZero = true)` masks it). The split is by text, as for tagging: every tenth text is
/// the test set and validation texts are drawn by the seed, so no text has windows in two parts.
/// </summary>
internal static class GenreData
{
    /// <summary>The 15 genres as NLTK names them, in its (alphabetical) order: the classes 0 to 14.</summary>
    public static readonly string[] Genres =
    [
        "adventure", "belles_lettres", "editorial", "fiction", "government", "hobbies", "humor", "learned", "lore",
        "mystery", "news", "religion", "reviews", "romance", "science_fiction",
    ];

    /// <param name="root">The corpus folder; null for the installed one (or DLC_DATA_BROWN's).</param>
    public static JobData Load(DataSpec spec, ulong seed, WordVocabulary? words, string? root = null)
    {
        var documents = BrownCorpus.LoadTagged(root);
        foreach (var d in documents.Where(d => !Genres.Contains(d.Genre)))
            throw new DataException(DataException.Malformed, Path.Combine(BrownCorpus.ResolveRoot(root), "cats.txt"),
                $"cats.txt gives {d.Id} the genre `{d.Genre}`, which is not one of the Brown Corpus's 15", $"the genres are {string.Join(", ", Genres)}");
        var (train, validation, test) = TaggedSequences.SplitDocuments(documents, spec.Validation, seed);
        words ??= WordVocabulary.Build(train.SelectMany(d => d.Sentences).Select(s => s.Words), spec.Lowercase, spec.MinCount, spec.MaxVocabulary);
        var vocabulary = words;
        Dataset Encode(string part, IReadOnlyList<BrownCorpus.TaggedDocument> texts) => Windows($"brown/{part}", texts, vocabulary, spec.Sequence);
        return new JobData(Encode("train", train), validation.Count == 0 ? null : Encode("validation", validation), Encode("test", test))
        {
            Words = words,
        };
    }

    /// <summary>Every text cut into windows of <paramref name="width"/> word indices, each labelled with the text's genre.</summary>
    public static Dataset Windows(string name, IReadOnlyList<BrownCorpus.TaggedDocument> texts, WordVocabulary vocabulary, int width)
    {
        var tokens = new List<float>();
        var labels = new List<float>();
        foreach (var text in texts)
        {
            var indices = text.Sentences.SelectMany(s => s.Words).Select(w => (float)vocabulary.Encode(w)).ToArray();
            for (var start = 0; start < indices.Length; start += width)
            {
                var count = Math.Min(width, indices.Length - start);
                if (count < width && count * 4 < width) break;
                tokens.AddRange(indices.AsSpan(start, count));
                for (var i = count; i < width; i++) tokens.Add(WordVocabulary.Padding);
                labels.Add(Array.IndexOf(Genres, text.Genre));
            }
        }
        if (labels.Count == 0) throw new ArgumentException($"{name} has no windows of {width} words", nameof(texts));
        return Dataset.FromFloats(name, [.. tokens], [width], [.. labels], Genres.Length, Genres);
    }

    /// <summary>
    /// A genre classifier reads windows of word indices [N, T] and scores each genre, Tensor[N, 15]; its embeddings
    /// must hold the vocabulary. DL0405 at the `data` field otherwise, naming the sizes.
    /// </summary>
    public static void CheckFits(SourceText source, DataSpec spec, ModelGraph model, WordVocabulary words)
    {
        var input = model.Inputs[0];
        var output = model.OutputShape;
        if (input.Shape.Rank != 2 || output.Rank != 2 || output.Last.IsSymbolic || output.Last.Size != Genres.Length)
            throw new DiagnosticException(DiagnosticCatalog.DataShapeMismatch.At(source, spec.Span,
                $"`task = genre` gives windows of word indices and one of {Genres.Length} genres for each, but `{model.Name}` takes {input.Shape} and returns {output}",
                $"declare the model as `(tokens: Tensor[N, T] of int) : Tensor[N, {Genres.Length}]`"));
        var tables = model.Graph.Nodes.Where(n => n.Op == Compiler.Ir.Op.Embedding).Select(n => model.Graph[n.Inputs[1]].Shape[0].Size).ToArray();
        if (tables.Length > 0 && tables.Min() < words.Size)
            throw new DiagnosticException(DiagnosticCatalog.DataShapeMismatch.At(source, spec.Span,
                $"the vocabulary of the training texts has {words.Size} word indices with padding and unknown, but `{model.Name}`'s embedding holds {tables.Min()}",
                $"make the embedding's vocabulary at least {words.Size} (`embedding {words.Size} 64`), or limit the words with `maxVocabulary = {tables.Min()}`"));
    }
}
