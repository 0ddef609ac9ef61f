using Dlc.Backend.Kernels;
using Dlc.Backend.Kernels.Reference;
using Dlc.Backend.Tests.Support;

namespace Dlc.Backend.Tests.Kernels;

/// <summary>Weight normalisation's forward pass and both gradients against the double reference, over odd row widths.</summary>
public class WeightNormTests
{
    public static TheoryData<int, int> Weights() => new() { { 1, 1 }, { 3, 7 }, { 16, 33 }, { 5, 300 } };

    [Theory]
    [MemberData(nameof(Weights))]
    public void Forward_and_gradients_match_the_reference(int rows, int per)
    {
        var v = TestData.Normal(rows * per, 1);
        var g = TestData.Uniform(rows, 2, 0.5f, 2f);
        var dw = TestData.Normal(rows * per, 3);
        var (rv, rg, rdw) = (TestData.ToDouble(v), TestData.ToDouble(g), TestData.ToDouble(dw));
        // A dot product over a row of P numbers errs by about P·u relative to Σ|terms|; a few more roundings follow.
        var rtol = (per + 8) * Close.U;

        var w = new float[v.Length];
        WeightNorm.Forward(v, g, w);
        var rw = new double[v.Length];
        WeightNormReference.Forward<double>(rv, rg, rw);
        Close.All(w, rw, rtol, 1e-7, "w");

        var dv = new float[v.Length];
        WeightNorm.DirectionGrad(v, g, dw, dv);
        var rdv = new double[v.Length];
        WeightNormReference.DirectionGrad<double>(rv, rg, rdw, rdv);
        // dv subtracts dw's part along v, so its error scales with |dw|, not with |dv|.
        Close.All(dv, rdv, rtol, rtol * 4 * rdw.Max(Math.Abs) * rg.Max() / Math.Sqrt(per) + 1e-6, "dv");

        var dg = new float[rows];
        WeightNorm.ScaleGrad(v, dw, dg);
        var rdg = new double[rows];
        WeightNormReference.ScaleGrad<double>(rv, rdw, rdg);
        Close.All(dg, rdg, rtol, rtol * Math.Sqrt(per) * 4, "dg");
    }

    [Fact]
    public void The_normalised_rows_have_the_lengths_g()
    {
        var v = TestData.Normal(3 * 10, 4);
        float[] g = [0.5f, 1f, 3f];
        var w = new float[v.Length];
        WeightNorm.Forward(v, g, w);
        for (var k = 0; k < 3; k++)
            Math.Sqrt(w.Skip(k * 10).Take(10).Sum(x => (double)x * x)).ShouldBe(g[k], 1e-5);
    }

    [Fact]
    public void A_weight_that_does_not_split_into_rows_is_refused()
    {
        Should.Throw<ArgumentException>(() => WeightNorm.Forward(new float[7], new float[2], new float[7]));
    }
}
