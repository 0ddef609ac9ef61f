using System.Numerics.Tensors;

namespace Dlc.Backend.Kernels;

/// <summary>
/// How a small tensor lies inside the large one it broadcasts to, worked out once when a plan is compiled:
/// the large shape with its axes of size 1 dropped and neighbouring axes merged where they step through
/// the small tensor alike, and for each merged axis the small tensor's stride (0 where it repeats).
/// [N, 1] in [N, 5] becomes two axes {N: stride 1, 5: stride 0}; [5] in [N, T, 5] becomes {N·T: 0, 5: 1}.
/// </summary>
public sealed class BroadcastGeometry
{
    private BroadcastGeometry(int[] dims, int[] strides, int smallCount, int largeCount)
    {
        Dims = dims;
        Strides = strides;
        SmallCount = smallCount;
        LargeCount = largeCount;
    }

    /// <summary>The merged axes of the large shape, at least one.</summary>
    public int[] Dims { get; }

    /// <summary>The small tensor's stride along each merged axis; 0 along the axes it repeats.</summary>
    public int[] Strides { get; }

    public int SmallCount { get; }
    public int LargeCount { get; }

    /// <param name="small">The small shape, which must broadcast to <paramref name="large"/> (NumPy's rule).</param>
    public static BroadcastGeometry Of(int[] small, int[] large)
    {
        ArgumentNullException.ThrowIfNull(small);
        ArgumentNullException.ThrowIfNull(large);
        if (small.Length > large.Length) throw new ArgumentException($"[{string.Join(", ", small)}] has more axes than [{string.Join(", ", large)}]", nameof(small));
        var pad = large.Length - small.Length;
        var stride = 1;
        var axes = new List<(int Dim, int Stride)>();
        for (var axis = large.Length - 1; axis >= 0; axis--)
        {
            var s = axis < pad ? 1 : small[axis - pad];
            if (s != large[axis] && s != 1)
                throw new ArgumentException($"[{string.Join(", ", small)}] does not broadcast to [{string.Join(", ", large)}]", nameof(small));
            if (large[axis] != 1) axes.Add((large[axis], s == 1 ? 0 : stride));
            stride *= s;
        }
        axes.Reverse();
        var dims = new List<int>();
        var strides = new List<int>();
        foreach (var (dim, step) in axes)
        {
            // An axis merges with the outer one before it when both repeat, or when that one steps over the whole of it.
            if (dims.Count > 0 && ((step == 0 && strides[^1] == 0) || (step != 0 && strides[^1] == step * dim)))
            {
                dims[^1] *= dim;
                strides[^1] = step;
                continue;
            }
            dims.Add(dim);
            strides.Add(step);
        }
        if (dims.Count == 0)
        {
            dims.Add(1);
            strides.Add(1);
        }
        return new BroadcastGeometry([.. dims], [.. strides], small.Aggregate(1, (a, d) => a * d), large.Aggregate(1, (a, d) => a * d));
    }
}

/// <summary>
/// Broadcasting kernels: `broadcast_to` copies a small tensor into every place of a large one, and its
/// gradient `sum_to` adds a large tensor into the small one. Both walk the large tensor one row (its last
/// merged axis) at a time, with the row either a contiguous stretch of the small tensor (copy, add) or one
/// element of it (fill, sum), so the inner work is a vectorised span operation. No allocation.
/// </summary>
public static class Broadcasting
{
    /// <summary>y[large] = x[small] repeated.</summary>
    public static void Expand(ReadOnlySpan<float> x, Span<float> y, BroadcastGeometry g)
    {
        Check(x.Length, y.Length, g);
        if (y.IsEmpty) return;
        var (row, rowStride) = (g.Dims[^1], g.Strides[^1]);
        Span<int> index = stackalloc int[g.Dims.Length];
        var offset = 0;
        for (var start = 0; start < y.Length; start += row)
        {
            var target = y.Slice(start, row);
            if (rowStride == 0) target.Fill(x[offset]);
            else x.Slice(offset, row).CopyTo(target);
            offset = Next(index, g, offset);
        }
    }

    /// <summary>y[small] = the sum of dy[large] over the axes x was repeated along (overwrites y).</summary>
    public static void ReduceTo(ReadOnlySpan<float> dy, Span<float> y, BroadcastGeometry g)
    {
        Check(y.Length, dy.Length, g);
        y.Clear();
        if (dy.IsEmpty) return;
        var (row, rowStride) = (g.Dims[^1], g.Strides[^1]);
        Span<int> index = stackalloc int[g.Dims.Length];
        var offset = 0;
        for (var start = 0; start < dy.Length; start += row)
        {
            var source = dy.Slice(start, row);
            if (rowStride == 0) y[offset] += TensorPrimitives.Sum(source);
            else
            {
                var target = y.Slice(offset, row);
                TensorPrimitives.Add(target, source, target);
            }
            offset = Next(index, g, offset);
        }
    }

    /// <summary>Steps the odometer over the merged axes before the last; returns the small tensor's offset of the next row.</summary>
    private static int Next(Span<int> index, BroadcastGeometry g, int offset)
    {
        for (var axis = g.Dims.Length - 2; axis >= 0; axis--)
        {
            offset += g.Strides[axis];
            if (++index[axis] < g.Dims[axis]) return offset;
            offset -= g.Strides[axis] * g.Dims[axis];
            index[axis] = 0;
        }
        return offset;
    }

    private static void Check(int small, int large, BroadcastGeometry g)
    {
        Shapes.Same(g.SmallCount, small, "small");
        Shapes.Same(g.LargeCount, large, "large");
    }
}
