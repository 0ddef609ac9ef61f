namespace Dlc.Backend.Gemm;

/// <summary>
/// The "auto" provider: for each product shape it picks whichever of its providers measured fastest at
/// exactly that shape on this machine. The first time a shape is asked for, each provider gets a short
/// timed trial (see GemmTrial) and the winner is filed in the per-machine cache (GemmTuningCache), so
/// later runs skip the trial. A plan binds the answer of <see cref="Choose(bool, bool, int, int, int)"/>
/// per call site when it is compiled; calling <see cref="Sgemm"/> here works too but looks the shape up on
/// every call. Owns its providers and disposes them.
/// </summary>
public sealed unsafe class GemmTuner : IGemm, IDisposable
{
    public const string AutoName = "auto";

    private readonly IGemm[] _providers;
    private readonly GemmTuningCache _cache;
    private readonly Func<GemmShape, IReadOnlyList<IGemm>, double[]> _trial;
    private readonly Dictionary<GemmShape, IGemm> _chosen = [];
    private readonly Lock _sync = new();

    /// <param name="providers">The candidates, with distinct names; the first one wins ties.</param>
    /// <param name="threads">The threads the providers run on (part of the cache's machine signature).</param>
    public GemmTuner(IReadOnlyList<IGemm> providers, int threads)
        : this(providers, GemmTuningCache.ForThisMachine(threads), GemmTrial.Measure)
    {
        Threads = threads;
    }

    /// <summary>With the cache and the trial (seconds per product for each provider) given, for tests.</summary>
    internal GemmTuner(IReadOnlyList<IGemm> providers, GemmTuningCache cache, Func<GemmShape, IReadOnlyList<IGemm>, double[]> trial)
    {
        ArgumentNullException.ThrowIfNull(providers);
        if (providers.Count == 0) throw new ArgumentException("The tuner needs at least one provider.", nameof(providers));
        _providers = [.. providers];
        _cache = cache;
        _trial = trial;
    }

    public string Name => AutoName;

    public int Threads { get; } = 1;

    public IReadOnlyList<IGemm> Providers => _providers;

    /// <summary>The decisions made so far in this process, cached or measured.</summary>
    public IReadOnlyDictionary<GemmShape, string> Decisions
    {
        get
        {
            lock (_sync) return _chosen.ToDictionary(e => e.Key, e => e.Value.Name);
        }
    }

    public IGemm Choose(bool transA, bool transB, int m, int n, int k) => Choose(new GemmShape(transA, transB, m, n, k));

    /// <summary>The fastest provider at this shape: remembered, else read from the cache, else measured.</summary>
    public IGemm Choose(GemmShape shape)
    {
        // Nothing to compare, or nothing to time.
        if (_providers.Length == 1 || shape.M <= 0 || shape.N <= 0 || shape.K <= 0) return _providers[0];
        lock (_sync)
        {
            if (_chosen.TryGetValue(shape, out var known)) return known;
            // A cached name this process has no provider for (MKL gone, say) is measured afresh.
            var filed = _cache.Lookup(shape);
            var chosen = Array.Find(_providers, p => p.Name == filed);
            if (chosen is null)
            {
                chosen = _providers[Fastest(_trial(shape, _providers))];
                _cache.Store(shape, chosen.Name);
            }
            _chosen[shape] = chosen;
            return chosen;
        }
    }

    /// <summary>
    /// The provider filed for a whole plan (see ExecutionPlan.Compile), so the same plan runs on the same
    /// provider in every run on this machine and a seeded run gives the same numbers each time.
    /// </summary>
    public IGemm? RememberedPlan(string planKey)
    {
        lock (_sync)
        {
            var name = _cache.Lookup(planKey);
            return Array.Find(_providers, p => p.Name == name);
        }
    }

    public void RememberPlan(string planKey, string provider)
    {
        lock (_sync) _cache.Store(planKey, provider);
    }

    public void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha, float* a, int lda, float* b, int ldb,
        float beta, float* c, int ldc) =>
        Choose(transA, transB, m, n, k).Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);

    public void SgemmFused(bool transA, bool transB, int m, int n, int k, float alpha, float* a, int lda, float* b, int ldb,
        float beta, float* c, int ldc, in GemmEpilogue epilogue) =>
        Choose(transA, transB, m, n, k).SgemmFused(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, epilogue);

    public void Dispose()
    {
        foreach (var provider in _providers) (provider as IDisposable)?.Dispose();
    }

    private int Fastest(double[] seconds)
    {
        if (seconds.Length != _providers.Length) throw new InvalidOperationException("The trial must time every provider.");
        var best = 0;
        for (var i = 1; i < seconds.Length; i++)
        {
            if (seconds[i] < seconds[best]) best = i;
        }
        return best;
    }
}
