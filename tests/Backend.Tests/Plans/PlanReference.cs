using Dlc.Backend.Plans;
using Dlc.Compiler.Autodiff;
using Dlc.Compiler.Jobs;

namespace Dlc.Backend.Tests.Plans;

/// <summary>Checks a plan that has run against the double-precision reference interpreter on the same inputs.</summary>
internal static class PlanReference
{
    /// <summary>The loss and every parameter gradient of a training step; the model's input is named `x`.</summary>
    public static void ShouldMatch(GradientGraph gradients, ParameterStore store, ExecutionPlan plan, int batch, string what,
        IReadOnlyDictionary<string, int>? symbols = null)
    {
        var graph = gradients.Graph;
        var feeds = new Dictionary<string, double[]>
        {
            ["x"] = plan.Input("x").ToArray().Select(v => (double)v).ToArray(),
            [TrainingGraph.TargetInput] = plan.Input(TrainingGraph.TargetInput).ToArray().Select(v => (double)v).ToArray(),
        };
        foreach (var p in graph.Parameters) feeds[p.Name] = store.Value(p.Name).ToArray().Select(v => (double)v).ToArray();
        var expected = ReferenceInterpreter.Run(graph, symbols ?? new Dictionary<string, int> { ["N"] = batch }, feeds);

        ((double)plan.Scalar(TrainingGraph.LossOutput)).ShouldBe(expected[gradients.Loss][0], 1e-5);
        foreach (var p in graph.Parameters.Where(p => p.Trainable))
        {
            var actual = store.Gradient(p.Name).ToArray();
            var reference = expected[gradients.ParameterGradients[p.Name]];
            for (var i = 0; i < actual.Length; i++)
                ((double)actual[i]).ShouldBe(reference[i], 1e-5 + 1e-4 * Math.Abs(reference[i]), $"{p.Name}[{i}] with {what}");
        }
    }
}
