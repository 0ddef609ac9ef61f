namespace Dlc.Backend.Kernels;

/// <summary>Length checks shared by the kernels (fast and reference), with messages naming the argument.</summary>
internal static class Shapes
{
    internal static void Same(int expected, int actual, string name)
    {
        if (actual != expected) throw new ArgumentException($"{name} has {actual} elements; expected {expected}.", name);
    }

    /// <summary>Checks rows, cols ≥ 0 and returns rows·cols, refusing sizes a span cannot hold.</summary>
    internal static int Matrix(int rows, int cols)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(cols);
        var size = (long)rows * cols;
        if (size > int.MaxValue) throw new ArgumentException($"{rows}×{cols} is too large for one span.");
        return (int)size;
    }

    /// <summary>A class label (or an index) stored as a float, checked to be a whole number in [0, cols).</summary>
    internal static int Label(double value, int row, int cols)
    {
        if (value >= 0 && value < cols && value == Math.Floor(value)) return (int)value;
        throw new ArgumentException($"Label {value} in row {row} is not a class index in [0, {cols}).", "labels");
    }

    /// <summary>As <see cref="Label"/>, but <see cref="Losses.IgnoreLabel"/> (a row that is not scored) gives −1.</summary>
    internal static int LabelOrIgnored(double value, int row, int cols) => value == Losses.IgnoreLabel ? -1 : Label(value, row, cols);

    /// <summary>Rows whose label is not <see cref="Losses.IgnoreLabel"/>.</summary>
    internal static int Labelled<T>(ReadOnlySpan<T> labels) where T : System.Numerics.INumberBase<T>
    {
        var ignore = T.CreateChecked(Losses.IgnoreLabel);
        var count = 0;
        foreach (var label in labels)
        {
            if (label != ignore) count++;
        }
        return count;
    }
}
