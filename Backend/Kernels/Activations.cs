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
    // Temporaries live on the stack in chunks of this many floats, so the kernels never allocate.
    private const int Chunk = 256;
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

    /// <summary>Exact GELU: y = x·0.5·(1 + erf(x/√2)), evaluated in torch's order.</summary>
    public static void Gelu(ReadOnlySpan<float> x, Span<float> y)
    {
        Shapes.Same(x.Length, y.Length, nameof(y));
        Span<float> t = stackalloc float[Chunk];
        for (var start = 0; start < x.Length; start += Chunk)
        {
            var n = Math.Min(Chunk, x.Length - start);
            var xs = x.Slice(start, n);
            var ts = t[..n];
            TensorPrimitives.Multiply(xs, InvSqrt2, ts);
            VectorMath.Erf(ts, ts);
            ElementwiseMap.Binary<GeluCombine>(xs, ts, y.Slice(start, n));
        }
    }

    /// <summary>dx = dy·(Φ(x) + x·φ(x)) with Φ = 0.5·(1 + erf(x/√2)), φ = exp(−x²/2)/√(2π).</summary>
    public static void GeluBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx)
    {
        Shapes.Same(x.Length, dy.Length, nameof(dy));
        Shapes.Same(x.Length, dx.Length, nameof(dx));
        Span<float> cdf = stackalloc float[Chunk];
        Span<float> pdf = stackalloc float[Chunk];
        for (var start = 0; start < x.Length; start += Chunk)
        {
            var n = Math.Min(Chunk, x.Length - start);
            var xs = x.Slice(start, n);
            var c = cdf[..n];
            var p = pdf[..n];
            TensorPrimitives.Multiply(xs, InvSqrt2, c);
            VectorMath.Erf(c, c);
            TensorPrimitives.Multiply(xs, xs, p);
            TensorPrimitives.Multiply(p, -0.5f, p);
            VectorMath.Exp(p, p);
            var dys = dy.Slice(start, n);
            var dxs = dx.Slice(start, n);
            for (var i = 0; i < n; i++)
                dxs[i] = dys[i] * (0.5f * (1f + c[i]) + xs[i] * (InvSqrt2Pi * p[i]));
        }
    }

    /// <summary>
    /// GELU of eight values with erf in float lanes (within ~2e-7), for the fused GEMM epilogue, where a call into the
    /// vector library per tile would cost more than it saves.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Gelu8(Vector256<float> x) =>
        x * Vector256.Create(0.5f) * (Vector256<float>.One + ErrorFunction.ErfFloat8(x * Vector256.Create(InvSqrt2)));

    /// <summary>dy·GELU′(x) for eight values, as <see cref="Gelu8"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> GeluGradient8(Vector256<float> x, Vector256<float> dy)
    {
        var cdf = ErrorFunction.ErfFloat8(x * Vector256.Create(InvSqrt2));
        var pdf = FloatExp.Exp8(x * x * Vector256.Create(-0.5f));
        return dy * (Vector256.Create(0.5f) * (Vector256<float>.One + cdf) + x * (Vector256.Create(InvSqrt2Pi) * pdf));
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

    private readonly struct GeluCombine : IBinaryOp
    {
        public static Vector256<float> Apply(Vector256<float> x, Vector256<float> erf) =>
            x * Vector256.Create(0.5f) * (Vector256<float>.One + erf);

        public static float Apply(float x, float erf) => x * 0.5f * (1f + erf);
    }
}
