using System.Globalization;
using Dlc.Compiler.Jobs;

namespace Dlc.Runtime.Data;

/// <summary>
/// Dates written as people write them ("12 March 1998", "Mar 12, 1998", "12/03/98", "thursday, march 12 1998",
/// "1998.03.12", ...) and as ISO 8601 ("1998-03-12"): the pairs of the generated `dates` data set. Every format is a
/// .NET custom format of the invariant culture, so each source parses back to its date with
/// <see cref="DateTime.ParseExact(string, string, IFormatProvider)"/>. Dates run from 1950 to 2049, the century the
/// invariant culture reads two-digit years in, so "12/03/98" is 1998 and "12/03/21" 2021; day-first and month-first
/// formats differ in their separators or year digits, so no source means two dates.
/// </summary>
public static class DateFormats
{
    /// <summary>How a format is cased: as .NET writes it, all lower case, or all upper case.</summary>
    public enum Casing
    {
        AsWritten,
        Lower,
        Upper,
    }

    /// <summary>The formats, each with its casing.</summary>
    public static readonly IReadOnlyList<(string Pattern, Casing Casing)> Formats =
    [
        ("d MMMM yyyy", Casing.AsWritten),        // 12 March 1998
        ("d MMMM yyyy", Casing.Lower),            // 12 march 1998
        ("MMM d, yyyy", Casing.AsWritten),        // Mar 12, 1998
        ("dd/MM/yy", Casing.AsWritten),           // 12/03/98
        ("dddd, MMMM d yyyy", Casing.Lower),      // thursday, march 12 1998
        ("yyyy.MM.dd", Casing.AsWritten),         // 1998.03.12
        ("MMMM d, yyyy", Casing.AsWritten),       // March 12, 1998
        ("MMMM d, yyyy", Casing.Lower),           // march 12, 1998
        ("d MMM yyyy", Casing.Lower),             // 12 mar 1998
        ("dddd, d MMMM yyyy", Casing.AsWritten),  // Thursday, 12 March 1998
        ("dd.MM.yyyy", Casing.AsWritten),         // 12.03.1998
        ("M/d/yyyy", Casing.AsWritten),           // 3/12/1998
        ("MMMM d yyyy", Casing.Upper),            // MARCH 12 1998
        ("dd MMM yyyy", Casing.Upper),            // 12 MAR 1998
        ("ddd, MMM d, yyyy", Casing.AsWritten),   // Thu, Mar 12, 1998
        ("d MMMM, yyyy", Casing.AsWritten),       // 12 March, 1998
        ("MM-dd-yy", Casing.AsWritten),           // 03-12-98
        ("yyyy/MM/dd", Casing.AsWritten),         // 1998/03/12
        ("yyyy-MM-dd", Casing.AsWritten),         // 1998-03-12
    ];

    /// <summary>The first and last dates drawn.</summary>
    public static readonly DateOnly First = new(1950, 1, 1), Last = new(2049, 12, 31);

    /// <summary>Index 1 begins a target and index 2 ends it (0 is padding).</summary>
    public const int Begin = 1, End = 2;

    /// <summary>
    /// The characters of indices 1, 2, … : the begin and end tokens (written as U+0002 and U+0003), then every
    /// character a format writes. 69 characters, so 70 indices with the padding.
    /// </summary>
    public static readonly CharVocabulary Vocabulary =
        new("\u0002\u0003" + " ,-./0123456789" + "ABCDEFGHIJKLMNOPQRSTUVWXYZ" + "abcdefghijklmnopqrstuvwxyz");

    /// <summary>How a pair is laid out for the model: the source's and the decoder's lengths, the begin and end tokens.</summary>
    public static readonly SequencePairs Pairs = new(DatesSpec.SourceLength, DatesSpec.TargetLength, Begin, End);

    /// <summary>The number of days drawn from.</summary>
    public static int Days => Last.DayNumber - First.DayNumber + 1;

    /// <summary>The date written in format <paramref name="format"/> of <see cref="Formats"/>.</summary>
    public static string Write(DateOnly date, int format)
    {
        var (pattern, casing) = Formats[format];
        var text = date.ToString(pattern, CultureInfo.InvariantCulture);
        return casing switch
        {
            Casing.Lower => text.ToLowerInvariant(),
            Casing.Upper => text.ToUpperInvariant(),
            _ => text,
        };
    }

    /// <summary>The date as the target writes it: ISO 8601, "1998-03-12".</summary>
    public static string Iso(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>
    /// <paramref name="count"/> different (date, format) pairs drawn by <paramref name="seed"/>: a uniformly drawn day
    /// of <see cref="First"/>…<see cref="Last"/> in a uniformly drawn format, each pair once.
    /// </summary>
    public static (DateOnly Date, int Format)[] Draw(int count, ulong seed)
    {
        var possible = (long)Days * Formats.Count;
        if (count > possible / 2)
            throw new ArgumentOutOfRangeException(nameof(count), count, $"at most {possible / 2} different pairs are drawn");
        var rng = new Backend.Rng(seed).Fork(0xDA7E5);
        var seen = new HashSet<long>(count);
        var pairs = new (DateOnly, int)[count];
        for (var i = 0; i < count;)
        {
            var day = rng.NextInt(Days);
            var format = rng.NextInt(Formats.Count);
            if (!seen.Add((long)day * Formats.Count + format)) continue;
            pairs[i++] = (DateOnly.FromDayNumber(First.DayNumber + day), format);
        }
        return pairs;
    }

    /// <summary>
    /// Pairs as a data set of two inputs: per sample the source's indices padded with 0 to
    /// <see cref="DatesSpec.SourceLength"/>, then the decoder's input (the begin token and the target's characters);
    /// the labels are the target's characters and the end token, one per decoder position.
    /// </summary>
    public static Dataset Encode(string name, IReadOnlyList<(DateOnly Date, int Format)> pairs)
    {
        const int s = DatesSpec.SourceLength, t = DatesSpec.TargetLength;
        var features = new float[pairs.Count * (s + t)];
        var labels = new float[pairs.Count * t];
        for (var i = 0; i < pairs.Count; i++)
        {
            var (date, format) = pairs[i];
            var source = Write(date, format);
            var row = features.AsSpan(i * (s + t), s + t);
            for (var j = 0; j < source.Length; j++) row[j] = Vocabulary.Encode(source[j]);
            var target = Iso(date);
            row[s] = Begin;
            for (var j = 0; j < target.Length; j++)
            {
                row[s + 1 + j] = Vocabulary.Encode(target[j]);
                labels[i * t + j] = Vocabulary.Encode(target[j]);
            }
            labels[i * t + target.Length] = End;
        }
        return Dataset.FromFloats(name, features, [s + t], labels, Vocabulary.Size, targetSize: t)
            .WithPairs(Pairs);
    }
}
