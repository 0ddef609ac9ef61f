using Dlc.Backend.Kernels;
using Dlc.Backend.Kernels.Reference;
using Dlc.Backend.Tests.Support;

namespace Dlc.Backend.Tests.Kernels;

/// <summary>
/// Losses (float) against the double reference. Cross-entropy rows are log Σ exp − x[label]: the log-sum-exp
/// errs by (C + 4)·u absolute plus half-ulps of values below 64 (as in SoftmaxTests), and the mean is taken in
/// double, so the loss is within that absolute bound; its gradient is softmax − onehot scaled by dLoss/R, with
/// softmax's relative bound. MSE sums squares in float chunks of 256 added in double: (256 + 4)·u relative.
/// </summary>
public class LossTests
{
    public static TheoryData<string, int, int> Cases() => SoftmaxTests.Cases();

    [Theory]
    [MemberData(nameof(Cases))]
    public void Softmax_cross_entropy_and_its_gradient_match_the_reference(string path, int rows, int cols) => MathPath.Run(path, () =>
    {
        var logits = TestData.Normal(rows * cols, 7, std: 4f);
        var labels = TestData.Labels(rows, cols, 8);
        var loss = Losses.SoftmaxCrossEntropy(logits, labels, rows, cols);
        var expected = LossesReference.SoftmaxCrossEntropy<double>(TestData.ToDouble(logits), TestData.ToDouble(labels), rows, cols);
        Close.Scalar(loss, expected, 2 * Close.U, (cols + 4) * Close.U + 4 * 64 * Close.U, "cross entropy");

        const float dLoss = 0.7f;
        var grad = new float[logits.Length];
        Losses.SoftmaxCrossEntropyBackward(logits, labels, dLoss, grad, rows, cols);
        var rgrad = new double[logits.Length];
        LossesReference.SoftmaxCrossEntropyBackward<double>(TestData.ToDouble(logits), TestData.ToDouble(labels), dLoss, rgrad, rows, cols);
        // softmax − 1 at the label cancels: absolute error up to the softmax bound times dLoss/R.
        Close.All(grad, rgrad, (cols + 44) * Close.U, (cols + 44) * Close.U * dLoss / rows, "cross entropy backward");
    });

    [Theory]
    [MemberData(nameof(Cases))]
    public void Loss_with_gradient_in_one_pass_matches_the_reference_and_the_separate_kernels(string path, int rows, int cols) =>
        MathPath.Run(path, () => CheckLossWithGradient(rows, cols));

    // Rows spread over several exp blocks (3000 logits), and rows longer than the loss-only scratch.
    [Theory]
    [InlineData(300, 10)]
    [InlineData(2, 3000)]
    public void Loss_with_gradient_matches_the_reference_over_several_blocks_and_very_long_rows(int rows, int cols) =>
        CheckLossWithGradient(rows, cols);

    // Short rows (plain loops), rows of TensorPrimitives calls, rows longer than the loss-only scratch; padding rows.
    [Theory]
    [InlineData(17, 10, 0.1f)]
    [InlineData(40, 37, 0.25f)]
    [InlineData(3, 3000, 0.1f)]
    public void Label_smoothing_matches_the_reference_and_mixes_the_label_with_the_uniform_target(int rows, int cols, float smoothing)
    {
        var logits = TestData.Normal(rows * cols, 31, std: 3f);
        var labels = TestData.Labels(rows, cols, 32);
        for (var r = 0; r < rows; r += 4) labels[r] = Losses.IgnoreLabel;
        var (dLogits, dLabels) = (TestData.ToDouble(logits), TestData.ToDouble(labels));

        const float dLoss = 0.8f;
        var grad = new float[logits.Length];
        var loss = Losses.SoftmaxCrossEntropyWithGradient(logits, labels, dLoss, grad, rows, cols, smoothing);
        var expected = LossesReference.SoftmaxCrossEntropy<double>(dLogits, dLabels, rows, cols, smoothing);
        Close.Scalar(loss, expected, 2 * Close.U, (cols + 4) * Close.U + 4 * 64 * Close.U, "smoothed cross entropy");
        Close.Scalar(Losses.SoftmaxCrossEntropy(logits, labels, rows, cols, smoothing), loss, 4 * Close.U, 4 * Close.U, "smoothed loss alone");

        // (1 − ε)·cross-entropy + ε·(mean over classes of −log p), worked out here from log p directly.
        var (plain, uniform, labelled) = (0.0, 0.0, 0);
        for (var r = 0; r < rows; r++)
        {
            if (labels[r] < 0) continue;
            var row = dLogits.AsSpan(r * cols, cols);
            var lse = Math.Log(row.ToArray().Sum(x => Math.Exp(x)));
            plain += lse - row[(int)labels[r]];
            uniform += row.ToArray().Average(x => lse - x);
            labelled++;
        }
        double eps = smoothing;
        expected.ShouldBe(((1 - eps) * plain + eps * uniform) / labelled, 1e-9);

        var rgrad = new double[logits.Length];
        LossesReference.SoftmaxCrossEntropyBackward<double>(dLogits, dLabels, dLoss, rgrad, rows, cols, smoothing);
        Close.All(grad, rgrad, (cols + 44) * Close.U, (cols + 44) * Close.U * dLoss / rows, "smoothed cross entropy backward");
        var apart = new float[logits.Length];
        Losses.SoftmaxCrossEntropyBackward(logits, labels, dLoss, apart, rows, cols, smoothing);
        apart.ShouldBe(grad);
        // The target sums to one, so each labelled row's gradient sums to zero; padding rows get none.
        for (var r = 0; r < rows; r++)
            rgrad.AsSpan(r * cols, cols).ToArray().Sum().ShouldBe(0, 1e-12);
    }

    [Fact]
    public void The_gradient_may_overwrite_the_logits()
    {
        var logits = TestData.Normal(13 * 10, 11, std: 3f);
        var labels = TestData.Labels(13, 10, 12);
        var apart = new float[logits.Length];
        var loss = Losses.SoftmaxCrossEntropyWithGradient(logits, labels, 1.5f, apart, 13, 10);
        var inPlace = (float[])logits.Clone();
        Losses.SoftmaxCrossEntropyWithGradient(inPlace, labels, 1.5f, inPlace, 13, 10).ShouldBe(loss);
        inPlace.ShouldBe(apart);
    }

    [Theory]
    [InlineData(17, 12)]
    [InlineData(300, 10)]
    [InlineData(3, 3000)]
    public void Ignored_rows_are_left_out_of_the_mean_and_get_no_gradient_as_torch_ignore_index(int rows, int cols)
    {
        var logits = TestData.Normal(rows * cols, 21, std: 3f);
        var labels = TestData.Labels(rows, cols, 22);
        // Every third row is padding.
        for (var r = 0; r < rows; r += 3) labels[r] = Losses.IgnoreLabel;
        var kept = Enumerable.Range(0, rows).Where(r => r % 3 != 0).ToArray();
        var keptLogits = kept.SelectMany(r => logits.Skip(r * cols).Take(cols)).ToArray();
        var keptLabels = kept.Select(r => labels[r]).ToArray();

        const float dLoss = 0.9f;
        var grad = new float[logits.Length];
        var loss = Losses.SoftmaxCrossEntropyWithGradient(logits, labels, dLoss, grad, rows, cols);
        var expected = LossesReference.SoftmaxCrossEntropy<double>(TestData.ToDouble(keptLogits), TestData.ToDouble(keptLabels), kept.Length, cols);
        Close.Scalar(loss, expected, 2 * Close.U, (cols + 4) * Close.U + 4 * 64 * Close.U, "masked cross entropy");
        Close.Scalar(Losses.SoftmaxCrossEntropy(logits, labels, rows, cols), loss, 4 * Close.U, 4 * Close.U, "masked loss alone");
        LossesReference.SoftmaxCrossEntropy<double>(TestData.ToDouble(logits), TestData.ToDouble(labels), rows, cols).ShouldBe(expected, 1e-12);

        var keptGrad = new double[keptLogits.Length];
        LossesReference.SoftmaxCrossEntropyBackward<double>(TestData.ToDouble(keptLogits), TestData.ToDouble(keptLabels), dLoss, keptGrad, kept.Length, cols);
        for (var r = 0; r < rows; r++)
        {
            var row = grad.AsSpan(r * cols, cols).ToArray();
            if (r % 3 == 0) row.ShouldAllBe(g => g == 0f);
            else Close.All(row, keptGrad.AsSpan(Array.IndexOf(kept, r) * cols, cols).ToArray(), (cols + 44) * Close.U, (cols + 44) * Close.U * dLoss / kept.Length, "masked gradient");
        }
        var reference = new double[logits.Length];
        LossesReference.SoftmaxCrossEntropyBackward<double>(TestData.ToDouble(logits), TestData.ToDouble(labels), dLoss, reference, rows, cols);
        Close.All(grad, reference, (cols + 44) * Close.U, (cols + 44) * Close.U * dLoss / kept.Length, "masked gradient against the reference");
    }

    [Fact]
    public void A_batch_of_padding_only_has_loss_zero_and_no_gradient()
    {
        var logits = TestData.Normal(4 * 5, 23, std: 2f);
        var labels = Enumerable.Repeat(Losses.IgnoreLabel, 4).ToArray();
        var grad = new float[logits.Length];
        Losses.SoftmaxCrossEntropyWithGradient(logits, labels, 1f, grad, 4, 5).ShouldBe(0f);
        grad.ShouldAllBe(g => g == 0f);
        Losses.SoftmaxCrossEntropy(logits, labels, 4, 5).ShouldBe(0f);
    }

    [Fact]
    public void A_label_that_is_neither_a_class_nor_the_ignore_label_is_an_error()
    {
        var logits = new float[2 * 3];
        Should.Throw<ArgumentException>(() => Losses.SoftmaxCrossEntropy(logits, [0f, -2f], 2, 3)).Message.ShouldContain("Label -2 in row 1");
    }

    private static void CheckLossWithGradient(int rows, int cols)
    {
        var logits = TestData.Normal(rows * cols, 13, std: 4f);
        var labels = TestData.Labels(rows, cols, 14);
        const float dLoss = 0.7f;
        var grad = new float[logits.Length];
        var loss = Losses.SoftmaxCrossEntropyWithGradient(logits, labels, dLoss, grad, rows, cols);
        var expected = LossesReference.SoftmaxCrossEntropy<double>(TestData.ToDouble(logits), TestData.ToDouble(labels), rows, cols);
        Close.Scalar(loss, expected, 2 * Close.U, (cols + 4) * Close.U + 4 * 64 * Close.U, "cross entropy");
        var rgrad = new double[logits.Length];
        LossesReference.SoftmaxCrossEntropyBackward<double>(TestData.ToDouble(logits), TestData.ToDouble(labels), dLoss, rgrad, rows, cols);
        Close.All(grad, rgrad, (cols + 44) * Close.U, (cols + 44) * Close.U * dLoss / rows, "cross entropy gradient");

        // The separate kernels are the same computation (the loss alone sums very long rows in chunks).
        Close.Scalar(Losses.SoftmaxCrossEntropy(logits, labels, rows, cols), loss, 4 * Close.U, 4 * Close.U, "loss alone");
        var separate = new float[logits.Length];
        Losses.SoftmaxCrossEntropyBackward(logits, labels, dLoss, separate, rows, cols);
        separate.ShouldBe(grad);
    }

    [Theory]
    [MemberData(nameof(SizeData))]
    public void Mse_and_its_gradient_match_the_reference(int n)
    {
        var pred = TestData.Normal(n, 9);
        var target = TestData.Normal(n, 10);
        var loss = Losses.Mse(pred, target);
        var expected = LossesReference.Mse<double>(TestData.ToDouble(pred), TestData.ToDouble(target));
        Close.Scalar(loss, expected, 260 * Close.U, 0, "mse");

        var grad = new float[n];
        Losses.MseBackward(pred, target, 1.3f, grad);
        var rgrad = new double[n];
        LossesReference.MseBackward<double>(TestData.ToDouble(pred), TestData.ToDouble(target), 1.3, rgrad);
        Close.All(grad, rgrad, 4 * Close.U, 0, "mse backward");
    }

    public static TheoryData<int> SizeData() => TestData.SizeData();

    [Fact]
    public void Cross_entropy_of_equal_logits_is_log_of_the_class_count()
    {
        var loss = Losses.SoftmaxCrossEntropy(new float[2 * 10], [3f, 9f], 2, 10);
        Close.Scalar(loss, Math.Log(10), 2e-7, 0, "ln 10");
        var grad = new float[20];
        Losses.SoftmaxCrossEntropyBackward(new float[20], [3f, 9f], 1f, grad, 2, 10);
        // (0.1 − onehot)/2
        grad[0].ShouldBe(0.05f, 1e-7);
        grad[3].ShouldBe(-0.45f, 1e-7);
        grad[19].ShouldBe(-0.45f, 1e-7);
    }

    [Fact]
    public void Mse_of_a_hand_computed_pair_and_its_gradient()
    {
        // ((1 − 0)² + (2 − 4)²)/2 = 2.5; d/dpred = 2·(pred − target)/2 = [1, −2].
        Losses.Mse([1f, 2f], [0f, 4f]).ShouldBe(2.5f);
        var grad = new float[2];
        Losses.MseBackward([1f, 2f], [0f, 4f], 1f, grad);
        grad.ShouldBe([1f, -2f]);
    }

    [Fact]
    public void Labels_outside_the_classes_or_not_whole_are_refused()
    {
        Should.Throw<ArgumentException>(() => Losses.SoftmaxCrossEntropy(new float[6], [0f, 3f], 2, 3)).Message.ShouldContain("row 1");
        Should.Throw<ArgumentException>(() => Losses.SoftmaxCrossEntropy(new float[6], [0.5f, 1f], 2, 3));
        // −1 is the ignore label (a padding position); other negative labels are errors.
        Should.Throw<ArgumentException>(() => Losses.SoftmaxCrossEntropy(new float[6], [-3f, 1f], 2, 3));
    }
}
