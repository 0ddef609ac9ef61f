using System.Numerics;

namespace Dlc.Backend.Kernels.Reference;

/// <summary>
/// The definition of broadcasting, element by element: each element of the large shape reads the element
/// of the small shape at the same index, with index 0 on the axes where the small shape has size 1 (or no
/// axis at all: shapes align at their last axes).
/// </summary>
public static class BroadcastingReference
{
    public static void Expand<T>(ReadOnlySpan<T> x, Span<T> y, int[] small, int[] large) where T : IFloatingPointIeee754<T>
    {
        for (var i = 0; i < y.Length; i++) y[i] = x[SmallIndex(i, small, large)];
    }

    public static void ReduceTo<T>(ReadOnlySpan<T> dy, Span<T> y, int[] small, int[] large) where T : IFloatingPointIeee754<T>
    {
        y.Clear();
        for (var i = 0; i < dy.Length; i++) y[SmallIndex(i, small, large)] += dy[i];
    }

    /// <summary>The flat index in the small shape of the element at flat index <paramref name="i"/> of the large one.</summary>
    private static int SmallIndex(int i, int[] small, int[] large)
    {
        int index = 0, stride = 1;
        for (var axis = large.Length - 1; axis >= 0; axis--)
        {
            var coordinate = i % large[axis];
            i /= large[axis];
            var s = axis - (large.Length - small.Length);
            if (s < 0) continue;
            if (small[s] != 1) index += coordinate * stride;
            stride *= small[s];
        }
        return index;
    }
}
