using Dlc.Backend;
using Dlc.Backend.Plans;
using Dlc.Compiler.Ir;
using Dlc.Compiler.Jobs;
using Dlc.Runtime.Training;

namespace Dlc.Runtime.Tests.Training;

/// <summary>An update split over threads in whole blocks gives the single thread's bits.</summary>
public class OptimizerSplitTests
{
    // 300 × 301 + 301 = 90,601 trainable floats (and the store's padding): eleven whole blocks and a ragged twelfth.
    private static ParameterStore Store()
    {
        var store = new ParameterStore([
            new ParameterInfo("a.weight", 0, new Shape(300, 301), Init.Zeros, null),
            new ParameterInfo("a.bias", 1, new Shape(301), Init.Zeros, null),
        ]);
        var rng = new Rng(7);
        foreach (var p in store.Parameters) rng.FillUniform(store.Value(p.Name), -1f, 1f);
        return store;
    }

    [Theory]
    [InlineData(OptimizerKind.Adam)]
    [InlineData(OptimizerKind.AdamW)]
    [InlineData(OptimizerKind.Sgd)]
    public void Two_threads_update_every_parameter_exactly_as_one(OptimizerKind kind)
    {
        using var one = Store();
        using var two = Store();
        (one.TrainableLength % Optimizer.Block).ShouldNotBe(0);
        var spec = new OptimizerSpec(kind, 0.01) { Momentum = 0.9, WeightDecay = 0.01 };
        using var single = new Optimizer(spec, one, threads: 1);
        using var split = new Optimizer(spec, two, threads: 2);
        var before = one.Values.Span.ToArray();
        for (var step = 0; step < 3; step++)
        {
            new Rng(11 + (ulong)step).FillUniform(one.Gradients.Span, -1f, 1f);
            one.Gradients.Span.CopyTo(two.Gradients.Span);
            single.Update();
            split.Update();
            two.Values.Span.ToArray().ShouldBe(one.Values.Span.ToArray(), $"parameters after step {step}");
        }
        one.Values.Span.ToArray().Zip(before).Count(p => p.First != p.Second).ShouldBe(one.TrainableLength);
        split.State().Select(t => t.Data.Span.ToArray()).ShouldBe(single.State().Select(t => t.Data.Span.ToArray()));
    }
}
