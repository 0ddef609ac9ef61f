using Dlc.Backend.Plans;
using Dlc.Compiler.Ir;
using Dlc.Compiler.Pruning;
using Dlc.Runtime.Checkpoints;

namespace Dlc.Runtime.Pruning;

/// <summary>The channels kept of each group (ascending), by group id; a frozen group keeps all of them.</summary>
public sealed record ChannelSelection(ChannelPlan Plan, IReadOnlyDictionary<int, int[]> Kept)
{
    public int ChannelsBefore => Plan.Groups.Where(g => !g.Frozen).Sum(g => g.Channels);
    public int ChannelsAfter => Plan.Groups.Where(g => !g.Frozen).Sum(g => Kept[g.Id].Length);

    /// <summary>The new output width of each layer that produces channels, by its weight's name.</summary>
    public IReadOnlyDictionary<string, int> Widths() =>
        Plan.Groups.Where(g => !g.Frozen).SelectMany(g => g.Producers.Select(p => (p, Kept[g.Id].Length))).ToDictionary(x => x.p, x => x.Length);
}

/// <summary>
/// Structured pruning (Li et al. 2017, "Pruning Filters for Efficient ConvNets"; Liu et al. 2017 for the
/// batch-norm scale as the measure): whole neurons and channels go, so the model that remains is smaller
/// and faster with the same kernels. Each channel is scored by the L1 norm of the weights that make it, or
/// by |γ| of the batch norms that follow it, summed over a group; each group keeps its best ⌈keep·C⌉.
/// </summary>
public static class StructuredPruning
{
    public static ChannelSelection Select(ChannelPlan plan, ParameterStore store, double keep)
    {
        var kept = new Dictionary<int, int[]>();
        foreach (var group in plan.Groups)
        {
            if (group.Frozen)
            {
                kept[group.Id] = Enumerable.Range(0, group.Channels).ToArray();
                continue;
            }
            var scores = new double[group.Channels];
            var measures = group.Scales.Count > 0 ? group.Scales : group.Producers;
            foreach (var name in measures)
            {
                var values = store.Value(name);
                var perChannel = values.Length / group.Channels;
                for (var c = 0; c < group.Channels; c++)
                {
                    foreach (var v in values.Slice(c * perChannel, perChannel)) scores[c] += Math.Abs(v);
                }
            }
            var count = Math.Max(1, (int)Math.Ceiling(keep * group.Channels - 1e-9));
            kept[group.Id] = Enumerable.Range(0, group.Channels).OrderByDescending(c => scores[c]).ThenBy(c => c).Take(count).Order().ToArray();
        }
        return new ChannelSelection(plan, kept);
    }

    /// <summary>Every parameter of the store, cut to the kept channels: the weights of the smaller model.</summary>
    public static IReadOnlyList<NamedTensor> Slice(ChannelSelection selection, ParameterStore store)
    {
        var noSymbols = new Dictionary<string, int>();
        var slices = selection.Plan.Slices.ToLookup(s => s.Parameter);
        var result = new List<NamedTensor>();
        foreach (var p in store.Parameters)
        {
            var shape = p.Shape.Bind(noSymbols);
            var data = store.Value(p.Name).ToArray();
            foreach (var slice in slices[p.Name])
            {
                var kept = selection.Kept[slice.Group];
                if (kept.Length * slice.Multiplicity == shape[slice.Axis]) continue;
                var indices = kept.SelectMany(c => Enumerable.Range(c * slice.Multiplicity, slice.Multiplicity)).ToArray();
                (data, shape) = Gather(data, shape, slice.Axis, indices);
            }
            result.Add(new NamedTensor(p.Name, shape, data));
        }
        return result;
    }

    /// <summary>
    /// Zero what makes each pruned channel (its weights' rows, its bias, its batch norm's scale and shift), so the
    /// full model computes what the smaller one does: the test of <see cref="Slice"/>.
    /// </summary>
    public static void ZeroPruned(ChannelSelection selection, ParameterStore store)
    {
        var trainable = store.Parameters.Where(p => p.Trainable).Select(p => p.Name).ToHashSet();
        foreach (var slice in selection.Plan.Slices.Where(s => s.Axis == 0 && trainable.Contains(s.Parameter)))
        {
            var values = store.Value(slice.Parameter);
            var group = selection.Plan.Groups.First(g => g.Id == slice.Group);
            var perChannel = values.Length / group.Channels;
            var kept = selection.Kept[slice.Group].ToHashSet();
            for (var c = 0; c < group.Channels; c++)
            {
                if (!kept.Contains(c)) values.Slice(c * perChannel, perChannel).Clear();
            }
        }
    }

    /// <summary>The entries of a row-major tensor at <paramref name="indices"/> along one axis.</summary>
    private static (float[] Data, int[] Shape) Gather(float[] data, int[] shape, int axis, int[] indices)
    {
        var outer = shape.Take(axis).Aggregate(1, (a, d) => a * d);
        var inner = shape.Skip(axis + 1).Aggregate(1, (a, d) => a * d);
        var result = new float[outer * indices.Length * inner];
        for (var o = 0; o < outer; o++)
        {
            for (var j = 0; j < indices.Length; j++)
                Array.Copy(data, (o * shape[axis] + indices[j]) * inner, result, (o * indices.Length + j) * inner, inner);
        }
        var newShape = shape.ToArray();
        newShape[axis] = indices.Length;
        return (result, newShape);
    }
}
