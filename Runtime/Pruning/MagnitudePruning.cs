using Dlc.Backend.Plans;
using Dlc.Compiler.Ir;

namespace Dlc.Runtime.Pruning;

/// <summary>Where a sparsity target applies: over all prunable weights together, or to each layer's weight alone.</summary>
public enum PruningScope
{
    Global,
    Layer,
}

/// <summary>Counts of a model's weights: all parameters, the prunable weights, and how many of those are not zero.</summary>
public sealed record SparsityCounts(long Parameters, long NonzeroParameters, long PrunableWeights, long NonzeroWeights)
{
    /// <summary>Fraction of the prunable weights that are zero.</summary>
    public double Sparsity => PrunableWeights == 0 ? 0 : 1 - NonzeroWeights / (double)PrunableWeights;

    /// <summary>Bytes of the parameters stored dense (float32).</summary>
    public long DenseBytes => Parameters * sizeof(float);

    /// <summary>Bytes stored sparse: each nonzero as a float32 value and a 32-bit index (COO/CSR without the row pointers).</summary>
    public long SparseBytes => NonzeroParameters * (sizeof(float) + sizeof(int));
}

/// <summary>
/// Unstructured magnitude pruning (Han et al. 2015; the schedule of Zhu and Gupta 2017): the weights of
/// smallest absolute value are set to zero and kept there by a mask the optimiser applies after every
/// update. The matrices and filters of dense and convolution layers (trainable parameters of rank 2 or
/// more) are pruned; biases and normalisation parameters are few and are kept.
/// </summary>
public static class MagnitudePruning
{
    public static IEnumerable<ParameterInfo> Prunable(ParameterStore store) =>
        store.Parameters.Where(p => p.Trainable && p.Shape.Rank >= 2);

    /// <summary>The sparsity after step <paramref name="step"/> of <paramref name="steps"/>: s·(1 − (1 − t/T)³), fast at first and slower near the target.</summary>
    public static double Schedule(double target, int step, int steps) => target * (1 - Math.Pow(1 - step / (double)steps, 3));

    /// <summary>
    /// A mask (laid out as the store) that zeros the <paramref name="sparsity"/> fraction of smallest-magnitude
    /// prunable weights, over all of them or per layer. Weights already pruned are the smallest, so a rising
    /// schedule only adds to what is pruned.
    /// </summary>
    public static float[] Mask(ParameterStore store, double sparsity, PruningScope scope)
    {
        var mask = new float[store.Values.Length];
        Array.Fill(mask, 1f);
        var prunable = Prunable(store).ToList();
        var groups = scope == PruningScope.Global ? [prunable] : prunable.Select(p => new List<ParameterInfo> { p }).ToList();
        foreach (var group in groups)
        {
            var magnitudes = group.SelectMany(p => store.Value(p.Name).ToArray().Select(MathF.Abs)).ToArray();
            var prune = (int)Math.Round(sparsity * magnitudes.Length);
            if (prune == 0) continue;
            // The prune-th smallest magnitude is the threshold; ties at it are broken in storage order so exactly `prune` go.
            Array.Sort(magnitudes);
            var threshold = magnitudes[prune - 1];
            var below = magnitudes.Count(m => m < threshold);
            var ties = prune - below;
            foreach (var p in group)
            {
                var (offset, _) = store.Slot(p.Name);
                var values = store.Value(p.Name);
                for (var i = 0; i < values.Length; i++)
                {
                    var m = MathF.Abs(values[i]);
                    if (m < threshold || (m == threshold && ties-- > 0)) mask[offset + i] = 0f;
                }
            }
        }
        return mask;
    }

    public static SparsityCounts Count(ParameterStore store)
    {
        long parameters = 0, nonzero = 0, prunable = 0, nonzeroPrunable = 0;
        var prunableNames = Prunable(store).Select(p => p.Name).ToHashSet();
        foreach (var p in store.Parameters.Where(p => p.Trainable))
        {
            var values = store.Value(p.Name);
            var count = CountNonzero(values);
            parameters += values.Length;
            nonzero += count;
            if (!prunableNames.Contains(p.Name)) continue;
            prunable += values.Length;
            nonzeroPrunable += count;
        }
        return new SparsityCounts(parameters, nonzero, prunable, nonzeroPrunable);
    }

    private static long CountNonzero(ReadOnlySpan<float> values)
    {
        long count = 0;
        foreach (var v in values) count += v != 0 ? 1 : 0;
        return count;
    }
}
