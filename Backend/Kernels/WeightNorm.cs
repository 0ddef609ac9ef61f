using System.Numerics.Tensors;

namespace Dlc.Backend.Kernels;

/// <summary>
/// Weight normalisation over the rows of a weight v [K, P] (P the product of the axes after the first):
/// w[k] = g[k] · v[k] / ‖v[k]‖, and its gradients. Each row is a contiguous span, so every pass is a vectorised
/// dot product or scale. The weights are parameters, small next to the activations, and run single-threaded.
/// </summary>
public static class WeightNorm
{
    /// <summary>w[k] = g[k] · v[k] / ‖v[k]‖. v, w: [K, P]; g: [K].</summary>
    public static void Forward(ReadOnlySpan<float> v, ReadOnlySpan<float> g, Span<float> w)
    {
        var (rows, per) = Rows(v, g, w.Length);
        for (var k = 0; k < rows; k++)
        {
            var row = v.Slice(k * per, per);
            TensorPrimitives.Multiply(row, g[k] / Norm(row), w.Slice(k * per, per));
        }
    }

    /// <summary>dv[k] = g[k] / ‖v[k]‖ · (dw[k] − (dw[k] · û) û), û = v[k] / ‖v[k]‖. v, dw, dv: [K, P]; g: [K].</summary>
    public static void DirectionGrad(ReadOnlySpan<float> v, ReadOnlySpan<float> g, ReadOnlySpan<float> dw, Span<float> dv)
    {
        var (rows, per) = Rows(v, g, dv.Length);
        Shapes.Same(v.Length, dw.Length, nameof(dw));
        for (var k = 0; k < rows; k++)
        {
            var row = v.Slice(k * per, per);
            var grad = dw.Slice(k * per, per);
            var target = dv.Slice(k * per, per);
            var norm = Norm(row);
            // dv = (g/‖v‖)·dw − (g·(dw·v)/‖v‖³)·v, one multiply-add over the row.
            var along = TensorPrimitives.Dot(grad, row) / (norm * norm);
            var scale = g[k] / norm;
            TensorPrimitives.MultiplyAdd(row, -along, grad, target);
            TensorPrimitives.Multiply(target, scale, target);
        }
    }

    /// <summary>dg[k] = dw[k] · v[k] / ‖v[k]‖. v, dw: [K, P]; dg: [K].</summary>
    public static void ScaleGrad(ReadOnlySpan<float> v, ReadOnlySpan<float> dw, Span<float> dg)
    {
        var (rows, per) = Rows(v, dg, dw.Length);
        for (var k = 0; k < rows; k++)
        {
            var row = v.Slice(k * per, per);
            dg[k] = TensorPrimitives.Dot(dw.Slice(k * per, per), row) / Norm(row);
        }
    }

    private static float Norm(ReadOnlySpan<float> row) => MathF.Sqrt(TensorPrimitives.Dot(row, row));

    private static (int Rows, int Per) Rows(ReadOnlySpan<float> v, ReadOnlySpan<float> g, int other)
    {
        Shapes.Same(v.Length, other, "w");
        if (g.Length == 0 || v.Length % g.Length != 0)
            throw new ArgumentException($"a weight of {v.Length} numbers does not split into {g.Length} rows");
        return (g.Length, v.Length / g.Length);
    }
}
