using Dlc.Backend.Gemm;
using Dlc.Backend.Plans;
using Dlc.Compiler.Autodiff;
using Dlc.Compiler.Elaboration;
using Dlc.Compiler.Jobs;
using Dlc.Diagnostics;

namespace Dlc.Backend.Tests.Plans;

/// <summary>Checks a plan that has run against the double-precision reference interpreter on the same inputs.</summary>
internal static class PlanReference
{
    /// <summary>The loss and every parameter gradient of a training step, with every input of the graph as the plan has it.</summary>
    /// <param name="cancelling">
    /// Parameters whose gradient is a near-cancelling sum: a bias a training batch norm follows through per-sample layers
    /// only. Batch norm's input gradient sums to zero over the batch, so such a bias's gradient is what is left of terms
    /// the size of the step's other gradients, and its float error is theirs. These are compared at the scale of the
    /// step's largest gradient (in the Cnn of ConvolutionPlanTests, 1.5e-5 off on 0.008 with Intel MKL's AVX-512 tanh,
    /// whose results are within 1 ulp as its AVX2 ones are).
    /// </param>
    public static void ShouldMatch(GradientGraph gradients, ParameterStore store, ExecutionPlan plan, int batch, string what,
        IReadOnlyDictionary<string, int>? symbols = null, IReadOnlySet<string>? cancelling = null)
    {
        var graph = gradients.Graph;
        var feeds = graph.Inputs.ToDictionary(n => n.Name!, n => plan.Input(n.Name!).ToArray().Select(v => (double)v).ToArray());
        foreach (var p in graph.Parameters) feeds[p.Name] = store.Value(p.Name).ToArray().Select(v => (double)v).ToArray();
        var expected = ReferenceInterpreter.Run(graph, symbols ?? new Dictionary<string, int> { ["N"] = batch }, feeds);

        ((double)plan.Scalar(TrainingGraph.LossOutput)).ShouldBe(expected[gradients.Loss][0], 1e-5);
        var trainable = graph.Parameters.Where(p => p.Trainable).ToList();
        var largest = trainable.Max(p => expected[gradients.ParameterGradients[p.Name]].Max(Math.Abs));
        foreach (var p in trainable)
        {
            var actual = store.Gradient(p.Name).ToArray();
            var reference = expected[gradients.ParameterGradients[p.Name]];
            var scaleOf = cancelling?.Contains(p.Name) == true ? (Func<double, double>)(_ => largest) : Math.Abs;
            for (var i = 0; i < actual.Length; i++)
                ((double)actual[i]).ShouldBe(reference[i], 1e-5 + 1e-4 * scaleOf(reference[i]), $"{p.Name}[{i}] with {what}");
        }
    }

    /// <summary>
    /// One training step of a sequence model of `x` [N, T] (token indices when <paramref name="tokens"/>, else
    /// uniform features) on labels cycling over 4 classes, against the reference interpreter.
    /// </summary>
    /// <param name="lengths">With tokens: each sample's length, its tokens past it 0 (padding) and none before it.</param>
    /// <param name="adjust">Changes the initial parameters before the step (moves weight norms' g away from ‖v‖, say).</param>
    public static void SequenceStepShouldMatch(string source, string model, int batch, int steps, int threads, bool tokens, string what,
        int[]? lengths = null, Action<ParameterStore>? adjust = null, Action<ExecutionPlan>? inspect = null)
    {
        var file = ProgramCompiler.Compile(new SourceText("seq.dl", source));
        file.Diagnostics.ShouldBeEmpty();
        var gradients = TrainingGraph.Build(file.Elaborate(model, training: true), LossKind.CrossEntropy);
        var symbols = new Dictionary<string, int> { ["N"] = batch, ["T"] = steps };
        using var store = new ParameterStore(gradients.Graph.Parameters);
        store.Initialize(new Rng(3));
        adjust?.Invoke(store);
        using var plan = ExecutionPlan.Compile(gradients.Graph, store, new PlanOptions(symbols, GemmProviders.Create("managed", threads, out _)));
        var x = plan.Input("x");
        if (tokens)
        {
            for (var i = 0; i < x.Length; i++)
                x[i] = lengths is null ? (i * 5 + 2) % 7 : i % steps < lengths[i / steps] ? 1 + (i * 5 + 2) % 6 : 0;
        }
        else
        {
            new Rng(5).FillUniform(x, -1, 1);
        }
        var labels = plan.Input(TrainingGraph.TargetInput);
        for (var i = 0; i < labels.Length; i++) labels[i] = (i * 3 + 1) % 4;
        plan.Run();
        inspect?.Invoke(plan);
        ShouldMatch(gradients, store, plan, batch, what, symbols);
    }
}
