using System.Numerics;

namespace Dlc.Runtime.Data;

/// <summary>
/// torchvision's Normalize: each value of channel c becomes (x − mean[c]) / std[c]. A sample [C, ...] has C
/// channels along its first axis; with one mean and one std, every value is one channel.
/// </summary>
public sealed class Normalization
{
    private readonly float[] _mean;
    private readonly float[] _std;

    public Normalization(IReadOnlyList<double> mean, IReadOnlyList<double> std)
    {
        if (mean.Count == 0 || mean.Count != std.Count)
            throw new ArgumentException($"{mean.Count} means and {std.Count} deviations; give one of each per channel");
        if (std.Any(s => !(s > 0))) throw new ArgumentException("every std must be above 0", nameof(std));
        _mean = mean.Select(m => (float)m).ToArray();
        _std = std.Select(s => (float)s).ToArray();
        Mean = mean.ToArray();
        Std = std.ToArray();
    }

    public int Channels => _mean.Length;

    public IReadOnlyList<double> Mean { get; }

    public IReadOnlyList<double> Std { get; }

    /// <summary>Normalises one sample in place, its channels being equal slices of it.</summary>
    public void Apply(Span<float> sample)
    {
        var plane = sample.Length / _mean.Length;
        for (var c = 0; c < _mean.Length; c++)
        {
            float mean = _mean[c], std = _std[c];
            var values = sample.Slice(c * plane, plane);
            var i = 0;
            // Vector division rounds as scalar division does, so both paths give the same bits.
            if (Vector.IsHardwareAccelerated)
            {
                Vector<float> m = new(mean), s = new(std);
                for (; i <= values.Length - Vector<float>.Count; i += Vector<float>.Count)
                    ((new Vector<float>(values[i..]) - m) / s).CopyTo(values[i..]);
            }
            for (; i < values.Length; i++) values[i] = (values[i] - mean) / std;
        }
    }
}
