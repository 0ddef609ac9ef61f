using System.Runtime.CompilerServices;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace Dlc.Backend.Kernels;

/// <summary>
/// Point-wise activations and their gradients, matching PyTorch. Shape: every span is [N]. Forward kernels
/// allow y to be x itself; backward kernels overwrite dx (they do not accumulate) and allow dx to be dy.
/// </summary>
public static class Activations
{
    private const float InvSqrt2 = 0.70710678118654752440f;
    private const float InvSqrt2Pi = 0.39894228040143267794f;

    /// <summary>y = max(x, 0); NaN stays NaN as in torch.relu.</summary>
    public static void Relu(ReadOnlySpan<float> x, Span<float> y)
    {
        Shapes.Same(x.Length, y.Length, nameof(y));
        TensorPrimitives.Max(x, 0f, y);
    }

    /// <summary>dx = dy where x &gt; 0, else 0 (torch's threshold_backward).</summary>
    public static void ReluBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx) =>
        ElementwiseMap.Binary<ReluGrad>(x, dy, dx);

    /// <summary>y = 1 / (1 + exp(−x)).</summary>
    public static void Sigmoid(ReadOnlySpan<float> x, Span<float> y)
    {
        Shapes.Same(x.Length, y.Length, nameof(y));
        if (!x.IsEmpty) TensorPrimitives.Sigmoid(x, y);
    }

    /// <summary>dx = dy·(1 − y)·y, from the forward output y.</summary>
    public static void SigmoidBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx) =>
        ElementwiseMap.Binary<SigmoidGrad>(y, dy, dx);

    public static void Tanh(ReadOnlySpan<float> x, Span<float> y) => VectorMath.Tanh(x, y);

    /// <summary>dx = dy·(1 − y²), from the forward output y.</summary>
    public static void TanhBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx) =>
        ElementwiseMap.Binary<TanhGrad>(y, dy, dx);

    /// <summary>
    /// Exact GELU, y = x·Φ(x) with Φ the standard normal CDF (not the tanh approximation), in float lanes as
    /// <see cref="Gelu8"/>, so a GELU fused into a GEMM and one run on its own give the same bits.
    /// </summary>
    public static void Gelu(ReadOnlySpan<float> x, Span<float> y) => ElementwiseMap.Unary<GeluOp>(x, y);

    /// <summary>dx = dy·(Φ(x) + x·φ(x)), φ the standard normal density; as <see cref="GeluGradient8"/>.</summary>
    public static void GeluBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx) =>
        ElementwiseMap.Binary<GeluGrad>(x, dy, dx);

    /// <summary>GELU of eight values; within 3e-7·(1 + |x|) of the exact value.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Gelu8(Vector256<float> x) => x * NormalCdf8(x, out _);

    /// <summary>GELU of eight values and, in <paramref name="derivative"/>, GELU′ of them, from one evaluation of Φ.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Gelu8(Vector256<float> x, out Vector256<float> derivative)
    {
        var cdf = NormalCdf8(x, out var gauss);
        derivative = Vector256.FusedMultiplyAdd(x * gauss, Vector256.Create(InvSqrt2Pi), cdf);
        return x * cdf;
    }

    /// <summary>
    /// <see cref="Gelu8(Vector256{float}, out Vector256{float})"/> on sixteen values: the same operations, lane by lane,
    /// so the same bits (GELU's epilogue on a product's stored rows, where eight lanes a step left AVX-512 half idle).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Gelu16(Vector512<float> x, out Vector512<float> derivative)
    {
        var t = Vector512<float>.One /
            Vector512.FusedMultiplyAdd(Vector512.Abs(x), Vector512.Create(0.3275911f * InvSqrt2), Vector512<float>.One);
        var p = Vector512.FusedMultiplyAdd(Vector512.Create(0.5f * 1.061405429f), t, Vector512.Create(0.5f * -1.453152027f));
        p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(0.5f * 1.421413741f));
        p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(0.5f * -0.284496736f));
        p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(0.5f * 0.254829592f));
        var gauss = FloatExp.Exp16(x * x * Vector512.Create(-0.5f));
        var tail = p * t * gauss;
        var cdf = Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512<float>.Zero), tail, Vector512<float>.One - tail);
        derivative = Vector512.FusedMultiplyAdd(x * gauss, Vector512.Create(InvSqrt2Pi), cdf);
        return x * cdf;
    }

    /// <summary>dy·GELU′(x) for eight values, as <see cref="Gelu8"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> GeluGradient8(Vector256<float> x, Vector256<float> dy)
    {
        Gelu8(x, out var derivative);
        return dy * derivative;
    }

    /// <summary>
    /// Φ(x) for eight values, and e^(−x²/2) (√(2π) times the density) in <paramref name="gauss"/>. The upper or
    /// lower tail is erfc(|x|/√2)/2 by Abramowitz and Stegun's 7.1.26, t·P(t)·e^(−x²/2) with t = 1/(1 + p·|x|/√2),
    /// absolute error at most 1.5e-7 (PyTorch's vectorised erf is the same formula). It costs one division and one
    /// exponential, which the derivative shares with φ; the tail needs no 1 − erf, so Φ keeps its relative accuracy
    /// for negative x.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> NormalCdf8(Vector256<float> x, out Vector256<float> gauss)
    {
        var t = Vector256<float>.One /
            Vector256.FusedMultiplyAdd(Vector256.Abs(x), Vector256.Create(0.3275911f * InvSqrt2), Vector256<float>.One);
        // P's coefficients are halved (exactly: a power of two), which is the ½ of erfc(|x|/√2)/2 without a multiply.
        var p = Vector256.FusedMultiplyAdd(Vector256.Create(0.5f * 1.061405429f), t, Vector256.Create(0.5f * -1.453152027f));
        p = Vector256.FusedMultiplyAdd(p, t, Vector256.Create(0.5f * 1.421413741f));
        p = Vector256.FusedMultiplyAdd(p, t, Vector256.Create(0.5f * -0.284496736f));
        p = Vector256.FusedMultiplyAdd(p, t, Vector256.Create(0.5f * 0.254829592f));
        gauss = FloatExp.Exp8(x * x * Vector256.Create(-0.5f));
        var tail = p * t * gauss;
        return Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256<float>.Zero), tail, Vector256<float>.One - tail);
    }

    private readonly struct ReluGrad : IBinaryOp
    {
        public static Vector256<float> Apply(Vector256<float> x, Vector256<float> dy) =>
            Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<float>.Zero), dy, Vector256<float>.Zero);

        public static float Apply(float x, float dy) => x > 0f ? dy : 0f;
    }

    private readonly struct SigmoidGrad : IBinaryOp
    {
        public static Vector256<float> Apply(Vector256<float> y, Vector256<float> dy) => dy * (Vector256<float>.One - y) * y;

        public static float Apply(float y, float dy) => dy * (1f - y) * y;
    }

    private readonly struct TanhGrad : IBinaryOp
    {
        public static Vector256<float> Apply(Vector256<float> y, Vector256<float> dy) => dy * (Vector256<float>.One - y * y);

        public static float Apply(float y, float dy) => dy * (1f - y * y);
    }

    private readonly struct GeluOp : IUnaryOp
    {
        public static Vector256<float> Apply(Vector256<float> x) => Gelu8(x);

        public static float Apply(float x) => Gelu8(Vector256.Create(x)).ToScalar();
    }

    private readonly struct GeluGrad : IBinaryOp
    {
        public static Vector256<float> Apply(Vector256<float> x, Vector256<float> dy) => GeluGradient8(x, dy);

        public static float Apply(float x, float dy) => GeluGradient8(Vector256.Create(x), Vector256.Create(dy)).ToScalar();
    }
}
