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
