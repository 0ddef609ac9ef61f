using Dlc.Compiler.Jobs;

namespace Dlc.Compiler.Tests;

/// <summary>The `wordLists { ... }` and `timeSeries { ... }` data records, and their mistakes.</summary>
public class SequenceDataRecordTests
{
    private static string Words(string data, int classes = 3) => $$"""
        model M (word: Tensor[N, 12] of int) : Tensor[N, {{classes}}] =
            word |> embedding 64 8 |> gru 16 (returnSequences = false) |> dense {{classes}}

        train M { data = wordLists { {{data}} } }
        """;

    private static string Series(string data) => $$"""
        model F (years: Tensor[N, 24, 1]) : Tensor[N, 1] =
            years |> lstm 8 (returnSequences = false) |> dense 1

        train F { data = timeSeries { {{data}} }; loss = mse }
        """;

    [Fact]
    public void Word_lists_are_read_into_the_data_spec_with_their_defaults()
    {
        var spec = Compile.Ok(Words("languages = [\"english\"; \"german\"; \"dutch\"]; perLanguage = 500; validation = 0.1; test = 0.2")).Trains.Single().Data;
        spec.Kind.ShouldBe(DataKind.WordLists);
        spec.WordLists!.Languages.ShouldBe(["english", "german", "dutch"]);
        spec.WordLists.Length.ShouldBe(16);
        spec.WordLists.PerLanguage.ShouldBe(500);
        spec.WordLists.Test.ShouldBe(0.2);
        spec.Validation.ShouldBe(0.1);
    }

    [Fact]
    public void A_model_that_does_not_score_every_language_is_DL0404_at_the_languages()
    {
        var error = Compile.Error(Words("languages = [\"english\"; \"german\"]"));
        error.ShouldContain("error DL0404: `wordLists` labels each word with one of 2 languages, but `M` returns Tensor[N, 3]");
        error.ShouldContain("help: end the model with `dense 2`, one score per language, Tensor[N, 2]");
    }

    [Fact]
    public void Word_list_mistakes_are_reported_at_their_field()
    {
        Compile.Error(Words("languages = [\"english\"]", classes: 1)).ShouldContain("error DL0402: `languages` must name at least two languages to tell apart, found 1");
        Compile.Error(Words("languages = [\"english\"; \"english\"; \"german\"]")).ShouldContain("error DL0402: \"english\" is listed twice");
        Compile.Error(Words("languages = [\"../etc\"; \"german\"; \"dutch\"]")).ShouldContain("error DL0402: \"../etc\" is not a language");
        Compile.Error(Words("length = 12")).ShouldContain("error DL0401: `wordLists` needs `languages`");
        Compile.Error(Words("languages = [\"english\"; \"german\"; \"dutch\"]; test = 0.5; validation = 0.5"))
            .ShouldContain("error DL0402: `wordLists` holds out `validation` and `test` that leave nothing to train on");
    }

    [Fact]
    public void A_series_is_named_or_given_by_path()
    {
        var spec = Compile.Ok(Series("name = sunspots; window = 24; horizon = 1; test = 0.2")).Trains.Single().Data;
        spec.Kind.ShouldBe(DataKind.TimeSeries);
        spec.Series.ShouldBe(new TimeSeriesSpec("sunspots", null, 24, 1) { Test = 0.2 });
        Compile.Ok(Series("path = \"flow.csv\"; column = \"value\"; window = 24")).Trains.Single().Data.Path.ShouldBe("flow.csv");
    }

    [Fact]
    public void Series_mistakes_are_reported_at_their_field()
    {
        Compile.Error(Series("window = 24")).ShouldContain("error DL0401: `timeSeries` needs a `name` or a `path`");
        // A bare name the file does not define is DL0201 before the record is read; as a string it reaches the record.
        Compile.Error(Series("name = sunspot")).ShouldContain("error DL0201: `sunspot` is not defined");
        Compile.Error(Series("name = \"sunspot\"")).ShouldContain("error DL0402: there is no built-in series `sunspot`");
        Compile.Error(Series("name = sunspots; horizon = 2"))
            .ShouldContain("error DL0404: `timeSeries` with `horizon = 2` gives 2 target values per window, but `F` returns Tensor[N, 1]");
    }
}
