using Dlc.Compiler.Jobs;

namespace Dlc.Compiler.Tests;

/// <summary>The `dates { ... }` data record and the two-input models it fits, with the mistakes reported at the model's line.</summary>
public class DatesRecordTests
{
    private const string Decoder = """
        let decode (memory: Tensor) (y: Tensor) =
            let h = y + (y |> layerNorm |> multiHeadAttention 2 (causal = true))
            h + (h |> layerNorm |> multiHeadAttention 2 (memory = memory))
        """;

    private static string Source(string inputs = "(source: Tensor[N, S] of int) (previous: Tensor[N, T] of int)", string output = "Tensor[N, T, 70]",
        string data = "dates", string body = "decode (source |> embedding 70 8 (maskZero = true)) (previous |> embedding 70 8) |> dense 70") => $$"""
        {{Decoder}}

        model Tr {{inputs}} : {{output}} =
            {{body}}

        train Tr { data = {{data}} }
        """;

    [Fact]
    public void Dates_are_read_with_their_defaults_and_given_fields()
    {
        var spec = Compile.Ok(Source()).Trains.Single().Data;
        spec.Kind.ShouldBe(DataKind.Dates);
        spec.Dates.ShouldBe(new DatesSpec(50000, 0.1));
        spec.IsSequencePairs.ShouldBeTrue();
        var given = Compile.Ok(Source(data: "dates { samples = 2000; test = 0.25; validation = 0.1 }")).Trains.Single().Data;
        given.Dates.ShouldBe(new DatesSpec(2000, 0.25));
        given.Validation.ShouldBe(0.1);
    }

    [Fact]
    public void Mistakes_in_the_record_are_reported_at_their_field()
    {
        Compile.Error(Source(data: "dates { samples = 5 }")).ShouldContain("error DL0402: `samples` must be an integer of 10 or more, found 5");
        Compile.Error(Source(data: "dates { test = 0.5; validation = 0.5 }"))
            .ShouldContain("error DL0402: `dates` holds out `validation` and `test` that leave nothing to train on");
        Compile.Error(Source(data: "dates { sample = 100 }")).ShouldContain("error DL0203: `dates` has no field `sample`");
    }

    [Fact]
    public void A_model_of_one_input_on_dates_is_DL0405_at_the_models_name()
    {
        var error = Compile.Error(Source(inputs: "(source: Tensor[N, T] of int)", body: "source |> embedding 70 8 |> dense 70"));
        error.ShouldContain("error DL0405: `dates` gives two inputs, the source characters Tensor[N, 32] of int and the decoder's input Tensor[N, 11] of int, but `Tr` takes 1 (`source`)");
        error.ShouldContain("model Tr (source: Tensor[N, T] of int) : Tensor[N, T, 70] =\n   |       ^^");
        error.ShouldContain("help: declare `model M (source: Tensor[N, S] of int) (previous: Tensor[N, T] of int) : Tensor[N, T, V]`");
    }

    [Fact]
    public void A_model_of_two_inputs_on_data_of_one_is_DL0405_at_the_models_name()
    {
        Compile.Error(Source(data: "fashionMnist"))
            .ShouldContain("error DL0405: `Tr` takes 2 inputs (`source`, `previous`), but this data set gives one");
    }

    [Fact]
    public void Inputs_of_the_wrong_shape_are_DL0405_at_the_input()
    {
        Compile.Error(Source(inputs: "(source: Tensor[N, 28] of int) (previous: Tensor[N, T] of int)"))
            .ShouldContain("error DL0405: `dates` gives the source characters as Tensor[N, 32] of int, but `source` is Tensor[N, 28]");
        Compile.Error(Source(inputs: "(source: Tensor[N, S] of int) (previous: Tensor[N, T, 8])", body: "decode (source |> embedding 70 8 (maskZero = true)) previous |> dense 70"))
            .ShouldContain("error DL0405: `dates` gives the decoder's input as Tensor[N, 11] of int, but `previous` is Tensor[N, T, 8] of numbers");
        Compile.Error(Source(inputs: "(source: Tensor[N, T] of int) (previous: Tensor[N, T] of int)"))
            .ShouldContain("error DL0405: `source` and `previous` share the length `T`, but `dates` gives 32 source characters and 11 decoder positions");
    }

    [Fact]
    public void A_result_that_does_not_score_each_decoder_position_is_DL0404()
    {
        Compile.Error(Source(output: "Tensor[N, 70]", body: "decode (source |> embedding 70 8 (maskZero = true)) (previous |> embedding 70 8) |> sequenceMean |> dense 70"))
            .ShouldContain("error DL0404: `dates` scores the next target character at each decoder position, Tensor[N, T, V], but `Tr` returns Tensor[N, 70]");
    }

    [Fact]
    public void An_input_named_target_is_DL0209_because_the_labels_have_that_name()
    {
        Compile.Error(Source(inputs: "(source: Tensor[N, S] of int) (target: Tensor[N, T] of int)", body: "decode (source |> embedding 70 8 (maskZero = true)) (target |> embedding 70 8) |> dense 70"))
            .ShouldContain("error DL0209: `target` is the name of the labels the loss reads while `Tr` trains, so it cannot name an input");
    }
}
