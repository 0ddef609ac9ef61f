using Dlc.Backend.Kernels;
using Dlc.Backend.Kernels.Reference;
using Dlc.Backend.Tests.Support;

namespace Dlc.Backend.Tests.Kernels;

/// <summary>
/// Each fast activation (float) against its reference in double on the same float inputs, over every size
/// in TestData.Sizes and on both math paths ("mkl" returns early without MKL unless DLC_REQUIRE_MKL=1).
/// Tolerances: Relu is exact. The smooth ones are a handful of float roundings from the truth, so rtol 1e-6
/// (≈ 8 ulps); atol covers 1 − y and 1 + erf near cancellation, where the absolute error is a few ulps of 1
/// times |x| or |dy| (inputs stay below 8): 1e-6.
/// </summary>
public class ActivationTests
{
    private const double Rtol = 1e-6, Atol = 1e-6;

    public static TheoryData<string, int> Cases()
    {
        var data = new TheoryData<string, int>();
        foreach (var path in new[] { "managed", "mkl" })
            foreach (var size in TestData.Sizes) data.Add(path, size);
        return data;
    }

    private static float[] Inputs(int n)
    {
        var x = TestData.Normal(n, (ulong)n, std: 3f);
        x[0] = 0f; // exactly at the Relu kink: gradient 0 as in torch
        return x;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Relu_and_its_gradient_equal_the_reference_exactly(string path, int n) => MathPath.Run(path, () =>
    {
        var x = Inputs(n);
        var dy = TestData.Normal(n, 99);
        var y = new float[n];
        var dx = new float[n];
        Activations.Relu(x, y);
        Activations.ReluBackward(x, dy, dx);
        var ry = new double[n];
        var rdx = new double[n];
        ActivationsReference.Relu<double>(TestData.ToDouble(x), ry);
        ActivationsReference.ReluBackward<double>(TestData.ToDouble(x), TestData.ToDouble(dy), rdx);
        Close.All(y, ry, 0, 0, "relu");
        Close.All(dx, rdx, 0, 0, "relu backward");
    });

    [Theory]
    [MemberData(nameof(Cases))]
    public void Sigmoid_and_its_gradient_match_the_reference(string path, int n) =>
        Compare(path, n, Activations.Sigmoid, ActivationsReference.Sigmoid, Activations.SigmoidBackward,
            ActivationsReference.SigmoidBackward, gradientFromOutput: true);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Tanh_and_its_gradient_match_the_reference(string path, int n) =>
        Compare(path, n, Activations.Tanh, ActivationsReference.Tanh, Activations.TanhBackward,
            ActivationsReference.TanhBackward, gradientFromOutput: true);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Gelu_and_its_gradient_match_the_exact_erf_reference(string path, int n) =>
        Compare(path, n, Activations.Gelu, ActivationsReference.Gelu, Activations.GeluBackward,
            ActivationsReference.GeluBackward, gradientFromOutput: false);

    [Fact]
    public void Gelu_reproduces_values_computed_by_hand_from_the_erf_definition()
    {
        // 0.5·x·(1 + erf(x/√2)): erf(1/√2) = 0.68268949213708590, erf(2/√2) = 0.95449973610364158.
        float[] x = [1f, -1f, 2f, 0f];
        var y = new float[4];
        Activations.Gelu(x, y);
        Close.All(y, [0.84134474606854295, -0.15865525393145705, 1.9544997361036416, 0.0], 2e-7, 0, "gelu");
    }

    [Fact]
    public void Forward_activations_may_write_over_their_input()
    {
        var x = TestData.Normal(37, 3, std: 3f);
        var expected = new float[37];
        Activations.Gelu(x, expected);
        var inPlace = (float[])x.Clone();
        Activations.Gelu(inPlace, inPlace);
        inPlace.ShouldBe(expected);
    }

    [Fact]
    public void Mismatched_lengths_are_refused()
    {
        Should.Throw<ArgumentException>(() => Activations.Relu(new float[3], new float[4]));
        Should.Throw<ArgumentException>(() => Activations.GeluBackward(new float[3], new float[3], new float[2]));
    }

    private delegate void Forward(ReadOnlySpan<float> x, Span<float> y);
    private delegate void Backward(ReadOnlySpan<float> a, ReadOnlySpan<float> dy, Span<float> dx);
    private delegate void RefForward(ReadOnlySpan<double> x, Span<double> y);
    private delegate void RefBackward(ReadOnlySpan<double> a, ReadOnlySpan<double> dy, Span<double> dx);

    /// <summary>Forward, then backward fed either the forward output (sigmoid, tanh) or the input (gelu).</summary>
    private static void Compare(string path, int n, Forward forward, RefForward refForward, Backward backward,
        RefBackward refBackward, bool gradientFromOutput) => MathPath.Run(path, () =>
    {
        var x = Inputs(n);
        var dy = TestData.Normal(n, 77);
        var y = new float[n];
        forward(x, y);
        var ry = new double[n];
        refForward(TestData.ToDouble(x), ry);
        Close.All(y, ry, Rtol, Atol, "forward");

        var a = gradientFromOutput ? y : x;
        var dx = new float[n];
        backward(a, dy, dx);
        var rdx = new double[n];
        refBackward(TestData.ToDouble(a), TestData.ToDouble(dy), rdx);
        Close.All(dx, rdx, Rtol, Atol, "backward");
    });
}
