namespace Dlc.Runtime.Data;

/// <summary>
/// xoshiro256** seeded through splitmix64: small, fast and fully specified, so shuffles are
/// reproducible across machines and .NET versions (System.Random's algorithm is not a contract).
/// Internal on purpose: the general-purpose generator of the training loop lives elsewhere.
/// </summary>
internal struct DataRng
{
    private ulong _s0, _s1, _s2, _s3;

    public DataRng(ulong seed)
    {
        var sm = seed;
        _s0 = SplitMix64(ref sm);
        _s1 = SplitMix64(ref sm);
        _s2 = SplitMix64(ref sm);
        _s3 = SplitMix64(ref sm);
    }

    /// <summary>A generator in the given raw state, for checking against reference sequences.</summary>
    internal DataRng(ulong s0, ulong s1, ulong s2, ulong s3) => (_s0, _s1, _s2, _s3) = (s0, s1, s2, s3);

    /// <summary>A seed for stream <paramref name="stream"/> of <paramref name="seed"/>, e.g. one per epoch.</summary>
    public static ulong Derive(ulong seed, ulong stream)
    {
        // Two splitmix rounds decorrelate neighbouring (seed, stream) pairs.
        var s = seed ^ (stream * 0xD1B54A32D192ED03UL);
        SplitMix64(ref s);
        return SplitMix64(ref s);
    }

    public static ulong SplitMix64(ref ulong state)
    {
        var z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public ulong NextUInt64()
    {
        var result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        var t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, bound) without modulo bias (Lemire's multiply-and-reject).</summary>
    public uint NextBelow(uint bound)
    {
        var m = (ulong)(uint)(NextUInt64() >> 32) * bound;
        var low = (uint)m;
        if (low < bound)
        {
            var threshold = (0u - bound) % bound;
            while (low < threshold)
            {
                m = (ulong)(uint)(NextUInt64() >> 32) * bound;
                low = (uint)m;
            }
        }
        return (uint)(m >> 32);
    }

    /// <summary>Fisher–Yates shuffle in place.</summary>
    public void Shuffle(Span<int> items)
    {
        for (var i = items.Length - 1; i > 0; i--)
        {
            var j = (int)NextBelow((uint)i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
