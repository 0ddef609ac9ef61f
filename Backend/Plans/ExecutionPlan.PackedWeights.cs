using Dlc.Backend.Gemm;

namespace Dlc.Backend.Plans;

/// <summary>Weights packed once for the runs of a plan in which they do not change (see <see cref="PackWeights"/>).</summary>
public sealed partial class ExecutionPlan
{
    // The products that read a parameter as B, each with its packed copy while the weights are packed.
    private readonly List<WeightProduct> _weightProducts = [];

    /// <summary>Whether the products read packed copies of the weights (see <see cref="PackWeights"/>).</summary>
    public bool WeightsPacked { get; private set; }

    /// <summary>
    /// Packs the weights the plan's products read as B, once, where their provider multiplies from a packed copy
    /// (<see cref="IGemm.Prepack"/>: with the managed kernels, products whose rows two threads claim, such as a dense
    /// layer at batch 1000, and a dense layer at batch 1, which reads only the rows of its weights its nonzero inputs
    /// pick), so the runs until <see cref="UnpackWeights"/> read the copies instead of packing the weights again each
    /// time. The parameters must not change in between: for an evaluation or a timed inference, not training.
    /// Returns the bytes the copies take (0 where no product reads one).
    /// </summary>
    public long PackWeights()
    {
        if (!WeightsPacked)
        {
            foreach (var product in _weightProducts) product.Pack();
            WeightsPacked = true;
        }
        return _weightProducts.Sum(p => p.Packed?.Bytes ?? 0);
    }

    /// <summary>Frees the packed copies: the products pack the weights as they go again, so the weights may change.</summary>
    public void UnpackWeights()
    {
        foreach (var product in _weightProducts) product.Release();
        WeightsPacked = false;
    }

    /// <summary>A product reading a parameter as B, which may read a packed copy of it (see PackWeights); null for another B.</summary>
    private WeightProduct? Weights(IGemm gemm, bool transA, bool transB, int m, int n, int k, BufferRef b, int ldb)
    {
        if (b.Buffer != _parameters.Values) return null;
        var product = new WeightProduct(gemm, transA, transB, m, n, k, b, ldb);
        _weightProducts.Add(product);
        return product;
    }

    /// <summary>A product whose B is a parameter, and its packed copy (see <see cref="PackWeights"/>), or null.</summary>
    private sealed unsafe class WeightProduct(IGemm gemm, bool transA, bool transB, int m, int n, int k, BufferRef b, int ldb)
    {
        public PackedB? Packed { get; private set; }

        public void Pack() => Packed ??= gemm.Prepack(transA, transB, m, n, k, b.Pointer, ldb);

        public void Release()
        {
            Packed?.Dispose();
            Packed = null;
        }
    }
}
