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
        _folder.Write("twice.csv", "height,weight,height,taller\n" + rows);
        _folder.Write("named.csv", "height,weight,noise,class\n" + rows.ToString().Replace(",0\n", ",short\n").Replace(",1\n", ",tall\n"));
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
        Shell.Run("explain", dl, "--checkpoint", Path.Combine(_folder["bare"], "model.safetensors"), "--method", "permutation", "--features", "r,t,r",
            "--out", _folder["x"]).ShouldFailWith(ExitCodes.UserError, "error DL0407: --features r,t,r: `r` names 2 features", "help: give every feature a name of its own");
        Shell.Run("explain", dl, "--checkpoint", Path.Combine(_folder["bare"], "model.safetensors"), "--method", "permutation", "--features", "r,,a",
            "--out", _folder["x"]).ShouldFailWith(ExitCodes.UserError, "error DL0407: --features r,,a: feature 2 has an empty name");
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

    [Fact]
    public void A_header_that_names_a_column_twice_is_DL0902_naming_the_file_at_the_data_field_unless_the_record_names_the_features()
    {
        var dl = Dl("twice.dl", "path = \"twice.csv\"; validation = 0.25");
        Shell.Run("train", dl, "--out", _folder["twice"]).ShouldFailWith(ExitCodes.UserError,
            "error DL0902: twice.csv:1: the header names 2 columns 'height' (columns 1 and 3)\n", $"--> {dl}:5:17\n",
            "= help: give every column a name of its own, or name the features with the record's `features`");
        Directory.Exists(_folder["twice"]).ShouldBeFalse();
        var renamed = Explain(Dl("renamed.dl", "path = \"twice.csv\"; features = [\"height\"; \"weight\"; \"height again\"]; validation = 0.25"));
        PermutationFeatures(renamed).ShouldBe(["height", "weight", "height again"]);
    }

    [Fact]
    public void The_text_labels_of_a_csv_file_name_the_classes_that_target_takes()
    {
        var dl = Dl("named.dl", "path = \"named.csv\"; validation = 0.25");
        var run = _folder["named"];
        Shell.Run("train", dl, "--out", run).ShouldSucceed();
        var checkpoint = Path.Combine(run, "model.safetensors");
        var explained = Shell.Run("explain", dl, "--checkpoint", checkpoint, "--method", "saliency", "--inputs", "validation[0:3]", "--target", "tall",
            "--out", _folder["named-explain"], "--json").ShouldSucceed();
        using var json = JsonDocument.Parse(explained.Out);
        // Text labels are classes in sorted order: short is 0, tall 1.
        json.RootElement.GetProperty("methods")[0].GetProperty("inputs").EnumerateArray().Select(i => i.GetProperty("target").GetInt32()).ShouldBe([1, 1, 1]);
        Shell.Run("explain", dl, "--checkpoint", checkpoint, "--target", "tal", "--out", _folder["x"])
            .ShouldFailWith(ExitCodes.UserError, "error DL0407: --target tal: `Table` has no class named `tal`", "help: did you mean `tall`?");
    }

    public void Dispose() => _folder.Dispose();
}
