using Dlc.Runtime.Checkpoints;
using Dlc.Runtime.Data;
using YamlDotNet.Serialization;

namespace Dlc.Runtime.Tests.Checkpoints;

public class RunFolderTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static readonly DateTime Now = new(2025, 3, 9, 14, 5, 7);

    [Fact]
    public void A_run_folder_is_named_after_the_model_and_the_time()
    {
        var run = RunFolder.Create("FashionMLP", Now, _dir.Path);
        run.Name.ShouldBe("fashionmlp-20250309-140507");
        Directory.Exists(run.Path).ShouldBeTrue();
        run.MetricsPath.ShouldBe(Path.Combine(run.Path, "metrics.csv"));
    }

    [Fact]
    public void Runs_started_in_the_same_second_get_numbered_folders()
    {
        RunFolder.Create("m", Now, _dir.Path).Name.ShouldBe("m-20250309-140507");
        RunFolder.Create("m", Now, _dir.Path).Name.ShouldBe("m-20250309-140507-2");
        RunFolder.Create("m", Now, _dir.Path).Name.ShouldBe("m-20250309-140507-3");
    }

    [Fact]
    public void Model_names_are_made_safe_for_folder_names()
    {
        RunFolder.Create("My Net/v2", Now, _dir.Path).Name.ShouldBe("my-net-v2-20250309-140507");
    }

    [Fact]
    public void Metrics_rows_are_appended_and_on_disk_after_each_row()
    {
        var path = _dir.File("metrics.csv");
        using (var writer = new MetricsCsvWriter(path))
        {
            writer.Append(new MetricsRow(0, 938, 0.5123f, 0.81f, 0.45f, 0.84f, 0.001f, 12.3456, 4862.04));
            File.ReadAllLines(path).Length.ShouldBe(2);
            writer.Append(new MetricsRow(1, 1876, 0.3f, 0.9f, null, null, 0.001f, 24.5, 4900));
        }
        File.ReadAllLines(path).ShouldBe([
            MetricsCsvWriter.Header,
            "0,938,0.5123,0.81,0.45,0.84,0.001,12.346,4862",
            "1,1876,0.3,0.9,,,0.001,24.5,4900",
        ]);
    }

    [Fact]
    public void A_resumed_run_continues_its_metrics_file_without_a_second_header()
    {
        var path = _dir.File("metrics.csv");
        using (var w = new MetricsCsvWriter(path)) w.Append(new MetricsRow(0, 1, 1, null, null, null, 0.1, 1, 1));
        using (var w = new MetricsCsvWriter(path)) w.Append(new MetricsRow(1, 2, 1, null, null, null, 0.1, 1, 1));
        File.ReadAllLines(path).Length.ShouldBe(3);
    }

    [Fact]
    public void A_metrics_file_with_other_columns_is_not_appended_to()
    {
        var path = _dir.Write("metrics.csv", "a,b\n1,2\n");
        Should.Throw<DataException>(() => new MetricsCsvWriter(path)).Code.ShouldBe(DataException.WriteFailed);
        File.ReadAllText(path).ShouldBe("a,b\n1,2\n");
    }

    [Fact]
    public void The_summary_is_yaml_that_reads_back_in_key_order()
    {
        var path = _dir.File("summary.yaml");
        SummaryYaml.Write(path, new Dictionary<string, object?>
        {
            ["model"] = "FashionMLP",
            ["epochs"] = 3,
            ["val_accuracy"] = 0.8812,
            ["checkpoint"] = null,
            ["settings"] = new Dictionary<string, object?> { ["batch"] = 64, ["lr"] = 0.001 },
        });
        var text = File.ReadAllText(path);
        text.IndexOf("model:", StringComparison.Ordinal).ShouldBeLessThan(text.IndexOf("epochs:", StringComparison.Ordinal));
        var back = new DeserializerBuilder().Build().Deserialize<Dictionary<string, object?>>(text);
        back["model"].ShouldBe("FashionMLP");
        back["epochs"].ShouldBe("3");
        back["val_accuracy"].ShouldBe("0.8812");
        ((Dictionary<object, object>)back["settings"]!)["lr"].ShouldBe("0.001");
        Directory.GetFiles(_dir.Path).ShouldBe([path]);
    }
}
