using Dlc.Compiler.Elaboration;
using Dlc.Compiler.Jobs;
using Dlc.Diagnostics;
using Dlc.Runtime.Data;

namespace Dlc.Runtime.Training;

/// <summary>
/// `wordLists { languages; length; perLanguage; test; validation }`: the words of <see cref="WordLists"/>, balanced,
/// then split language by language (so every split is balanced too) into test, validation and training words by
/// the seed. The character vocabulary is the training words' characters, saved with the checkpoints.
/// </summary>
internal static class WordListData
{
    public static JobData Load(DataSpec spec, ulong seed, CharVocabulary? vocabulary)
    {
        var settings = spec.WordLists!;
        var (all, _) = WordLists.Load(settings.Languages);
        var balanced = WordLists.Balance(all, settings.PerLanguage, seed);
        var perLanguage = balanced[0].Length;
        var testCount = Held(perLanguage, settings.Test);
        var validationCount = Held(perLanguage, spec.Validation);
        if (testCount + validationCount >= perLanguage)
            throw new DataException(DataException.Malformed, WordLists.ResolveRoot(),
                $"{perLanguage} words per language leave none to train on after {testCount} test and {validationCount} validation words",
                "lower `test` and `validation`, or raise `perLanguage`");
        var parts = new[] { new List<(string, int)>(), new List<(string, int)>(), new List<(string, int)>() };
        // A stream of its own, as Dataset.Split's, so the split never shares draws with shuffling or initialisation.
        var rng = new Backend.Rng(seed).Fork(0x5EED_5B11);
        for (var language = 0; language < balanced.Count; language++)
        {
            var order = Enumerable.Range(0, perLanguage).ToArray();
            rng.Fork((ulong)language).Shuffle(order);
            for (var k = 0; k < order.Length; k++)
            {
                var part = k < testCount ? 0 : k < testCount + validationCount ? 1 : 2;
                parts[part].Add((balanced[language][order[k]], language));
            }
        }
        var train = parts[2];
        vocabulary ??= CharVocabulary.Build(train.Select(w => w.Item1));
        if (vocabulary.Size > 256)
            throw new DataException(DataException.Malformed, WordLists.ResolveRoot(),
                $"the training words have {vocabulary.Size - 1} different characters; a character-level model here reads at most 255");
        var names = settings.Languages;
        Dataset Set(string part, List<(string Word, int Language)> words) => Dataset.FromByteSequences($"wordLists/{part}",
            WordLists.Encode(words.Select(w => w.Word).ToArray(), vocabulary, settings.Length), [settings.Length],
            words.Select(w => (float)w.Language).ToArray(), 1, names.Count, names);
        return new JobData(Set("train", train), validationCount == 0 ? null : Set("validation", parts[1]), testCount == 0 ? null : Set("test", parts[0]))
        {
            Vocabulary = vocabulary,
        };
    }

    /// <summary>
    /// The embedding reads every character index: DL0405 at the `data` field when a table of the model has fewer
    /// rows than the vocabulary has indices.
    /// </summary>
    public static void CheckFits(SourceText source, DataSpec spec, ModelGraph model, CharVocabulary vocabulary)
    {
        var tables = model.Graph.Nodes.Where(n => n.Op == Compiler.Ir.Op.Embedding).Select(n => model.Graph[n.Inputs[1]].Shape[0].Size).ToList();
        if (tables.Count == 0 || tables.Min() >= vocabulary.Size) return;
        throw new DiagnosticException(DiagnosticCatalog.DataShapeMismatch.At(source, spec.Span,
            $"the training words have {vocabulary.Size - 1} different characters, so {vocabulary.Size} indices with the padding, but the embedding of `{model.Name}` has {tables.Min()}",
            $"make the embedding's vocabulary at least {vocabulary.Size}, e.g. `embedding {vocabulary.Size} 32`"));
    }

    private static int Held(int count, double fraction) =>
        fraction == 0 ? 0 : Math.Max(1, (int)Math.Round(count * fraction, MidpointRounding.AwayFromZero));
}
