using Dlc.Backend.Kernels;
using Dlc.Backend.Kernels.Reference;
using Dlc.Backend.Tests.Support;

namespace Dlc.Backend.Tests.Kernels;

public class DropoutTests
{
    public static TheoryData<int> Sizes() => TestData.SizeData();

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Dropout_writes_a_scaled_mask_and_matches_the_reference_given_that_mask(int n)
    {
        const float p = 0.3f;
        var x = TestData.Normal(n, 1);
        var mask = new float[n];
        var y = new float[n];
        DropoutKernels.Dropout(x, mask, y, p, new Rng(5));
        foreach (var value in mask) (value == 0f || value == 1f / (1f - p)).ShouldBeTrue($"mask value {value}");

        // One multiplication each: the reference in double agrees to half an ulp.
        var ry = new double[n];
        DropoutReference.Dropout<double>(TestData.ToDouble(x), TestData.ToDouble(mask), ry);
        Close.All(y, ry, Close.U, 0, "dropout");
        var dy = TestData.Normal(n, 2);
        var dx = new float[n];
        DropoutKernels.DropoutBackward(dy, mask, dx);
        var rdx = new double[n];
        DropoutReference.DropoutBackward<double>(TestData.ToDouble(dy), TestData.ToDouble(mask), rdx);
        Close.All(dx, rdx, Close.U, 0, "dropout backward");
    }

    [Fact]
    public void Dropout_keeps_about_one_minus_p_of_the_elements_and_repeats_for_a_seed()
    {
        const int n = 100_000;
        const float p = 0.25f;
        var x = Enumerable.Repeat(1f, n).ToArray();
        var mask = new float[n];
        var y = new float[n];
        DropoutKernels.Dropout(x, mask, y, p, new Rng(9));
        var kept = mask.Count(v => v != 0f);
        // Binomial(n, 0.75): standard deviation √(n·p·(1 − p)) ≈ 137; 5σ leaves no room for flakiness.
        Math.Abs(kept - 0.75 * n).ShouldBeLessThan(5 * Math.Sqrt(n * 0.25 * 0.75));
        // Inverted dropout keeps the expected value: mean of y ≈ 1.
        y.Average().ShouldBe(1f, 0.01);

        var again = new float[n];
        DropoutKernels.Dropout(x, again, new float[n], p, new Rng(9));
        again.ShouldBe(mask);
    }

    [Fact]
    public void Probability_zero_keeps_everything_and_one_drops_everything()
    {
        var x = TestData.Normal(33, 3);
        var mask = new float[33];
        var y = new float[33];
        DropoutKernels.Dropout(x, mask, y, 0f, new Rng(1));
        y.ShouldBe(x);
        mask.ShouldAllBe(v => v == 1f);
        DropoutKernels.Dropout(x, mask, y, 1f, new Rng(1));
        y.ShouldAllBe(v => v == 0f);
        mask.ShouldAllBe(v => v == 0f);
        Should.Throw<ArgumentOutOfRangeException>(() => DropoutKernels.Dropout(x, mask, y, 1.5f, new Rng(1)));
        Should.Throw<ArgumentOutOfRangeException>(() => DropoutKernels.Dropout(x, mask, y, float.NaN, new Rng(1)));
    }
}

public class MetricsTests
{
    public static TheoryData<int, int> Matrices() => TestData.MatrixData();

    [Theory]
    [MemberData(nameof(Matrices))]
    public void Argmax_and_correct_count_match_the_reference(int rows, int cols)
    {
        var logits = TestData.Normal(rows * cols, 4);
        var labels = TestData.Labels(rows, cols, 5);
        var indices = new int[rows];
        Metrics.ArgMaxRows(logits, indices, rows, cols);
        var expected = new int[rows];
        MetricsReference.ArgMaxRows<double>(TestData.ToDouble(logits), expected, rows, cols);
        indices.ShouldBe(expected);
        Metrics.CountCorrect(logits, labels, rows, cols)
            .ShouldBe(MetricsReference.CountCorrect<double>(TestData.ToDouble(logits), TestData.ToDouble(labels), rows, cols));
    }

    [Fact]
    public void The_first_maximum_wins_and_nan_counts_as_the_maximum_as_in_torch()
    {
        float[] logits = [1f, 3f, 3f, 0f, /**/ 2f, float.NaN, 5f, float.NaN, /**/ -1f, -1f, -1f, -1f];
        var indices = new int[3];
        Metrics.ArgMaxRows(logits, indices, 3, 4);
        indices.ShouldBe([1, 1, 0]);
        var reference = new int[3];
        MetricsReference.ArgMaxRows<float>(logits, reference, 3, 4);
        reference.ShouldBe([1, 1, 0]);
        Metrics.CountCorrect(logits, [1f, 2f, 0f], 3, 4).ShouldBe(2);
    }

    [Fact]
    public void Accuracy_skips_padding_positions()
    {
        float[] logits = [1f, 3f, 0f, /**/ 2f, 0f, 1f, /**/ 0f, 0f, 9f, /**/ 5f, 0f, 0f];
        // Row 1 would be right and row 3 wrong, but both are padding.
        float[] labels = [1f, Losses.IgnoreLabel, 0f, Losses.IgnoreLabel];
        Metrics.CountCorrect(logits, labels, 4, 3).ShouldBe(1);
        Metrics.CountLabelled(labels).ShouldBe(2);
        Metrics.CountTopK(logits, labels, 4, 3, 2).ShouldBe(2);
        MetricsReference.CountCorrect<float>(logits, labels, 4, 3).ShouldBe(1);
    }

    [Fact]
    public void Top_k_counts_a_label_with_fewer_than_k_higher_scores()
    {
        float[] logits = [0.1f, 0.5f, 0.3f, 0.2f, /**/ 4f, 3f, 2f, 1f, /**/ 1f, 1f, 1f, float.NaN];
        // Row 0: label 3 (0.2) has two higher scores; row 1: label 3 has three; row 2: label 0 ties and a NaN is higher.
        float[] labels = [3f, 3f, 0f];
        Metrics.CountTopK(logits, labels, 3, 4, 1).ShouldBe(0);
        Metrics.CountTopK(logits, labels, 3, 4, 2).ShouldBe(1);
        Metrics.CountTopK(logits, labels, 3, 4, 3).ShouldBe(2);
        Metrics.CountTopK(logits, labels, 3, 4, 4).ShouldBe(3);
        // Top-1 is plain accuracy whenever the best score is unique.
        Metrics.CountTopK(logits, [1f, 0f, 0f], 3, 4, 1).ShouldBe(2);
    }
}
