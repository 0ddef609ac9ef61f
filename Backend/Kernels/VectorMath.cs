using System.Numerics.Tensors;
using Dlc.Backend.Native;

namespace Dlc.Backend.Kernels;

/// <summary>
/// Element-wise transcendental functions for the kernels: Intel MKL's VML (high-accuracy mode) when MKL is
/// available, otherwise TensorPrimitives (exp, ln), <see cref="TanhMath"/> and <see cref="ErrorFunction"/>.
/// Both paths are within a few float ulps of each other; the choice only moves speed. Each call is
/// y = f(x), with y of x's length and either the same memory as x or not overlapping it.
/// </summary>
public static class VectorMath
{
    private static volatile bool s_useMkl = Mkl.IsAvailable;

    // Per-thread override so tests can run both paths side by side without racing on the global switch.
    [ThreadStatic] private static int t_force;

    /// <summary>Process-wide choice of MKL VML; defaults to MKL's availability. Setting true without MKL throws.</summary>
    public static bool UseMkl
    {
        get => s_useMkl;
        set
        {
            if (value) Mkl.EnsureAvailable();
            s_useMkl = value;
        }
    }

    /// <summary>Whether calls on this thread go to MKL.</summary>
    internal static bool MklActive => t_force == 0 ? s_useMkl : t_force == 2;

    /// <summary>Routes this thread's calls to MKL or to the managed code until the scope is disposed.</summary>
    internal static Scope Force(bool mkl)
    {
        if (mkl) Mkl.EnsureAvailable();
        var previous = t_force;
        t_force = mkl ? 2 : 1;
        return new Scope(previous);
    }

    internal readonly struct Scope(int previous) : IDisposable
    {
        public void Dispose() => t_force = previous;
    }

    public static void Exp(ReadOnlySpan<float> x, Span<float> y)
    {
        if (!Check(x, y)) return;
        if (MklActive) Mkl.Exp(x, y);
        else TensorPrimitives.Exp(x, y);
    }

    public static void Ln(ReadOnlySpan<float> x, Span<float> y)
    {
        if (!Check(x, y)) return;
        if (MklActive) Mkl.Ln(x, y);
        else TensorPrimitives.Log(x, y);
    }

    public static void Tanh(ReadOnlySpan<float> x, Span<float> y)
    {
        if (!Check(x, y)) return;
        if (MklActive) Mkl.Tanh(x, y);
        else TanhMath.Tanh(x, y);
    }

    public static void Erf(ReadOnlySpan<float> x, Span<float> y)
    {
        if (!Check(x, y)) return;
        if (MklActive) Mkl.Erf(x, y);
        else ErrorFunction.Erf(x, y);
    }

    private static bool Check(ReadOnlySpan<float> x, Span<float> y)
    {
        if (y.Length != x.Length) throw new ArgumentException("x and y must have the same length.", nameof(y));
        return !x.IsEmpty;
    }
}
