using Dlc.Compiler.Elaboration;
using Dlc.Compiler.Ir;
using Dlc.Compiler.Jobs;
using Dlc.Diagnostics;
using Dlc.Runtime.Training;

namespace Dlc.Runtime.Tests.Data;

/// <summary>`csv { standardize = true }`: every feature to mean 0 and std 1 with the training file's statistics.</summary>
public class StandardizeTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Training_statistics_scale_both_files_feature_by_feature()
    {
        var train = _dir.Write("train.csv", "1,100,0\n3,300,1\n");
        var test = _dir.Write("test.csv", "5,200,1\n");
        var spec = new DataSpec(DataKind.Csv, default) { Path = train, TestPath = test, Standardize = true };
        var input = new ModelInput("x", new Shape(Dim.Sym("N"), Dim.Of(2)), false, default);
        var data = DataSources.Load(new SourceText(_dir.File("m.dl"), ""), spec, input, LossKind.CrossEntropy, seed: 1);

        var x = new float[4];
        data.Train.Gather([0, 1], x, new float[2]);
        x.ShouldBe([-1f, -1f, 1f, 1f]);
        var t = new float[2];
        data.Test!.Gather([0], t, new float[1]);
        // Mean (2, 200), std (1, 100).
        t.ShouldBe([3f, 0f]);
    }
}
