using Dlc.Compiler.Elaboration;
using Dlc.Compiler.Jobs;
using Dlc.Diagnostics;
using Dlc.Runtime.Data;

namespace Dlc.Runtime.Training;

/// <summary>
/// `dates { samples; test; validation }`: different (date, format) pairs drawn by the record's seed
/// (<see cref="DateFormats"/>); the first `test` of them are the test set, and `validation` of the rest, chosen by
/// the seed, is held out from training. The character vocabulary is fixed, so it does not depend on the draw.
/// </summary>
internal static class DateData
{
    public static JobData Load(DataSpec spec, ulong seed)
    {
        var dates = spec.Dates!;
        var pairs = DateFormats.Draw(dates.Samples, seed);
        var testCount = (int)Math.Round(pairs.Length * dates.Test, MidpointRounding.AwayFromZero);
        var test = testCount == 0 ? null : DateFormats.Encode("dates/test", pairs[..testCount]);
        var train = DateFormats.Encode("dates", pairs[testCount..]);
        if (train.Count == 0)
            throw new DataException(DataException.Malformed, "dates", $"`dates` with {dates.Samples} samples leaves none to train on after the test set");
        if (spec.Validation <= 0) return new JobData(train, null, test) { Vocabulary = DateFormats.Vocabulary };
        var (rest, validation) = train.Split(spec.Validation, seed);
        return new JobData(rest, validation, test) { Vocabulary = DateFormats.Vocabulary };
    }

    /// <summary>
    /// The vocabulary must fit every embedding table and the scores: DL0405 at the `data` field otherwise, naming the sizes.
    /// </summary>
    public static void CheckFits(SourceText source, DataSpec spec, ModelGraph model)
    {
        var size = DateFormats.Vocabulary.Size;
        var output = model.OutputShape;
        var tables = model.Graph.Nodes.Where(n => n.Op == Compiler.Ir.Op.Embedding).Select(n => model.Graph[n.Inputs[1]].Shape[0].Size);
        var smallest = tables.Append(output.Last.Size).Min();
        if (smallest >= size) return;
        throw new DiagnosticException(DiagnosticCatalog.DataShapeMismatch.At(source, spec.Span,
            $"`dates` writes {size - 3} different characters, so {size} token indices with the padding, begin and end tokens, but `{model.Name}` takes {smallest}",
            $"make each embedding's vocabulary and the number of scores at least {size}, e.g. `embedding {size} 64` and `dense {size}`"));
    }
}
