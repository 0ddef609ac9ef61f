using System.Numerics;

namespace Dlc.Backend.Kernels.Reference;

/// <summary>
/// Definitions of <see cref="Activations"/> in plain loops, generic so the gradient checker can run them in
/// double. Same arguments and shapes ([N]) as the fast kernels; backward overwrites dx.
/// </summary>
public static class ActivationsReference
{
    public static void Relu<T>(ReadOnlySpan<T> x, Span<T> y) where T : IFloatingPointIeee754<T>
    {
        Shapes.Same(x.Length, y.Length, nameof(y));
        for (var i = 0; i < x.Length; i++) y[i] = T.IsNaN(x[i]) ? x[i] : T.Max(x[i], T.Zero);
    }

    public static void ReluBackward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> dy, Span<T> dx) where T : IFloatingPointIeee754<T>
    {
        Same(x, dy, dx);
        for (var i = 0; i < x.Length; i++) dx[i] = x[i] > T.Zero ? dy[i] : T.Zero;
    }

    public static void Sigmoid<T>(ReadOnlySpan<T> x, Span<T> y) where T : IFloatingPointIeee754<T>
    {
        Shapes.Same(x.Length, y.Length, nameof(y));
        for (var i = 0; i < x.Length; i++) y[i] = T.One / (T.One + T.Exp(-x[i]));
    }

    public static void SigmoidBackward<T>(ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx) where T : IFloatingPointIeee754<T>
    {
        Same(y, dy, dx);
        for (var i = 0; i < y.Length; i++) dx[i] = dy[i] * (T.One - y[i]) * y[i];
    }

    public static void Tanh<T>(ReadOnlySpan<T> x, Span<T> y) where T : IFloatingPointIeee754<T>
    {
        Shapes.Same(x.Length, y.Length, nameof(y));
        for (var i = 0; i < x.Length; i++) y[i] = T.Tanh(x[i]);
    }

    public static void TanhBackward<T>(ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx) where T : IFloatingPointIeee754<T>
    {
        Same(y, dy, dx);
        for (var i = 0; i < y.Length; i++) dx[i] = dy[i] * (T.One - y[i] * y[i]);
    }

    /// <summary>y = 0.5·x·(1 + erf(x/√2)).</summary>
    public static void Gelu<T>(ReadOnlySpan<T> x, Span<T> y) where T : IFloatingPointIeee754<T>
    {
        Shapes.Same(x.Length, y.Length, nameof(y));
        var half = T.CreateChecked(0.5);
        for (var i = 0; i < x.Length; i++) y[i] = half * x[i] * (T.One + Erf(x[i] / T.Sqrt(T.CreateChecked(2))));
    }

    /// <summary>dx = dy·(Φ(x) + x·φ(x)), Φ the standard normal CDF and φ its density.</summary>
    public static void GeluBackward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> dy, Span<T> dx) where T : IFloatingPointIeee754<T>
    {
        Same(x, dy, dx);
        var half = T.CreateChecked(0.5);
        var sqrt2 = T.Sqrt(T.CreateChecked(2));
        var invSqrt2Pi = T.One / T.Sqrt(T.CreateChecked(2) * T.Pi);
        for (var i = 0; i < x.Length; i++)
        {
            var cdf = half * (T.One + Erf(x[i] / sqrt2));
            var pdf = invSqrt2Pi * T.Exp(-half * x[i] * x[i]);
            dx[i] = dy[i] * (cdf + x[i] * pdf);
        }
    }

    /// <summary>erf at double precision (Cody), carried over to T.</summary>
    public static T Erf<T>(T x) where T : IFloatingPointIeee754<T> =>
        T.CreateChecked(ErrorFunction.Erf(double.CreateChecked(x)));

    private static void Same<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y)
    {
        Shapes.Same(a.Length, b.Length, "dy");
        Shapes.Same(a.Length, y.Length, "dx");
    }
}
