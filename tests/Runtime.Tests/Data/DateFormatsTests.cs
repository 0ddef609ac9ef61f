using System.Globalization;
using Dlc.Compiler.Jobs;
using Dlc.Runtime.Data;
using Dlc.Runtime.Training;

namespace Dlc.Runtime.Tests.Data;

/// <summary>The generated `dates` pairs: reproducible by the seed, unambiguous, and encoded for a model of two inputs.</summary>
public class DateFormatsTests
{
    [Fact]
    public void The_same_seed_draws_the_same_pairs_and_another_seed_others()
    {
        var first = DateFormats.Draw(500, seed: 7);
        DateFormats.Draw(500, seed: 7).ShouldBe(first);
        DateFormats.Draw(500, seed: 8).ShouldNotBe(first);
        first.Distinct().Count().ShouldBe(500);
        first.ShouldAllBe(p => p.Date >= DateFormats.First && p.Date <= DateFormats.Last);
        first.Select(p => p.Format).Distinct().Count().ShouldBe(DateFormats.Formats.Count);
    }

    [Fact]
    public void Every_source_parses_back_to_its_date_and_to_no_other_in_any_format()
    {
        foreach (var (date, format) in DateFormats.Draw(3000, seed: 1).Append((DateFormats.First, 3)).Append((DateFormats.Last, 16)))
        {
            var source = DateFormats.Write(date, format);
            DateOnly.ParseExact(source, DateFormats.Formats[format].Pattern, CultureInfo.InvariantCulture).ShouldBe(date, source);
            for (var other = 0; other < DateFormats.Formats.Count; other++)
            {
                if (DateOnly.TryParseExact(source, DateFormats.Formats[other].Pattern, CultureInfo.InvariantCulture, DateTimeStyles.None, out var read))
                    read.ShouldBe(date, $"\"{source}\" read as {DateFormats.Formats[other].Pattern}");
            }
            DateFormats.Iso(date).ShouldBe(date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        }
        DateFormats.Write(new DateOnly(1998, 3, 12), 4).ShouldBe("thursday, march 12 1998");
        DateFormats.Write(new DateOnly(1998, 3, 12), 3).ShouldBe("12/03/98");
        DateFormats.Write(new DateOnly(2021, 3, 12), 3).ShouldBe("12/03/21");
    }

    [Fact]
    public void Every_format_of_every_month_and_weekday_fits_the_source_length_in_the_vocabulary()
    {
        // Seven years hold every weekday of every day of every month.
        var longest = "";
        var outside = new HashSet<char>();
        for (var date = new DateOnly(1995, 1, 1); date < new DateOnly(2002, 1, 1); date = date.AddDays(1))
        {
            for (var format = 0; format < DateFormats.Formats.Count; format++)
            {
                var source = DateFormats.Write(date, format);
                if (source.Length > longest.Length) longest = source;
                foreach (var c in source)
                {
                    if (DateFormats.Vocabulary.Encode(c) <= DateFormats.End) outside.Add(c);
                }
            }
        }
        longest.Length.ShouldBe(28, longest);
        longest.Length.ShouldBeLessThanOrEqualTo(DatesSpec.SourceLength);
        outside.ShouldBeEmpty();
        DateFormats.Vocabulary.Size.ShouldBe(70);
        DateFormats.Vocabulary.Encode('\u0002').ShouldBe(DateFormats.Begin);
        DateFormats.Vocabulary.Encode('\u0003').ShouldBe(DateFormats.End);
    }

    [Fact]
    public void A_pair_is_the_padded_source_then_the_target_shifted_right_after_the_begin_token()
    {
        var data = DateFormats.Encode("dates", [(new DateOnly(1998, 3, 12), 2)]);
        data.Pairs.ShouldBe(new SequencePairs(DatesSpec.SourceLength, DatesSpec.TargetLength, DateFormats.Begin, DateFormats.End));
        data.ClassCount.ShouldBe(70);
        var source = new float[DatesSpec.SourceLength];
        var previous = new float[DatesSpec.TargetLength];
        var labels = new float[DatesSpec.TargetLength];
        data.GatherPair([0], 0, source, labels);
        data.GatherPair([0], 1, previous, default);
        string Text(IEnumerable<float> indices) => string.Concat(indices.Select(i => DateFormats.Vocabulary.Decode((int)i)));
        Text(source.Take(12)).ShouldBe("Mar 12, 1998");
        source.Skip(12).ShouldAllBe(i => i == 0);
        previous[0].ShouldBe(DateFormats.Begin);
        Text(previous.Skip(1)).ShouldBe("1998-03-12");
        Text(labels.Take(10)).ShouldBe("1998-03-12");
        labels[10].ShouldBe(DateFormats.End);
    }

    [Fact]
    public void The_record_holds_out_the_test_pairs_and_a_validation_part_of_the_rest()
    {
        var spec = new DataSpec(DataKind.Dates, default) { Dates = new DatesSpec(1000, 0.2), Validation = 0.1 };
        var data = DataSources.Load(new Diagnostics.SourceText("dates.dl", ""), spec, new Compiler.Elaboration.ModelInput("source", new Compiler.Ir.Shape(), true, default),
            LossKind.CrossEntropy, seed: 3);
        data.Test!.Count.ShouldBe(200);
        data.Validation!.Count.ShouldBe(80);
        data.Train.Count.ShouldBe(720);
        data.Vocabulary.ShouldBe(DateFormats.Vocabulary);
        data.Train.Pairs.ShouldNotBeNull();
        data.Validation.Pairs.ShouldNotBeNull();
        var again = DataSources.Load(new Diagnostics.SourceText("dates.dl", ""), spec, new Compiler.Elaboration.ModelInput("source", new Compiler.Ir.Shape(), true, default),
            LossKind.CrossEntropy, seed: 3);
        again.Test!.Labels.ShouldBe(data.Test.Labels);
        again.Validation!.Labels.ShouldBe(data.Validation.Labels);
    }
}
