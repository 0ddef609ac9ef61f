using Dlc.Backend.Kernels;
using Dlc.Backend.Kernels.Reference;
using Dlc.Backend.Tests.Support;

namespace Dlc.Backend.Tests.Kernels;

/// <summary>
/// `broadcast_to` and `sum_to` against the element-by-element definition, over shapes that merge into one
/// axis, into alternating repeated and copied axes, scalars, axes of size 1 and of size 0.
/// </summary>
public class BroadcastingTests
{
    public static TheoryData<string, string> Pairs() => new()
    {
        { "", "3,4" },
        { "1", "7" },
        { "4", "3,4" },
        { "3,1", "3,4" },
        { "1,4", "3,4" },
        { "5,1,1", "5,3,4" },
        { "3,1,67", "3,5,67" },
        { "1,4,1", "2,4,3" },
        { "2,1,3,1", "2,5,3,7" },
        { "1,1", "1,1" },
        { "6", "6" },
        { "1,3", "0,3" },
        { "9,1,1", "2,9,5,5" },
    };

    private static int[] Shape(string text) => text.Length == 0 ? [] : text.Split(',').Select(int.Parse).ToArray();

    private static int Count(int[] shape) => shape.Aggregate(1, (a, d) => a * d);

    [Theory]
    [MemberData(nameof(Pairs))]
    public void Expand_copies_exactly_what_the_definition_says(string small, string large)
    {
        var (s, l) = (Shape(small), Shape(large));
        var x = TestData.Normal(Count(s), 1);
        var y = Enumerable.Repeat(float.NaN, Count(l)).ToArray();
        Broadcasting.Expand(x, y, BroadcastGeometry.Of(s, l));
        var expected = new double[y.Length];
        BroadcastingReference.Expand<double>(TestData.ToDouble(x), expected, s, l);
        Close.All(y, expected, 0, 0, $"broadcast_to [{small}] → [{large}]");
    }

    [Theory]
    [MemberData(nameof(Pairs))]
    public void Reduce_to_sums_what_the_definition_sums_and_overwrites_its_output(string small, string large)
    {
        var (s, l) = (Shape(small), Shape(large));
        var dy = TestData.Normal(Count(l), 2);
        var y = Enumerable.Repeat(float.NaN, Count(s)).ToArray();
        Broadcasting.ReduceTo(dy, y, BroadcastGeometry.Of(s, l));
        var expected = new double[y.Length];
        BroadcastingReference.ReduceTo<double>(TestData.ToDouble(dy), expected, s, l);
        // Each element sums R = |large| / |small| terms: the recursive summation bound (R + 4)·u·Σ|dy|.
        var terms = Math.Max(1, Count(l) / Math.Max(1, Count(s)));
        var bound = (terms + 4) * Close.U * dy.Sum(v => Math.Abs(v));
        Close.All(y, expected, 0, bound, $"sum_to [{large}] → [{small}]");
    }

    [Fact]
    public void Axes_that_step_alike_are_merged_so_rows_are_long()
    {
        var g = BroadcastGeometry.Of([5, 1, 1], [5, 3, 4]);
        g.Dims.ShouldBe([5, 12]);
        g.Strides.ShouldBe([1, 0]);
        BroadcastGeometry.Of([3, 4], [2, 3, 4]).Dims.ShouldBe([2, 12]);
        BroadcastGeometry.Of([], [2, 3]).Strides.ShouldBe([0]);
    }

    [Fact]
    public void Shapes_that_do_not_broadcast_are_refused()
    {
        Should.Throw<ArgumentException>(() => BroadcastGeometry.Of([3, 2], [3, 4])).Message.ShouldContain("does not broadcast");
        Should.Throw<ArgumentException>(() => BroadcastGeometry.Of([1, 3, 4], [3, 4]));
    }

    [Fact]
    public void Divide_matches_the_reference()
    {
        var a = TestData.Normal(37, 3);
        var b = TestData.Normal(37, 4).Select(v => v + MathF.CopySign(0.5f, v)).ToArray();
        var y = new float[37];
        Elementwise.Divide(a, b, y);
        var expected = new double[37];
        ElementwiseReference.Divide<double>(TestData.ToDouble(a), TestData.ToDouble(b), expected);
        Close.All(y, expected, Close.U, 0, "divide");
    }
}
