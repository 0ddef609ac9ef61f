using Dlc.Compiler.Jobs;

namespace Dlc.Compiler.Tests;

/// <summary>The `csv { ... }` data record: a targets file, standardisation, and their mistakes.</summary>
public class CsvRecordTests
{
    private static string File(string data) => $$"""
        model M (x: Tensor[N, 4]) : Tensor[N, 1] =
            x |> dense 1

        train M { data = csv { {{data}} }; loss = mse }
        """;

    [Fact]
    public void Targets_and_standardize_are_read_into_the_data_spec()
    {
        var spec = Compile.Ok(File("path = \"x.csv\"; targets = \"y.csv\"; standardize = true")).Trains.Single().Data;
        spec.Kind.ShouldBe(DataKind.Csv);
        spec.Targets.ShouldBe("y.csv");
        spec.Standardize.ShouldBeTrue();
    }

    [Fact]
    public void Features_name_the_columns_in_order()
    {
        var spec = Compile.Ok(File("path = \"x.csv\"; features = [\"mean radius\"; \"mean texture\"; \"worst area\"; \"age\"]")).Trains.Single().Data;
        spec.Features.ShouldBe(["mean radius", "mean texture", "worst area", "age"]);
        Compile.Ok(File("path = \"x.csv\"")).Trains.Single().Data.Features.ShouldBeNull();
    }

    [Fact]
    public void A_feature_name_that_is_not_a_string_or_is_given_twice_is_DL0402()
    {
        Compile.Error(File("path = \"x.csv\"; features = [\"a\"; 3]")).ShouldContain("error DL0402: a feature's name is a string such as \"mean radius\", found 3");
        Compile.Error(File("path = \"x.csv\"; features = [\"a\"; \"b\"; \"a\"]")).ShouldContain("error DL0402: the feature \"a\" is named twice (features 1 and 3)");
    }

    [Fact]
    public void A_feature_named_twice_is_DL0402_at_the_second_name_in_the_dl_file()
    {
        var error = Compile.Error(File("path = \"x.csv\"; features = [\"a\"; \"b\"; \"b\"; \"c\"]"));
        // The record is on line 4; the second "b" starts at column 62.
        error.ShouldContain("error DL0402: the feature \"b\" is named twice (features 2 and 3)\n  --> test.dl:4:62\n");
        error.ShouldContain("= help: give every feature a name of its own");
    }

    [Fact]
    public void An_empty_or_blank_feature_name_is_DL0402_at_the_name()
    {
        Compile.Error(File("path = \"x.csv\"; features = [\"a\"; \"\"; \"c\"; \"d\"]"))
            .ShouldContain("error DL0402: feature 2 has an empty name\n  --> test.dl:4:57\n");
        Compile.Error(File("path = \"x.csv\"; features = [\"a\"; \"b\"; \"c\"; \"  \"]")).ShouldContain("error DL0402: feature 4 has an empty name");
    }

    [Fact]
    public void A_label_column_and_a_targets_file_together_are_DL0402()
    {
        var error = Compile.Error(File("path = \"x.csv\"; label = \"y\"; targets = \"y.csv\""));
        error.ShouldContain("error DL0402: `csv` takes its targets from a `label` column or from a `targets` file, not both");
    }

    [Fact]
    public void Standardize_and_normalize_together_are_DL0402()
    {
        var error = Compile.Error(File("path = \"x.csv\"; standardize = true; normalize = { mean = [0.5]; std = [0.2] }"));
        error.ShouldContain("error DL0402: `standardize = true` already normalises every feature");
    }
}
