using Dlc.Compiler.Elaboration;
using Dlc.Compiler.Jobs;
using Dlc.Diagnostics;
using Dlc.Runtime.Data;

namespace Dlc.Runtime.Training;

/// <summary>
/// Part-of-speech tagging of the Brown Corpus (`brownCorpus { task = tags; tagset = universal }`): one sample per
/// sentence, the words as indices of a vocabulary built from the training documents, the Brown tag of each word
/// mapped to the 12 universal tags. Every tenth document is the test set; validation documents are drawn by the seed
/// from the others (<see cref="TaggedSequences.SplitDocuments{T}"/>), so no text is in two parts.
/// </summary>
internal static class TagData
{
    /// <param name="root">The corpus folder; null for the installed one (or DLC_DATA_BROWN's).</param>
    public static JobData Load(DataSpec spec, ulong seed, WordVocabulary? words, string? root = null)
    {
        var (train, validation, test) = TaggedSequences.SplitDocuments(BrownCorpus.LoadTagged(root), spec.Validation, seed);
        static BrownCorpus.TaggedSentence[] Sentences(IEnumerable<BrownCorpus.TaggedDocument> documents) =>
            documents.SelectMany(d => d.Sentences).ToArray();
        var trainSentences = Sentences(train);
        words ??= WordVocabulary.Build(trainSentences.Select(s => s.Words), spec.Lowercase, spec.MinCount, spec.MaxVocabulary);
        Dataset Encode(string part, BrownCorpus.TaggedSentence[] sentences) =>
            TaggedSequences.Encode($"brown/{part}", sentences, words, BrownTagset.ToUniversal, BrownTagset.Universal);
        var validationSet = validation.Count == 0 ? null : Encode("validation", Sentences(validation));
        return new JobData(Encode("train", trainSentences), validationSet, Encode("test", Sentences(test)))
        {
            Words = words,
        };
    }

    /// <summary>
    /// A tagger reads tokens [N, T] and scores every word, Tensor[N, T, tags]; its embeddings must hold the vocabulary
    /// and its scores the tags. DL0405 at the `data` field otherwise, naming the sizes.
    /// </summary>
    public static void CheckFits(SourceText source, DataSpec spec, ModelGraph model, WordVocabulary words)
    {
        var input = model.Inputs[0];
        var output = model.OutputShape;
        var tags = BrownTagset.Universal.Count;
        if (input.Shape.Rank != 2 || output.Rank != 3 || output.Last.IsSymbolic)
            throw new DiagnosticException(DiagnosticCatalog.DataShapeMismatch.At(source, spec.Span,
                $"`task = tags` gives sentences of word indices and a tag for every word, but `{model.Name}` takes {input.Shape} and returns {output}",
                $"declare the model as `(tokens: Tensor[N, T] of int) : Tensor[N, T, {tags}]`"));
        if (output.Last.Size < tags)
            throw new DiagnosticException(DiagnosticCatalog.DataShapeMismatch.At(source, spec.Span,
                $"the {spec.Tagset} tagset has {tags} tags, but `{model.Name}` returns {output.Last.Size} scores for each word",
                $"end the model with `dense {tags}`"));
        var tables = model.Graph.Nodes.Where(n => n.Op == Compiler.Ir.Op.Embedding).Select(n => model.Graph[n.Inputs[1]].Shape[0].Size).ToArray();
        if (tables.Length > 0 && tables.Min() < words.Size)
            throw new DiagnosticException(DiagnosticCatalog.DataShapeMismatch.At(source, spec.Span,
                $"the vocabulary of the training documents has {words.Size} word indices with padding and unknown, but `{model.Name}`'s embedding holds {tables.Min()}",
                $"make the embedding's vocabulary at least {words.Size} (`embedding {words.Size} 100`), or limit the words with `maxVocabulary = {tables.Min()}`"));
    }
}
