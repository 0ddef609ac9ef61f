namespace Dlc.Backend.Tests.Support;

/// <summary>Deterministic inputs and float/double conversions for kernel-versus-reference tests.</summary>
internal static class TestData
{
    /// <summary>The sizes every element-wise kernel is run over: degenerate, odd, vector-width edges, long.</summary>
    public static readonly int[] Sizes = [1, 3, 7, 16, 17, 33, 255, 1000];

    /// <summary>[R, C] shapes for the row kernels, including a single row and a single column.</summary>
    public static readonly (int Rows, int Cols)[] Matrices =
        [(1, 1), (1, 7), (1, 1000), (3, 1), (255, 1), (3, 7), (16, 17), (33, 255), (7, 1000), (17, 16)];

    public static TheoryData<int> SizeData() => [.. Sizes];

    public static TheoryData<int, int> MatrixData()
    {
        var data = new TheoryData<int, int>();
        foreach (var (r, c) in Matrices) data.Add(r, c);
        return data;
    }

    public static float[] Normal(int length, ulong seed, float std = 1f, float mean = 0f)
    {
        var values = new float[length];
        new Rng(seed).FillNormal(values, mean, std);
        return values;
    }

    public static float[] Uniform(int length, ulong seed, float lo, float hi)
    {
        var values = new float[length];
        new Rng(seed).FillUniform(values, lo, hi);
        return values;
    }

    /// <summary>Class labels in [0, cols) stored as floats, as the loss kernels take them.</summary>
    public static float[] Labels(int rows, int cols, ulong seed)
    {
        var rng = new Rng(seed);
        var labels = new float[rows];
        for (var i = 0; i < rows; i++) labels[i] = rng.NextInt(cols);
        return labels;
    }

    public static double[] ToDouble(ReadOnlySpan<float> values)
    {
        var result = new double[values.Length];
        for (var i = 0; i < values.Length; i++) result[i] = values[i];
        return result;
    }
}
