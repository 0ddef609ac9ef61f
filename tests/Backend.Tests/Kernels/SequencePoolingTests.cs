using Dlc.Backend.Kernels;
using Dlc.Backend.Kernels.Reference;
using Dlc.Backend.Tests.Support;

namespace Dlc.Backend.Tests.Kernels;

/// <summary>The mean over time, with and without lengths, against the double reference over odd sizes.</summary>
public class SequencePoolingTests
{
    [Theory]
    [InlineData(1, 1, 1, false)]
    [InlineData(4, 7, 5, false)]
    [InlineData(4, 7, 5, true)]
    [InlineData(5, 33, 17, true)]
    public void Mean_and_its_gradient_match_the_reference(int n, int t, int d, bool packed)
    {
        var x = TestData.Normal(n * t * d, 1);
        var dy = TestData.Normal(n * d, 2);
        int[]? lengths = packed ? Enumerable.Range(0, n).Select(i => i * (t + 1) / Math.Max(1, n - 1) % (t + 1)).ToArray() : null;
        var l = lengths?.Select(v => (float)v).ToArray() ?? [];
        var y = new float[n * d];
        y.AsSpan().Fill(float.NaN);
        SequencePooling.Mean(x, l, y, n, t, d);
        var dx = new float[n * t * d];
        dx.AsSpan().Fill(float.NaN);
        SequencePooling.MeanBackward(dy, l, dx, n, t, d);

        var ry = new double[y.Length];
        SequencePoolingReference.Mean<double>(TestData.ToDouble(x), lengths, ry, n, t, d);
        var rdx = new double[dx.Length];
        SequencePoolingReference.MeanBackward<double>(TestData.ToDouble(dy), lengths, rdx, n, t, d);
        Close.All(y, ry, 1e-5, 1e-6, "y");
        Close.All(dx, rdx, 1e-6, 1e-7, "dx");
        if (packed) lengths!.ShouldContain(0);
    }

    [Fact]
    public void The_padding_after_a_sequence_does_not_change_its_mean()
    {
        var x = TestData.Normal(2 * 6 * 3, 3);
        var y = new float[2 * 3];
        SequencePooling.Mean(x, [3f, 6f], y, 2, 6, 3);
        for (var i = 3 * 3; i < 6 * 3; i++) x[i] = 100f;
        var again = new float[2 * 3];
        SequencePooling.Mean(x, [3f, 6f], again, 2, 6, 3);
        again.AsSpan(0, 3).ToArray().ShouldBe(y.AsSpan(0, 3).ToArray());
    }
}
