using System.Numerics;

namespace Dlc.Backend;

/// <summary>
/// Deterministic random numbers: xoshiro256** (Blackman and Vigna) seeded through splitmix64. Only integer
/// operations, IEEE basic arithmetic and sqrt are used (normal deviates take their logarithm from a local
/// series rather than the C library), so a seed gives the same stream on every run and machine.
/// </summary>
public sealed class Rng
{
    private const int StateLength = 6;
    private ulong _s0, _s1, _s2, _s3;
    private bool _hasSpare;
    private double _spare;

    public Rng(ulong seed)
    {
        var x = seed;
        _s0 = SplitMix64(ref x);
        _s1 = SplitMix64(ref x);
        _s2 = SplitMix64(ref x);
        _s3 = SplitMix64(ref x);
    }

    private Rng(ulong s0, ulong s1, ulong s2, ulong s3) => (_s0, _s1, _s2, _s3) = (s0, s1, s2, s3);

    public ulong NextUInt64()
    {
        var result = BitOperations.RotateLeft(_s1 * 5, 7) * 9;
        var t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = BitOperations.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1) on the 2^-24 grid (the top 24 bits).</summary>
    public float NextFloat() => (NextUInt64() >> 40) * (1f / (1 << 24));

    /// <summary>Uniform in [0, 1) on the 2^-53 grid (the top 53 bits).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform integer in [0, bound), unbiased (Lemire's multiply-and-reject).</summary>
    public int NextInt(int bound)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bound, 1);
        var range = (ulong)bound;
        var product = Math.BigMul(NextUInt64(), range, out var low);
        if (low < range)
        {
            var threshold = (0 - range) % range;
            while (low < threshold) product = Math.BigMul(NextUInt64(), range, out low);
        }
        return (int)product;
    }

    /// <summary>
    /// Standard normal deviate by Marsaglia's polar method; each accepted pair yields two values, the second
    /// kept for the next call (and in <see cref="GetState"/>).
    /// </summary>
    public double NextNormal()
    {
        if (_hasSpare)
        {
            _hasSpare = false;
            return _spare;
        }
        double u, v, s;
        do
        {
            u = 2 * NextDouble() - 1;
            v = 2 * NextDouble() - 1;
            s = u * u + v * v;
        } while (s >= 1 || s == 0);
        var factor = Math.Sqrt(-2 * Log(s) / s);
        _spare = v * factor;
        _hasSpare = true;
        return u * factor;
    }

    /// <summary>Fills with uniform values in [lo, hi).</summary>
    public void FillUniform(Span<float> values, float lo, float hi)
    {
        var width = hi - lo;
        for (var i = 0; i < values.Length; i++)
        {
            var value = lo + width * NextFloat();
            // Rounding can land on hi itself; step back inside the half-open range.
            values[i] = value < hi || hi <= lo ? value : MathF.BitDecrement(hi);
        }
    }

    /// <summary>Fills with normal values of the given mean and standard deviation.</summary>
    public void FillNormal(Span<float> values, float mean, float std)
    {
        for (var i = 0; i < values.Length; i++) values[i] = (float)(mean + std * NextNormal());
    }

    /// <summary>Fisher–Yates shuffle in place.</summary>
    public void Shuffle(Span<int> values)
    {
        for (var i = values.Length - 1; i > 0; i--)
        {
            var j = NextInt(i + 1);
            (values[i], values[j]) = (values[j], values[i]);
        }
    }

    /// <summary>
    /// An independent generator for the given stream number, derived from this one's state without
    /// advancing it: the same state and stream always give the same child, different streams differ.
    /// </summary>
    public Rng Fork(ulong stream)
    {
        var x = _s0 ^ BitOperations.RotateLeft(_s1, 16) ^ BitOperations.RotateLeft(_s2, 32) ^ BitOperations.RotateLeft(_s3, 48);
        var key = stream;
        x ^= SplitMix64(ref key);
        // Fresh splitmix64 outputs, as for a seed; the mixing above only chooses where that sequence starts.
        return new Rng(SplitMix64(ref x), SplitMix64(ref x), SplitMix64(ref x), SplitMix64(ref x));
    }

    /// <summary>Everything needed to resume exactly: the four state words and any cached normal deviate.</summary>
    public ulong[] GetState() =>
        [_s0, _s1, _s2, _s3, _hasSpare ? 1UL : 0UL, BitConverter.DoubleToUInt64Bits(_spare)];

    public void SetState(ulong[] state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.Length != StateLength) throw new ArgumentException($"An Rng state has {StateLength} words, not {state.Length}.", nameof(state));
        if ((state[0] | state[1] | state[2] | state[3]) == 0) throw new ArgumentException("An all-zero xoshiro state never leaves zero.", nameof(state));
        if (state[4] > 1) throw new ArgumentException("The cached-normal flag must be 0 or 1.", nameof(state));
        (_s0, _s1, _s2, _s3) = (state[0], state[1], state[2], state[3]);
        _hasSpare = state[4] == 1;
        _spare = BitConverter.UInt64BitsToDouble(state[5]);
    }

    private static ulong SplitMix64(ref ulong x)
    {
        var z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>
    /// ln(s) for 0 &lt; s &lt; 1 from + − × / only, so it is bit-identical everywhere (Math.Log may differ
    /// in the last bit between C libraries): s = m·2^e with m in [√½, √2), ln m = 2·atanh((m − 1)/(m + 1)).
    /// </summary>
    internal static double Log(double s)
    {
        var bits = BitConverter.DoubleToUInt64Bits(s);
        var e = (int)((bits >> 52) & 0x7FF);
        if (e == 0)
        {
            // Subnormal: scale into the normal range first.
            return Log(s * 18014398509481984.0) - 54 * Ln2; // 2^54
        }
        e -= 1023;
        var m = BitConverter.UInt64BitsToDouble((bits & 0x000FFFFFFFFFFFFFUL) | 0x3FF0000000000000UL);
        if (m > 1.4142135623730951)
        {
            m *= 0.5;
            e++;
        }
        var f = (m - 1) / (m + 1);
        var f2 = f * f;
        // |f| ≤ 0.1716, so f2 ≤ 0.0295 and 14 odd terms reach below 1e-17 relative.
        var sum = 0.0;
        for (var k = 27; k >= 3; k -= 2) sum = (sum + 1.0 / k) * f2;
        return 2 * f * (1 + sum) + e * Ln2;
    }

    private const double Ln2 = 0.69314718055994530942;
}
