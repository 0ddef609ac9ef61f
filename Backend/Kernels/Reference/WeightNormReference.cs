using System.Numerics;

namespace Dlc.Backend.Kernels.Reference;

/// <summary>Plain loops for weight normalisation over the rows of v [K, P]: the definition the fast kernel is tested against.</summary>
public static class WeightNormReference
{
    /// <summary>w[k, i] = g[k] · v[k, i] / ‖v[k]‖.</summary>
    public static void Forward<T>(ReadOnlySpan<T> v, ReadOnlySpan<T> g, Span<T> w) where T : IFloatingPointIeee754<T>
    {
        var per = v.Length / g.Length;
        for (var k = 0; k < g.Length; k++)
        {
            var norm = Norm(v.Slice(k * per, per));
            for (var i = 0; i < per; i++) w[k * per + i] = g[k] * v[k * per + i] / norm;
        }
    }

    /// <summary>dv[k, i] = g[k] / ‖v[k]‖ · dw[k, i] − g[k] · (Σ dw[k] · v[k]) / ‖v[k]‖³ · v[k, i].</summary>
    public static void DirectionGrad<T>(ReadOnlySpan<T> v, ReadOnlySpan<T> g, ReadOnlySpan<T> dw, Span<T> dv) where T : IFloatingPointIeee754<T>
    {
        var per = v.Length / g.Length;
        for (var k = 0; k < g.Length; k++)
        {
            var norm = Norm(v.Slice(k * per, per));
            var dot = T.Zero;
            for (var i = 0; i < per; i++) dot += dw[k * per + i] * v[k * per + i];
            for (var i = 0; i < per; i++)
                dv[k * per + i] = g[k] / norm * dw[k * per + i] - g[k] * dot / (norm * norm * norm) * v[k * per + i];
        }
    }

    /// <summary>dg[k] = Σ dw[k, i] · v[k, i] / ‖v[k]‖.</summary>
    public static void ScaleGrad<T>(ReadOnlySpan<T> v, ReadOnlySpan<T> dw, Span<T> dg) where T : IFloatingPointIeee754<T>
    {
        var per = v.Length / dg.Length;
        for (var k = 0; k < dg.Length; k++)
        {
            var norm = Norm(v.Slice(k * per, per));
            var dot = T.Zero;
            for (var i = 0; i < per; i++) dot += dw[k * per + i] * v[k * per + i];
            dg[k] = dot / norm;
        }
    }

    private static T Norm<T>(ReadOnlySpan<T> row) where T : IFloatingPointIeee754<T>
    {
        var squares = T.Zero;
        foreach (var x in row) squares += x * x;
        return T.Sqrt(squares);
    }
}
