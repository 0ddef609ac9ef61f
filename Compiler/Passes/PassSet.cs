namespace Dlc.Compiler.Passes;

/// <summary>Where a pass works: on the IR graph, or on the plan the backend compiles from it.</summary>
public enum PassKind
{
    Graph,
    Plan,
}

/// <summary>A pass users can name in `--passes` and `--no-pass`.</summary>
public sealed record PassInfo(string Name, PassKind Kind, string Summary);

/// <summary>
/// Which of the compiler's passes run: all by default; `--passes a,b` keeps only those, `--passes none` none,
/// and `--no-pass x` drops one. A plan never runs a node no output needs, whatever is chosen.
/// </summary>
public sealed class PassSet
{
    public const string GemmEpilogue = "gemm-epilogue";
    public const string GemmChain = "gemm-chain";
    public const string ReluFusion = "relu-fusion";
    public const string LossFusion = "loss-fusion";
    public const string NormFusion = "norm-fusion";
    public const string ConvGradFusion = "conv-grad-fusion";
    public const string ElementwiseFusion = "elementwise-fusion";
    public const string MemorySharing = "share-memory";

    /// <summary>The backend's fusions, made when a plan is compiled.</summary>
    public static IReadOnlyList<PassInfo> PlanPasses { get; } =
    [
        new(GemmEpilogue, PassKind.Plan, "a matrix product also adds the bias, applies the activation (or its derivative) and adds a residual as it stores; a weight gradient's product sums dY for the bias gradient as it packs it"),
        new(GemmChain, PassKind.Plan, "two dense layers of a batch of one (fewer rows than a micro-tile) go to the threads in one hand-off: each computes its columns of the first and, from them, its share of the second's sums"),
        new(ReluFusion, PassKind.Plan, "a convolution or batch norm applies the ReLU after it; a pooling gradient applies the ReLU's mask"),
        new(LossFusion, PassKind.Plan, "softmax cross-entropy (or the mean squared error) and its gradient come from one pass over the scores (the predictions)"),
        new(NormFusion, PassKind.Plan, "layer norm's input, weight and bias gradients come from one pass over the rows, batch norm's from one pass of sums over each channel"),
        new(ConvGradFusion, PassKind.Plan, "a 3×3 stride-1 convolution's input and weight gradients come from one pass over the samples, each sample's output gradient transformed once (Winograd) for both"),
        new(ElementwiseFusion, PassKind.Plan, "a chain of elementwise ops of one shape runs as one step, block by block, reading and writing the tensor once"),
        new(MemorySharing, PassKind.Plan, "values whose lives do not overlap share one arena, placed by liveness"),
    ];

    /// <summary>Every pass, graph passes first in pipeline order.</summary>
    public static IReadOnlyList<PassInfo> Known { get; } =
        PassPipeline.All.Select(p => new PassInfo(p.Name, PassKind.Graph, p.Summary)).Concat(PlanPasses).ToArray();

    private readonly HashSet<string> _enabled;

    private PassSet(IEnumerable<string> enabled) => _enabled = new HashSet<string>(enabled, StringComparer.Ordinal);

    public static PassSet All { get; } = new(Known.Select(p => p.Name));
    public static PassSet None { get; } = new([]);

    public bool Has(string name) => _enabled.Contains(name);

    public IEnumerable<string> Names => Known.Select(p => p.Name).Where(Has);

    public bool IsAll => Known.All(p => Has(p.Name));

    /// <summary>How the choice reads in run settings: `all`, `none`, or the names in pipeline order.</summary>
    public override string ToString() => IsAll ? "all" : _enabled.Count == 0 ? "none" : string.Join(",", Names);

    /// <summary>
    /// The set `--passes` (a comma-separated list, `all` or `none`; null for all) and `--no-pass` (names to drop)
    /// give, or the reason they do not name passes.
    /// </summary>
    public static PassSet Parse(string? passes, IReadOnlyList<string> without, out string? error)
    {
        error = null;
        var names = passes is null or "all" ? Known.Select(p => p.Name).ToList()
            : passes == "none" ? []
            : passes.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToList();
        var dropped = without.SelectMany(w => w.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)).ToList();
        var unknown = names.Concat(dropped).FirstOrDefault(n => Known.All(p => p.Name != n));
        if (unknown is not null)
        {
            error = $"there is no pass `{unknown}`; the passes are {string.Join(", ", Known.Select(p => p.Name))}";
            return All;
        }
        return new PassSet(names.Except(dropped));
    }
}
