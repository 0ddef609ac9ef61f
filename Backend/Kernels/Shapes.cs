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

    /// <summary>A class label stored as a float, checked to be a whole number in [0, cols).</summary>
    internal static int Label(double value, int row, int cols)
    {
        if (value >= 0 && value < cols && value == Math.Floor(value)) return (int)value;
        throw new ArgumentException($"Label {value} in row {row} is not a class index in [0, {cols}).", "labels");
    }
}
