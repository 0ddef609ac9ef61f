using Dlc.Backend.Gemm;
using Dlc.Compiler.Ir;
using Dlc.Compiler.Passes;

namespace Dlc.Backend.Plans;

/// <summary>
/// Two products of fewer rows than a micro-tile where the second reads the first's result (two dense layers of a batch-1
/// run) run as one step: <see cref="ManagedGemm.SgemmChain"/> hands both to the threads at once.
/// </summary>
public sealed partial class ExecutionPlan
{
    private const string ChainKind = "dense after dense in one hand-off";

    // The most rows of a micro-tile any kernel has (AVX-512's 8): products of more rows are not candidates.
    private const int CandidateRows = 8;

    // First product → the second it runs in its step, and back; and why a candidate second product was not chained.
    private readonly Dictionary<int, int> _chainedSecond = [];
    private readonly Dictionary<int, int> _chainedFirst = [];
    private readonly Dictionary<int, string> _unchained = [];

    /// <summary>
    /// Pairs each product with the product that reads its result (after its bias and activation), where both have fewer
    /// rows than a micro-tile, run on one managed provider with threads to split over, and no other step runs between them.
    /// </summary>
    private void ChainProducts(bool[] live, PlanOptions options)
    {
        var uses = _graph.UseCounts();
        var outputs = _graph.Outputs.Select(o => o.Node).ToHashSet();
        foreach (var second in _graph.Nodes)
        {
            if (!live[second.Id] || second.Op != Op.MatMul || _absorbedBy.ContainsKey(second.Id)) continue;
            var first = ProductBehind(second.Inputs[0]);
            // Only a batch of one (or a few rows) is a candidate at all.
            if (first < 0 || !live[first] || Matrix(_graph[first].Inputs[0]).Rows >= CandidateRows) continue;
            if (WhyNotChained(_graph[first], second, uses, outputs, options) is { } reason) _unchained[second.Id] = reason;
            else
            {
                _chainedSecond[first] = second.Id;
                _chainedFirst[second.Id] = first;
            }
        }
    }

    /// <summary>The chained pairs (see <see cref="ChainProducts"/>), and the candidates not chained with the reason.</summary>
    private IEnumerable<FusionFinding> ChainFindings() =>
        _chainedFirst.Select(p => new FusionFinding(ChainKind, p.Value, p.Key, true, null, [p.Value, p.Key]))
            .Concat(_unchained.Select(p => (First: ProductBehind(_graph[p.Key].Inputs[0]), Second: p.Key, Reason: p.Value))
                .Select(u => new FusionFinding(ChainKind, u.First, u.Second, false, u.Reason, [u.First, u.Second])));

    /// <summary>The product whose step writes this value: the product itself, or the one its bias add or activation runs in.</summary>
    private int ProductBehind(int value)
    {
        var root = _graph[value].Op == Op.MatMul ? value : _absorbedBy.GetValueOrDefault(value, -1);
        return root >= 0 && _graph[root].Op == Op.MatMul ? root : -1;
    }

    private string? WhyNotChained(Node first, Node second, int[] uses, HashSet<int> outputs, PlanOptions options)
    {
        if (!options.Passes.Has(PassSet.GemmChain)) return $"the `{PassSet.GemmChain}` pass is off";
        var value = second.Inputs[0];
        var (m, k) = Matrix(first.Inputs[0]);
        var (n1, n2) = (Matrix(value).Cols, Matrix(second.Id).Cols);
        if (first.Attributes.TransA || second.Attributes.TransA) return "a product reads its A transposed";
        var provider = ChainProvider(first, options);
        if (provider is not ManagedGemm managed) return $"the first product runs on the `{provider.Name}` provider, which has no chained kernel";
        if (managed.Threads < 2) return "the products run on one thread: a chain gains only from splitting them over threads";
        if (!managed.Chains(m)) return $"{m} rows fill a micro-tile: the products are packed and blocked, not split by columns";
        if (!ReferenceEquals(options.Gemm.Choose(false, second.Attributes.TransB, m, n2, n1), provider)) return "the two products run on different providers";
        // A product that ends a chain runs in the chain's step, so it cannot start another.
        if (_chainedFirst.ContainsKey(first.Id)) return $"{Describe(first)} is already chained to another product";
        if (uses[value] != 1 || outputs.Contains(value)) return $"{Describe(_graph[value])}'s result is read elsewhere too";
        if (_biasGradientOf.ContainsKey(first.Id) || _biasGradientOf.ContainsKey(second.Id)) return "a product also sums a bias gradient";
        var groups = new[] { _gemmGroups.GetValueOrDefault(first.Id), _gemmGroups.GetValueOrDefault(second.Id) };
        if (groups.Any(g => g is not null && (g.Derivative || g.KeepsDerivative))) return "a product applies an activation's derivative";
        // The second product runs at the first's step: nothing else may run between them.
        for (var id = first.Id + 1; id < second.Id; id++)
        {
            if (!_live[id] || _absorbedBy.GetValueOrDefault(id, -1) == first.Id || _graph[id].Op is Op.Input or Op.Parameter) continue;
            return $"{Describe(_graph[id])} runs between the two products";
        }
        return null;
    }

    /// <summary>The provider a chained pair's first product runs on (the same as the second's, see WhyNotChained).</summary>
    private IGemm ChainProvider(Node first, PlanOptions options)
    {
        var (m, k) = Matrix(first.Inputs[0]);
        return options.Gemm.Choose(false, first.Attributes.TransB, m, Matrix(first.Id).Cols, k);
    }

    /// <summary>The step of a chained pair (see <see cref="ChainProducts"/>): both products, one hand-off.</summary>
    private unsafe Action ChainStep(Node first, Node second, ManagedGemm gemm)
    {
        var (a, c1, b1) = (_buffers[first.Inputs[0]], _buffers[first.Id], _buffers[first.Inputs[1]]);
        var (b2, c2) = (_buffers[second.Inputs[1]], _buffers[second.Id]);
        var (sa, sb1, sb2) = (Matrix(first.Inputs[0]), Matrix(first.Inputs[1]), Matrix(second.Inputs[1]));
        bool tb1 = first.Attributes.TransB, tb2 = second.Attributes.TransB;
        int m = sa.Rows, k = sa.Cols, n1 = tb1 ? sb1.Rows : sb1.Cols, n2 = tb2 ? sb2.Rows : sb2.Cols;
        var (g1, g2) = (_gemmGroups.GetValueOrDefault(first.Id), _gemmGroups.GetValueOrDefault(second.Id));
        var (w1, w2) = (Weights(gemm, false, tb1, m, n1, k, b1, sb1.Cols), Weights(gemm, false, tb2, m, n2, n1, b2, sb2.Cols));
        return () => gemm.SgemmChain(m, k, a.Pointer, sa.Cols, tb1, n1, b1.Pointer, sb1.Cols, c1.Pointer, Epilogue(g1, n1),
            tb2, n2, b2.Pointer, sb2.Cols, c2.Pointer, Epilogue(g2, n2), w1?.Packed, w2?.Packed);
    }
}
