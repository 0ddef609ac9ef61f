using Dlc.Compiler.Elaboration;
using Dlc.Compiler.Jobs;
using Dlc.Runtime.Data;

namespace Dlc.Runtime.Training;

/// <summary>
/// What the language-model data of characters, words and BPE tokens share: documents from the Brown Corpus or a text
/// file cut into blocks, whole documents held out for validation by the seed, windows of token indices with their
/// next tokens, and the number of token indices a model can take.
/// </summary>
internal static class LanguageModelData
{
    /// <summary>
    /// The corpus's documents (<paramref name="brown"/>) and the name "brown", or the documents of the record's file
    /// (<paramref name="file"/> of its resolved path) and the file's name.
    /// </summary>
    public static (T[] Documents, string Name) Documents<T>(DataSpec spec, Func<string, string> resolve, Func<T[]> brown, Func<string, T[]> file) =>
        spec.Kind == DataKind.BrownCorpus ? (brown(), "brown") : (file(resolve(spec.Path!)), Path.GetFileName(spec.Path!));

    /// <summary>
    /// The documents split as <see cref="CharSequences.SplitDocuments"/>; a validation part asked of fewer than two
    /// documents is an error that names the size of a <paramref name="block"/> ("4096 words").
    /// </summary>
    public static (IReadOnlyList<T> Train, IReadOnlyList<T> Validation) Split<T>(T[] documents, string name, DataSpec spec, ulong seed, string block)
    {
        if (spec.Validation > 0 && documents.Length < 2)
            throw new DataException(DataException.Malformed, name,
                $"{name} is too short to hold out a validation part: it has fewer than two blocks of {block}",
                "leave out `validation`, or use a longer text");
        return CharSequences.SplitDocuments(documents, spec.Validation, seed);
    }

    /// <summary>
    /// The windows of `sequence` token indices of the training and (when there is one) validation streams, with their
    /// next tokens as labels among <paramref name="classes"/>; a training stream shorter than one window is an error
    /// that counts in <paramref name="unit"/>s.
    /// </summary>
    public static (Dataset Train, Dataset? Validation) Windows(string name, DataSpec spec, int classes, string unit, int[] train, int[]? validation)
    {
        var trainSet = WordSequences.Windows($"{name}/train", train, spec.Sequence, classes);
        if (trainSet.Count == 0)
            throw new DataException(DataException.Malformed, name, $"{name} is shorter than one sequence of {spec.Sequence + 1} {unit}");
        return (trainSet, validation is null ? null : WordSequences.Windows($"{name}/validation", validation, spec.Sequence, classes));
    }

    /// <summary>The fewest token indices the model takes: the smallest of its embedding tables and its number of scores.</summary>
    public static int Indices(ModelGraph model)
    {
        var tables = model.Graph.Nodes.Where(n => n.Op == Compiler.Ir.Op.Embedding).Select(n => model.Graph[n.Inputs[1]].Shape[0].Size);
        return tables.Append(model.OutputShape.Last.Size).Min();
    }

    /// <summary>A UTF-8 text file with Unix line ends; a missing file is DL0901.</summary>
    public static string ReadText(string path)
    {
        if (!File.Exists(path)) throw new DataException(DataException.NotFound, path, $"{path} does not exist");
        return File.ReadAllText(path).Replace("\r\n", "\n", StringComparison.Ordinal);
    }

    /// <summary>The text cut into blocks of <paramref name="size"/> characters (the last one shorter).</summary>
    public static string[] Blocks(string text, int size) =>
        Enumerable.Range(0, (text.Length + size - 1) / size).Select(i => text.Substring(i * size, Math.Min(size, text.Length - i * size))).ToArray();
}
