using Dlc.Backend;
using Dlc.Backend.Plans;
using Dlc.Compiler.Ir;
using Dlc.Compiler.Jobs;
using Dlc.Runtime.Pruning;
using Dlc.Runtime.Training;

namespace Dlc.Runtime.Tests.Pruning;

/// <summary>Magnitude pruning: which weights go, the schedule, and masks that hold through optimiser updates.</summary>
public class MagnitudePruningTests
{
    private static ParameterStore Store()
    {
        var store = new ParameterStore([
            new ParameterInfo("a.weight", 0, new Shape(4, 5), Init.Zeros, null),
            new ParameterInfo("a.bias", 1, new Shape(4), Init.Zeros, null),
            new ParameterInfo("b.weight", 2, new Shape(2, 4), Init.Zeros, null),
        ]);
        var rng = new Rng(3);
        foreach (var p in store.Parameters) rng.FillUniform(store.Value(p.Name), -1f, 1f);
        return store;
    }

    [Fact]
    public void Global_pruning_removes_the_smallest_weights_of_all_matrices_and_keeps_biases()
    {
        using var store = Store();
        var all = store.Value("a.weight").ToArray().Concat(store.Value("b.weight").ToArray()).Select(MathF.Abs).Order().ToArray();
        var bias = store.Value("a.bias").ToArray();
        store.SetMask(MagnitudePruning.Mask(store, 0.75, PruningScope.Global));
        var kept = store.Value("a.weight").ToArray().Concat(store.Value("b.weight").ToArray()).Where(v => v != 0).Select(MathF.Abs).Order().ToArray();
        kept.ShouldBe(all[^7..]);
        store.Value("a.bias").ToArray().ShouldBe(bias);
        MagnitudePruning.Count(store).ShouldBe(new SparsityCounts(32, 11, 28, 7));
    }

    [Fact]
    public void Layer_pruning_removes_the_same_fraction_of_every_matrix()
    {
        using var store = Store();
        store.SetMask(MagnitudePruning.Mask(store, 0.5, PruningScope.Layer));
        store.Value("a.weight").ToArray().Count(v => v == 0).ShouldBe(10);
        store.Value("b.weight").ToArray().Count(v => v == 0).ShouldBe(4);
    }

    [Fact]
    public void The_schedule_rises_quickly_then_slowly_to_the_target() =>
        Enumerable.Range(1, 3).Select(s => Math.Round(MagnitudePruning.Schedule(0.9, s, 3), 4)).ShouldBe([0.6333, 0.8667, 0.9]);

    [Theory]
    [InlineData(OptimizerKind.Adam)]
    [InlineData(OptimizerKind.Sgd)]
    public void Pruned_weights_stay_zero_through_optimiser_updates_while_the_rest_train(OptimizerKind kind)
    {
        using var store = Store();
        store.SetMask(MagnitudePruning.Mask(store, 0.5, PruningScope.Global));
        var pruned = Enumerable.Range(0, store.TrainableLength).Where(i => store.Mask!.Span[i] == 0).ToArray();
        var before = store.Values.Span.ToArray();
        using var optimizer = new Optimizer(new OptimizerSpec(kind, 0.1) { Momentum = 0.9 }, store);
        var rng = new Rng(5);
        for (var step = 0; step < 5; step++)
        {
            // Gradients everywhere, the pruned weights' too: the mask, not a zero gradient, keeps them at zero.
            rng.FillUniform(store.Gradients.Span, -1f, 1f);
            optimizer.Update();
        }
        var after = store.Values.Span.ToArray();
        pruned.Select(i => after[i]).ShouldAllBe(v => v == 0f);
        var entries = store.Parameters.SelectMany(p => Enumerable.Range(store.Slot(p.Name).Offset, store.Slot(p.Name).Length));
        var trained = entries.Except(pruned).ToArray();
        trained.Length.ShouldBe(32 - 14);
        trained.ShouldAllBe(i => after[i] != before[i]);
    }
}
