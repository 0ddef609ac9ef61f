using System.Globalization;
using System.Text;
using System.Text.Json;
using Dlc.Cli.Tests.Support;

namespace Dlc.Cli.Tests;

/// <summary>
/// The names `dlc explain` gives the features of a table: a CSV header's, else the `csv` record's `features`, and
/// `--features` over both. A small generated table of three measurements whose class is whether the first exceeds
/// the second.
/// </summary>
public sealed class ExplainFeatureNamesTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public ExplainFeatureNamesTests()
    {
        var random = new Random(7);
        var rows = new StringBuilder();
        for (var i = 0; i < 96; i++)
        {
            var (a, b, c) = (random.NextDouble(), random.NextDouble(), random.NextDouble());
            rows.Append(CultureInfo.InvariantCulture, $"{a:0.000},{b:0.000},{c:0.000},{(a > b ? 1 : 0)}\n");
        }
        _folder.Write("headed.csv", "height,weight,noise,taller\n" + rows);
        _folder.Write("bare.csv", rows.ToString());
    }

    private string Dl(string name, string data) => _folder.Write(name, $$"""
        model Table (x: Tensor[N, 3]) : Tensor[N, 2] =
            x |> dense 8 |> relu |> dense 2

        train Table {
            data      = csv { {{data}} }
            loss      = crossEntropy
            optimizer = adam { lr = 1e-2 }
            epochs    = 2
            batch     = 16
            seed      = 42
        }
        """);

    /// <summary>Trains the file, explains it by permutation and feature ablation, and returns the output folder.</summary>
    private string Explain(string dl, params string[] extra)
    {
        var run = _folder[Path.GetFileNameWithoutExtension(dl)];
        Shell.Run("train", dl, "--out", run).ShouldSucceed();
        var output = run + "-explain";
        Shell.Run(["explain", dl, "--checkpoint", Path.Combine(run, "model.safetensors"), "--method", "permutation,feature-ablation",
            "--repeats", "2", "--out", output, .. extra]).ShouldSucceed();
        return output;
    }

    private static string[] PermutationFeatures(string folder) =>
        File.ReadLines(Path.Combine(folder, "permutation.csv")).Skip(1).Select(l => l.Split(',')[0]).ToArray();

    private static string[] AblationFeatures(string folder)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "feature-ablation.json")));
        return json.RootElement.GetProperty("features").EnumerateArray().Select(f => f.GetString()!).ToArray();
    }

    [Fact]
    public void A_csv_header_names_the_features_of_the_tables_and_json()
    {
        var folder = Explain(Dl("headed.dl", "path = \"headed.csv\"; validation = 0.25"));
        PermutationFeatures(folder).ShouldBe(["height", "weight", "noise"]);
        AblationFeatures(folder).ShouldBe(["height", "weight", "noise"]);
        File.ReadLines(Path.Combine(folder, "feature-ablation.csv")).Skip(1).Take(3).Select(l => l.Split(',')[2]).ShouldBe(["height", "weight", "noise"]);
    }

    [Fact]
    public void The_records_features_name_a_file_without_a_header_and_the_command_line_names_win()
    {
        var dl = Dl("bare.dl", "path = \"bare.csv\"; features = [\"mean radius\"; \"mean texture\"; \"mean area\"]; validation = 0.25");
        var folder = Explain(dl);
        PermutationFeatures(folder).ShouldBe(["mean radius", "mean texture", "mean area"]);
        AblationFeatures(folder).ShouldBe(["mean radius", "mean texture", "mean area"]);
        var summary = File.ReadAllText(Path.Combine(folder, "summary.json"));
        summary.ShouldContain("\"feature\": \"mean radius\"");

        var overridden = _folder["overridden"];
        Shell.Run("explain", dl, "--checkpoint", Path.Combine(_folder["bare"], "model.safetensors"), "--method", "permutation", "--repeats", "1",
            "--features", "r,t,a", "--out", overridden).ShouldSucceed();
        PermutationFeatures(overridden).ShouldBe(["r", "t", "a"]);
    }

    [Fact]
    public void The_breast_cancer_example_names_its_30_measurements_in_scikit_learns_order()
    {
        // breast_cancer.csv has no header: the example's `features` give the WDBC names, in load_breast_cancer's order.
        var dl = Path.Combine(Repository.Root, "examples", "breast_cancer.dl");
        var run = _folder["breast"];
        Shell.Run("train", dl, "--epochs", "1", "--out", run).ShouldSucceed();
        Shell.Run("explain", dl, "--checkpoint", Path.Combine(run, "model.safetensors"), "--method", "permutation", "--repeats", "1",
            "--out", _folder["breast-explain"]).ShouldSucceed();
        string[] properties = ["radius", "texture", "perimeter", "area", "smoothness", "compactness", "concavity", "concave points", "symmetry", "fractal dimension"];
        PermutationFeatures(_folder["breast-explain"]).ShouldBe([
            .. properties.Select(p => $"mean {p}"), .. properties.Select(p => $"{p} error"), .. properties.Select(p => $"worst {p}")]);
    }

    [Fact]
    public void Features_of_another_count_than_the_files_columns_are_DL0402_at_the_list()
    {
        var dl = Dl("wrong.dl", "path = \"bare.csv\"; features = [\"a\"; \"b\"]");
        Shell.Run("train", dl, "--out", _folder["wrong"]).ShouldFailWith(ExitCodes.UserError,
            "error DL0402: `features` names 2 features, but each row of bare.csv has 3 besides its label\n", $"--> {dl}:5:53\n");
    }

    public void Dispose() => _folder.Dispose();
}
