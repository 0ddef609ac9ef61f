using Dlc.Backend.Gemm;
using Dlc.Backend.Plans;
using Dlc.Compiler.Elaboration;
using Dlc.Compiler.Ir;
using Dlc.Compiler.Jobs;
using Dlc.Compiler.Autodiff;
using Dlc.Compiler.Passes;
using Dlc.Diagnostics;

namespace Dlc.Backend.Tests.Plans;

/// <summary>
/// The compiler's passes change how a graph is computed, never what: graphs after the passes give the numbers
/// the original gives, in the reference interpreter and in compiled plans with and without the backend's fusions.
/// </summary>
public class PassParityTests
{
    // Convolutions followed by evaluation-mode batch norms, with and without a bias, 2-D and 1-D.
    private const string Folded = """
        model Cnn (x: Tensor[N, 2, 9, 9]) : Tensor[N, 3] =
            x |> conv2d 8 (kernel = 3, padding = 1) |> batchNorm |> relu
              |> conv2d 6 (kernel = 3, stride = 2, bias = false) |> batchNorm |> relu |> maxPool 2
              |> flatten |> dense 3

        model Seq (x: Tensor[N, 2, 12]) : Tensor[N, 3] =
            x |> conv1d 4 (kernel = 3, padding = 1, bias = false) |> batchNorm |> relu |> maxPool 2
              |> flatten |> dense 3
        """;

    [Theory]
    [InlineData("Cnn", 2, 1)]
    [InlineData("Cnn", 2, 2)]
    [InlineData("Seq", 1, 1)]
    public void Folding_batch_norm_into_convolutions_keeps_the_evaluation_outputs(string model, int folds, int threads)
    {
        var file = ProgramCompiler.Compile(new SourceText("fold.dl", Folded));
        file.Diagnostics.ShouldBeEmpty();
        var graph = file.Models.First(m => m.Name == model).Graph;
        var folded = PassPipeline.Run(graph);
        folded.Nodes.Count(n => n.Op == Op.BatchNormFoldWeight).ShouldBe(folds);
        folded.Nodes.ShouldNotContain(n => n.Op == Op.BatchNorm);

        const int batch = 3;
        using var store = new ParameterStore(graph.Parameters);
        store.Initialize(new Rng(7));
        // Running statistics and affine parameters away from their starting values, so every term of the fold counts.
        var rng = new Rng(11);
        foreach (var p in graph.Parameters.Where(p => p.Name.Contains("batchNorm", StringComparison.Ordinal) && !p.Name.EndsWith("tracked", StringComparison.Ordinal)))
            rng.FillUniform(store.Value(p.Name), p.Name.EndsWith("var", StringComparison.Ordinal) ? 0.5f : -1f, 2f);
        var symbols = new Dictionary<string, int> { ["N"] = batch };
        var gemm = GemmProviders.Create("managed", threads, out _);
        using var plain = ExecutionPlan.Compile(graph, store, new PlanOptions(symbols, gemm) { Passes = PassSet.None });
        using var fast = ExecutionPlan.Compile(folded, store, new PlanOptions(symbols, gemm));
        new Rng(5).FillUniform(plain.Input("x"), -1, 1);
        plain.Input("x").CopyTo(fast.Input("x"));
        plain.Run();
        fast.Run();

        var feeds = new Dictionary<string, double[]> { ["x"] = plain.Input("x").ToArray().Select(v => (double)v).ToArray() };
        foreach (var p in graph.Parameters) feeds[p.Name] = store.Value(p.Name).ToArray().Select(v => (double)v).ToArray();
        var reference = ReferenceInterpreter.Run(graph, symbols, feeds)[graph.Outputs[0].Node];
        var after = ReferenceInterpreter.Run(folded, symbols, feeds)[folded.Outputs[0].Node];
        var (a, b) = (plain.Output(graph.Outputs[0].Name).ToArray(), fast.Output(folded.Outputs[0].Name).ToArray());
        for (var i = 0; i < reference.Length; i++)
        {
            after[i].ShouldBe(reference[i], 1e-9 + 1e-9 * Math.Abs(reference[i]), $"reference interpreter, output {i}");
            ((double)a[i]).ShouldBe(reference[i], 1e-4 + 1e-4 * Math.Abs(reference[i]), $"plan without passes, output {i}");
            ((double)b[i]).ShouldBe(reference[i], 1e-4 + 1e-4 * Math.Abs(reference[i]), $"plan after the passes, output {i}");
        }
    }

    [Fact]
    public void Folded_weights_follow_the_parameters_from_run_to_run()
    {
        var file = ProgramCompiler.Compile(new SourceText("fold.dl", Folded));
        var graph = file.Models.First(m => m.Name == "Seq").Graph;
        using var store = new ParameterStore(graph.Parameters);
        store.Initialize(new Rng(2));
        var symbols = new Dictionary<string, int> { ["N"] = 2 };
        var gemm = GemmProviders.Create("managed", 1, out _);
        using var plain = ExecutionPlan.Compile(graph, store, new PlanOptions(symbols, gemm) { Passes = PassSet.None });
        using var fast = ExecutionPlan.Compile(PassPipeline.Run(graph), store, new PlanOptions(symbols, gemm));
        new Rng(3).FillUniform(plain.Input("x"), -1, 1);
        plain.Input("x").CopyTo(fast.Input("x"));
        fast.Run();
        // Training moves the weights and statistics between evaluations; the same plan must see the new ones.
        new Rng(4).FillUniform(store.Value("Seq.conv1d.weight"), -1, 1);
        store.Value("Seq.batchNorm.running_var").Fill(3f);
        plain.Run();
        fast.Run();
        fast.Output("output").ToArray().ShouldBe(plain.Output("output").ToArray(), 1e-5f);
    }

    [Fact]
    public void Folding_constants_and_merging_expressions_keep_the_numbers()
    {
        var graph = IrParser.Parse("""
            %0 = input name="x" : [N,4]
            %1 = param name="M.w" init=uniform(4) : [3,4]
            %2 = const value=0.5 : []
            %3 = const value=4 : []
            %4 = mul %2, %3 : []
            %5 = broadcast %4 : [N,3]
            %6 = matmul transB %0, %1 : [N,3]
            %7 = matmul transB %0, %1 : [N,3]
            %8 = tanh %6 : [N,3]
            %9 = tanh %7 : [N,3]
            %10 = mul %8, %5 : [N,3]
            %11 = sub %10, %9 : [N,3]
            %12 = const value=1 : [N,3]
            %13 = div %11, %12 : [N,3]
            %14 = reshape %13 : [N,3,1]
            %15 = reshape %14 : [N,1,3]
            out y = %15
            """);
        var optimised = PassPipeline.Run(graph);
        optimised.Nodes.Count.ShouldBeLessThan(graph.Nodes.Count - 6);
        var symbols = new Dictionary<string, int> { ["N"] = 3 };
        var rng = new Random(1);
        var feeds = new Dictionary<string, double[]>
        {
            ["x"] = Enumerable.Range(0, 12).Select(_ => rng.NextDouble() * 2 - 1).ToArray(),
            ["M.w"] = Enumerable.Range(0, 12).Select(_ => rng.NextDouble() * 2 - 1).ToArray(),
        };
        var before = ReferenceInterpreter.Run(graph, symbols, feeds)[graph.Output("y")];
        var after = ReferenceInterpreter.Run(optimised, symbols, feeds)[optimised.Output("y")];
        after.ShouldBe(before, 1e-12);
    }

    [Theory]
    [InlineData("Cnn", 1)]
    [InlineData("Cnn", 2)]
    [InlineData("Seq", 2)]
    public void Values_sharing_memory_by_liveness_give_the_same_training_steps_bit_for_bit(string model, int threads)
    {
        var file = ProgramCompiler.Compile(new SourceText("fold.dl", Folded + "\ntrain " + model + " { data = fashionMnist; loss = crossEntropy }\n"));
        file.Diagnostics.ShouldBeEmpty();
        var gradients = TrainingGraph.Build(file.Elaborate(model, training: true), LossKind.CrossEntropy);
        var graph = gradients.Graph;
        const int batch = 4;
        var symbols = new Dictionary<string, int> { ["N"] = batch };
        var gemm = GemmProviders.Create("managed", threads, out _);
        using var ownStore = new ParameterStore(graph.Parameters);
        using var sharedStore = new ParameterStore(graph.Parameters);
        ownStore.Initialize(new Rng(9));
        sharedStore.Initialize(new Rng(9));
        var noSharing = PassSet.Parse(null, [PassSet.MemorySharing], out _);
        using var own = ExecutionPlan.Compile(graph, ownStore, new PlanOptions(symbols, gemm) { Passes = noSharing });
        using var shared = ExecutionPlan.Compile(graph, sharedStore, new PlanOptions(symbols, gemm));
        shared.SharesMemory.ShouldBeTrue();
        own.SharesMemory.ShouldBeFalse();
        shared.Memory().AllocatedBytes.ShouldBeLessThan(own.Memory().AllocatedBytes);

        // Several steps with new inputs: a value that wrongly shares memory with another would show in a later step.
        StepTogether((own, ownStore), (shared, sharedStore), batch, steps: 3, seed: 20);
    }

    // A residual block: relu(x + h) is a chain of two elementwise ops forward (the ReLU's result is read again
    // backward, so the tanh after it runs alone), and tanh_grad then relu_grad another backward. 5 samples of 400
    // values: two blocks of each chain, the second one short.
    private const string Residual = """
        model Res (x: Tensor[N, 4, 10, 10]) : Tensor[N, 3] =
            let h = x |> conv2d 4 (kernel = 3, padding = 1) |> relu |> conv2d 4 (kernel = 3, padding = 1)
            relu (x + h) |> tanh |> flatten |> dense 3

        train Res { data = fashionMnist; loss = crossEntropy }
        """;

    [Theory]
    [InlineData(1, 5)]
    [InlineData(2, 5)]
    [InlineData(2, 170)]
    public void Elementwise_chains_run_as_one_step_and_give_the_same_numbers_bit_for_bit(int threads, int batch)
    {
        // 170 samples of 400 values are past the 65,536 from which a chain's blocks are split over the threads (67 blocks,
        // the last one short).
        var file = ProgramCompiler.Compile(new SourceText("res.dl", Residual));
        file.Diagnostics.ShouldBeEmpty();
        var gradients = TrainingGraph.Build(file.Elaborate("Res", training: true), LossKind.CrossEntropy);
        var graph = gradients.Graph;
        var symbols = new Dictionary<string, int> { ["N"] = batch };
        var gemm = GemmProviders.Create("managed", threads, out _);
        using var plainStore = new ParameterStore(graph.Parameters);
        using var fusedStore = new ParameterStore(graph.Parameters);
        plainStore.Initialize(new Rng(4));
        fusedStore.Initialize(new Rng(4));
        using var plain = ExecutionPlan.Compile(graph, plainStore, new PlanOptions(symbols, gemm) { Passes = PassSet.Parse(null, [PassSet.ElementwiseFusion], out _) });
        using var fused = ExecutionPlan.Compile(graph, fusedStore, new PlanOptions(symbols, gemm));
        fused.StepLabels.ShouldContain(l => l.Contains(" add+relu ", StringComparison.Ordinal));
        fused.StepLabels.ShouldContain(l => l.Contains(" tanh_grad+relu_grad ", StringComparison.Ordinal));
        fused.StepCount.ShouldBeLessThan(plain.StepCount);
        fused.Fusions().ShouldContain(f => f.Kind.EndsWith("(elementwise chain)", StringComparison.Ordinal) && f.Fired);
        plain.Fusions().ShouldContain(f => f.Kind.EndsWith("(elementwise chain)", StringComparison.Ordinal) && !f.Fired && f.Reason!.Contains("elementwise-fusion"));

        StepTogether((plain, plainStore), (fused, fusedStore), batch, steps: 2, seed: 30);
        PlanReference.ShouldMatch(gradients, fusedStore, fused, batch, $"{threads} threads");
    }

    private const string Normed = """
        model Normed (x: Tensor[N, 9]) : Tensor[N, 3] =
            x |> dense 16 |> layerNorm |> relu |> dense 3

        train Normed { data = fashionMnist; loss = crossEntropy }
        """;

    [Theory]
    [InlineData(5)]
    [InlineData(4200)]
    public void Layer_norm_gradients_from_one_pass_match_the_reference_interpreter(int batch)
    {
        // 4,200 rows of 16 are past the 65,536 values from which the rows are split over the two threads.
        var file = ProgramCompiler.Compile(new SourceText("normed.dl", Normed));
        var gradients = TrainingGraph.Build(file.Elaborate("Normed", training: true), LossKind.CrossEntropy);
        var symbols = new Dictionary<string, int> { ["N"] = batch };
        using var gemm = new ManagedGemm(2);
        using var plainStore = new ParameterStore(gradients.Graph.Parameters);
        using var fusedStore = new ParameterStore(gradients.Graph.Parameters);
        using var plain = ExecutionPlan.Compile(gradients.Graph, plainStore,
            new PlanOptions(symbols, gemm) { Passes = PassSet.Parse(null, [PassSet.NormFusion], out _) });
        using var fused = ExecutionPlan.Compile(gradients.Graph, fusedStore, new PlanOptions(symbols, gemm));
        fused.StepLabels.ShouldContain(l => l.Contains(" layer_norm_input_grad+weight_grad+bias_grad ", StringComparison.Ordinal));
        fused.StepLabels.ShouldNotContain(l => l.Contains(" layer_norm_weight_grad ", StringComparison.Ordinal));
        plain.StepLabels.ShouldContain(l => l.Contains(" layer_norm_weight_grad ", StringComparison.Ordinal));
        fused.StepCount.ShouldBe(plain.StepCount - 2);
        fused.Fusions().ShouldContain(f => f.Kind == "layer norm's weight and input gradients" && f.Fired);
        fused.Fusions().ShouldContain(f => f.Kind == "layer norm's bias gradient with its input gradient" && f.Fired);
        plain.Fusions().ShouldContain(f => f.Kind == "layer norm's bias gradient with its input gradient" && !f.Fired);
        plain.Fusions().ShouldContain(f => f.Kind == "layer norm's weight and input gradients" && !f.Fired && f.Reason!.Contains("norm-fusion"));

        fusedStore.Initialize(new Rng(12));
        new Rng(13).FillUniform(fused.Input("x"), -1, 1);
        for (var i = 0; i < batch; i++) fused.Input(TrainingGraph.TargetInput)[i] = i % 3;
        fused.Run();
        PlanReference.ShouldMatch(gradients, fusedStore, fused, batch, $"batch {batch}");
    }

    // 7×7 planes (three vectors of sixteen and one value past them) and a 2-D batch norm of one value a plane; ReLUs keep
    // each batch norm's shift gradient from cancelling over the batch.
    private const string BatchNormed = """
        model BatchNormed (x: Tensor[N, 3, 7, 7]) : Tensor[N, 3] =
            x |> conv2d 8 (kernel = 3, padding = 1, bias = false) |> batchNorm |> relu
              |> conv2d 6 (kernel = 3, padding = 1, bias = false) |> batchNorm |> relu
              |> globalAvgPool |> batchNorm |> dense 3

        train BatchNormed { data = fashionMnist; loss = crossEntropy }
        """;

    [Theory]
    [InlineData(true, 1)]
    [InlineData(true, 2)]
    [InlineData(false, 2)]
    public void Batch_norm_gradients_from_one_pass_match_the_reference_interpreter(bool training, int threads)
    {
        // In evaluation (gradients through a trained model, as `explain` takes them) the running statistics normalise.
        const int batch = 6;
        var file = ProgramCompiler.Compile(new SourceText("batchnormed.dl", BatchNormed));
        var gradients = TrainingGraph.Build(file.Elaborate("BatchNormed", training), LossKind.CrossEntropy);
        var symbols = new Dictionary<string, int> { ["N"] = batch };
        var gemm = GemmProviders.Create("managed", threads, out _);
        using var plainStore = new ParameterStore(gradients.Graph.Parameters);
        using var fusedStore = new ParameterStore(gradients.Graph.Parameters);
        using var plain = ExecutionPlan.Compile(gradients.Graph, plainStore,
            new PlanOptions(symbols, gemm) { Passes = PassSet.Parse(null, [PassSet.NormFusion], out _) });
        using var fused = ExecutionPlan.Compile(gradients.Graph, fusedStore, new PlanOptions(symbols, gemm));
        fused.StepLabels.Count(l => l.Contains(" batch_norm_input_grad+weight_grad+bias_grad ", StringComparison.Ordinal)).ShouldBe(3);
        fused.StepLabels.ShouldNotContain(l => l.Contains(" batch_norm_weight_grad ", StringComparison.Ordinal));
        plain.StepLabels.Count(l => l.Contains(" batch_norm_weight_grad ", StringComparison.Ordinal)).ShouldBe(3);
        fused.StepCount.ShouldBe(plain.StepCount - 6);
        fused.Fusions().Count(f => f.Kind == "batch norm's weight and input gradients" && f.Fired).ShouldBe(3);
        fused.Fusions().Count(f => f.Kind == "batch norm's bias gradient with its input gradient" && f.Fired).ShouldBe(3);
        plain.Fusions().Count(f => f.Kind == "batch norm's weight and input gradients" && !f.Fired && f.Reason!.Contains("norm-fusion")).ShouldBe(3);

        foreach (var (plan, store) in new[] { (plain, plainStore), (fused, fusedStore) })
        {
            store.Initialize(new Rng(15));
            foreach (var p in gradients.Graph.Parameters.Where(p => p.Name.EndsWith("running_mean", StringComparison.Ordinal)))
                new Rng(16).FillUniform(store.Value(p.Name), -0.5f, 0.5f);
            foreach (var p in gradients.Graph.Parameters.Where(p => p.Name.EndsWith("running_var", StringComparison.Ordinal)))
                new Rng(17).FillUniform(store.Value(p.Name), 0.5f, 2f);
            new Rng(18).FillUniform(plan.Input("x"), -1, 1);
            for (var i = 0; i < batch; i++) plan.Input(TrainingGraph.TargetInput)[i] = i % 3;
            plan.Run();
            PlanReference.ShouldMatch(gradients, store, plan, batch, $"{(plan == fused ? "fused" : "apart")}, training {training}, {threads} threads");
        }
    }

    // conv A's input is the model's (no input gradient), B's stride 2 runs by im2col, C's 3×3 stride-1 by Winograd's
    // algorithm: 16 tiles of 7×7 a sample, 16 samples a product, so 40 samples make several products on each thread.
    private const string Convs = """
        model Convs (x: Tensor[N, 8, 16, 16]) : Tensor[N, 3] =
            x |> conv2d 8 (kernel = 3, padding = 1) |> relu
              |> conv2d 8 (kernel = 3, stride = 2) |> relu
              |> conv2d 8 (kernel = 3, padding = 1) |> relu |> flatten |> dense 3

        train Convs { data = fashionMnist; loss = crossEntropy }
        """;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Convolution_gradients_from_one_pass_give_the_same_numbers_bit_for_bit(int threads)
    {
        var file = ProgramCompiler.Compile(new SourceText("convs.dl", Convs));
        var gradients = TrainingGraph.Build(file.Elaborate("Convs", training: true), LossKind.CrossEntropy);
        const int batch = 40;
        var symbols = new Dictionary<string, int> { ["N"] = batch };
        var gemm = GemmProviders.Create("managed", threads, out _);
        using var plainStore = new ParameterStore(gradients.Graph.Parameters);
        using var fusedStore = new ParameterStore(gradients.Graph.Parameters);
        plainStore.Initialize(new Rng(14));
        fusedStore.Initialize(new Rng(14));
        using var plain = ExecutionPlan.Compile(gradients.Graph, plainStore,
            new PlanOptions(symbols, gemm) { Passes = PassSet.Parse(null, [PassSet.ConvGradFusion], out _) });
        using var fused = ExecutionPlan.Compile(gradients.Graph, fusedStore, new PlanOptions(symbols, gemm));
        // C's two gradients in one step; B's apart.
        fused.StepLabels.Count(l => l.Contains(" conv2d_input_grad+weight_grad ", StringComparison.Ordinal)).ShouldBe(1);
        fused.StepLabels.Count(l => l.Contains(" conv2d_weight_grad ", StringComparison.Ordinal)).ShouldBe(2);
        fused.StepCount.ShouldBe(plain.StepCount - 1);
        var kind = "a convolution's weight and input gradients";
        fused.Fusions().Count(f => f.Kind == kind && f.Fired).ShouldBe(1);
        fused.Fusions().ShouldContain(f => f.Kind == kind && !f.Fired && f.Reason!.Contains("im2col"));
        plain.Fusions().Count(f => f.Kind == kind && !f.Fired && f.Reason!.Contains(PassSet.ConvGradFusion)).ShouldBe(2);

        StepTogether((plain, plainStore), (fused, fusedStore), batch, steps: 2, seed: 40);
        PlanReference.ShouldMatch(gradients, fusedStore, fused, batch, $"{threads} threads");
    }

    private const string Wide = """
        model Wide (x: Tensor[N, 9]) : Tensor[N, 40] =
            x |> dense 16 |> relu |> dense 40

        train Wide { data = fashionMnist; loss = crossEntropy }
        """;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Cross_entropy_split_over_threads_matches_the_reference_interpreter(int threads)
    {
        // 2,000 rows of 40 logits are past the 65,536 values from which the rows are split; every seventh row is ignored.
        const int batch = 2000;
        var file = ProgramCompiler.Compile(new SourceText("wide.dl", Wide));
        var gradients = TrainingGraph.Build(file.Elaborate("Wide", training: true), LossKind.CrossEntropy);
        using var gemm = new ManagedGemm(threads);
        using var store = new ParameterStore(gradients.Graph.Parameters);
        using var plan = ExecutionPlan.Compile(gradients.Graph, store, new PlanOptions(new Dictionary<string, int> { ["N"] = batch }, gemm));
        plan.StepLabels.ShouldContain(l => l.Contains(" softmax_cross_entropy_grad ", StringComparison.Ordinal));
        store.Initialize(new Rng(21));
        new Rng(22).FillUniform(plan.Input("x"), -1, 1);
        for (var i = 0; i < batch; i++) plan.Input(TrainingGraph.TargetInput)[i] = i % 7 == 3 ? Dlc.Backend.Kernels.Losses.IgnoreLabel : i % 40;
        plan.Run();
        PlanReference.ShouldMatch(gradients, store, plan, batch, $"{threads} threads");
    }

    [Theory]
    [InlineData(5, 1)]
    [InlineData(2000, 2)]
    public void Bias_gradients_come_from_the_weight_gradient_products_and_match_the_reference(int batch, int threads)
    {
        // With 2,000 rows the weight gradients (k = the batch) are split over k between two threads.
        var file = ProgramCompiler.Compile(new SourceText("wide.dl", Wide));
        var gradients = TrainingGraph.Build(file.Elaborate("Wide", training: true), LossKind.CrossEntropy);
        using var plans = new FusedAndPlain(gradients, batch, threads, PassSet.GemmEpilogue);
        var (fused, fusedStore, plain, plainStore) = (plans.Fused, plans.FusedStore, plans.Plain, plans.PlainStore);
        fused.StepLabels.Count(l => l.Contains(" matmul+bias_grad transA ", StringComparison.Ordinal)).ShouldBe(2);
        fused.StepLabels.ShouldNotContain(l => l.Contains(" bias_grad [", StringComparison.Ordinal));
        plain.StepLabels.Count(l => l.Contains(" bias_grad [", StringComparison.Ordinal)).ShouldBe(2);
        fused.Fusions().Count(f => f.Kind == "bias gradient in the weight gradient's product" && f.Fired).ShouldBe(2);
        plain.Fusions().ShouldContain(f => f.Kind == "bias gradient in the weight gradient's product" && !f.Fired && f.Reason!.Contains("gemm-epilogue"));

        foreach (var (plan, store) in new[] { (fused, fusedStore), (plain, plainStore) })
        {
            store.Initialize(new Rng(31));
            new Rng(32).FillUniform(plan.Input("x"), -1, 1);
            for (var i = 0; i < batch; i++) plan.Input(TrainingGraph.TargetInput)[i] = i % 40;
            plan.Run();
            PlanReference.ShouldMatch(gradients, store, plan, batch, $"batch {batch}, {threads} threads");
        }
    }

    // A post-norm block: both residual adds follow a dense layer, and the gradients of h meet after the MLP's first layer.
    private const string Block = """
        model Block (x: Tensor[N, 5, 16]) : Tensor[N, 5, 16] =
            let h = (x + (x |> dense 16)) |> layerNorm
            (h + (h |> dense 24 |> relu |> dense 16)) |> layerNorm
        """;

    [Theory]
    [InlineData(1, 3)]
    [InlineData(2, 40)]
    public void Residual_adds_in_the_products_epilogues_match_the_reference_interpreter(int threads, int batch)
    {
        var file = ProgramCompiler.Compile(new SourceText("block.dl", Block));
        var gradients = TrainingGraph.Build(file.Elaborate("Block", training: true), LossKind.Mse);
        using var gemm = new ManagedGemm(threads);
        using var store = new ParameterStore(gradients.Graph.Parameters);
        using var plan = ExecutionPlan.Compile(gradients.Graph, store, new PlanOptions(new Dictionary<string, int> { ["N"] = batch }, gemm));
        // Forward: x + dense(x) and h + dense(…); backward: the gradient into h from the MLP plus the one from the norm.
        plan.StepLabels.Count(l => l.Contains("+residual", StringComparison.Ordinal)).ShouldBe(3);
        plan.StepLabels.ShouldNotContain(l => l.Contains(" add [", StringComparison.Ordinal));
        plan.Fusions().Count(f => f.Kind == "residual add in the product" && f.Fired).ShouldBe(3);
        store.Initialize(new Rng(51));
        new Rng(52).FillUniform(plan.Input("x"), -1, 1);
        new Rng(53).FillUniform(plan.Input(TrainingGraph.TargetInput), -1, 1);
        plan.Run();
        PlanReference.ShouldMatch(gradients, store, plan, batch, $"batch {batch}, {threads} threads");
    }

    private const string Regression = """
        model Reg (x: Tensor[N, 16]) : Tensor[N, 200] =
            x |> dense 200
        """;

    // 1 and 2 threads; a batch of 3 (600 predictions, below the split) and of 333 (66,600: split over the threads, with a
    // ragged last chunk).
    [Theory]
    [InlineData(1, 3)]
    [InlineData(2, 3)]
    [InlineData(2, 333)]
    public void The_mean_squared_error_and_its_gradient_fused_give_the_bits_of_the_two_kernels(int threads, int batch)
    {
        var file = ProgramCompiler.Compile(new SourceText("reg.dl", Regression));
        var gradients = TrainingGraph.Build(file.Elaborate("Reg", training: true), LossKind.Mse);
        using var plans = new FusedAndPlain(gradients, batch, threads, PassSet.LossFusion);
        var (fused, fusedStore, plain, plainStore) = (plans.Fused, plans.FusedStore, plans.Plain, plans.PlainStore);
        fused.StepLabels.ShouldNotContain(l => l.Contains(" mse [", StringComparison.Ordinal));
        plain.StepLabels.ShouldContain(l => l.Contains(" mse [", StringComparison.Ordinal));
        fused.Fusions().ShouldContain(f => f.Kind == "loss and its gradient" && f.Fired);
        plain.Fusions().ShouldContain(f => f.Kind == "loss and its gradient" && !f.Fired && f.Reason!.Contains("loss-fusion"));
        fusedStore.Initialize(new Rng(41));
        plainStore.Initialize(new Rng(41));
        for (var step = 0; step < 2; step++)
        {
            foreach (var plan in new[] { fused, plain })
            {
                new Rng(42 + (ulong)step).FillUniform(plan.Input("x"), -1, 1);
                new Rng(43 + (ulong)step).FillUniform(plan.Input(TrainingGraph.TargetInput), -1, 1);
                plan.Run();
            }
            fused.Scalar(TrainingGraph.LossOutput).ShouldBe(plain.Scalar(TrainingGraph.LossOutput), $"loss of step {step}");
            fused.Scalar(TrainingGraph.LossOutput).ShouldBeGreaterThan(0f);
            fusedStore.Gradients.Span.ToArray().ShouldBe(plainStore.Gradients.Span.ToArray(), $"gradients of step {step}");
        }
        PlanReference.ShouldMatch(gradients, fusedStore, fused, batch, $"batch {batch}, {threads} threads");
    }

    [Theory]
    [InlineData("none")]
    [InlineData("gemm-epilogue,loss-fusion")]
    [InlineData("relu-fusion,elementwise-fusion,share-memory")]
    public void Training_steps_with_any_choice_of_plan_passes_match_the_reference_interpreter(string passes)
    {
        var file = ProgramCompiler.Compile(new SourceText("res.dl", Residual));
        var gradients = TrainingGraph.Build(file.Elaborate("Res", training: true), LossKind.CrossEntropy);
        const int batch = 3;
        using var store = new ParameterStore(gradients.Graph.Parameters);
        store.Initialize(new Rng(6));
        using var plan = ExecutionPlan.Compile(gradients.Graph, store,
            new PlanOptions(new Dictionary<string, int> { ["N"] = batch }, GemmProviders.Create("managed", 2, out _)) { Passes = PassSet.Parse(passes, [], out _) });
        new Rng(8).FillUniform(plan.Input("x"), -1, 1);
        for (var i = 0; i < batch; i++) plan.Input(TrainingGraph.TargetInput)[i] = i;
        plan.Run();
        PlanReference.ShouldMatch(gradients, store, plan, batch, $"passes {passes}");
    }

    /// <summary>Two training plans of one graph on the managed GEMM, one with every pass and one without one, each with its own parameters.</summary>
    private sealed class FusedAndPlain : IDisposable
    {
        private readonly ManagedGemm _gemm;

        public FusedAndPlain(GradientGraph gradients, int batch, int threads, string without)
        {
            var symbols = new Dictionary<string, int> { ["N"] = batch };
            _gemm = new ManagedGemm(threads);
            FusedStore = new ParameterStore(gradients.Graph.Parameters);
            PlainStore = new ParameterStore(gradients.Graph.Parameters);
            Fused = ExecutionPlan.Compile(gradients.Graph, FusedStore, new PlanOptions(symbols, _gemm));
            Plain = ExecutionPlan.Compile(gradients.Graph, PlainStore, new PlanOptions(symbols, _gemm) { Passes = PassSet.Parse(null, [without], out _) });
        }

        public ExecutionPlan Fused { get; }
        public ExecutionPlan Plain { get; }
        public ParameterStore FusedStore { get; }
        public ParameterStore PlainStore { get; }

        public void Dispose()
        {
            Fused.Dispose();
            Plain.Dispose();
            FusedStore.Dispose();
            PlainStore.Dispose();
            _gemm.Dispose();
        }
    }

    /// <summary>
    /// Run two training plans of one graph on the same inputs for a few steps: the loss, every gradient and the
    /// state (running statistics) must agree bit for bit after each.
    /// </summary>
    private static void StepTogether((ExecutionPlan Plan, ParameterStore Store) a, (ExecutionPlan Plan, ParameterStore Store) b, int batch, int steps, ulong seed)
    {
        for (var step = 0; step < steps; step++)
        {
            new Rng(seed + (ulong)step).FillUniform(a.Plan.Input("x"), -1, 1);
            a.Plan.Input("x").CopyTo(b.Plan.Input("x"));
            for (var i = 0; i < batch; i++) a.Plan.Input(TrainingGraph.TargetInput)[i] = b.Plan.Input(TrainingGraph.TargetInput)[i] = (i + step) % 3;
            a.Plan.Run();
            b.Plan.Run();
            b.Plan.Scalar(TrainingGraph.LossOutput).ShouldBe(a.Plan.Scalar(TrainingGraph.LossOutput), $"loss of step {step}");
            b.Store.Gradients.Span.ToArray().ShouldBe(a.Store.Gradients.Span.ToArray(), $"gradients of step {step}");
            b.Store.Values.Span.ToArray().ShouldBe(a.Store.Values.Span.ToArray(), $"parameters and state after step {step}");
        }
    }
}
