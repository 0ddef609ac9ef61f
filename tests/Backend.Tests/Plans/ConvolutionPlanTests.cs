using Dlc.Backend.Gemm;
using Dlc.Backend.Plans;
using Dlc.Compiler.Autodiff;
using Dlc.Compiler.Elaboration;
using Dlc.Compiler.Jobs;
using Dlc.Diagnostics;

namespace Dlc.Backend.Tests.Plans;

/// <summary>A small convolutional network compiled into a plan: one step against the definition, then training.</summary>
public class ConvolutionPlanTests
{
    private const string Source = """
        model Cnn (x: Tensor[N, 1, 8, 8]) : Tensor[N, 3] =
            x |> conv2d 4 (kernel = 3, padding = 1) |> relu |> maxPool 2
              |> conv2d 6 (kernel = 3, stride = 2, padding = 1, groups = 2) |> relu
              |> flatten |> dense 3

        train Cnn { data = fashionMnist; loss = crossEntropy }
        """;

    // Every other image layer with a kernel: batch norm (4-D, 3-D and 2-D), average pooling, the transposed
    // convolution and nearest upsampling, global pooling, and the 1-D convolution and pooling. A bias right
    // before a batch norm would have a gradient of exactly zero, which float sums only approximate: the
    // convolutions there have none, as in PyTorch models.
    private const string Layers = """
        model Cnn (x: Tensor[N, 1, 8, 8]) : Tensor[N, 3] =
            let h = x |> conv2d 4 (kernel = 3, padding = 1, bias = false) |> batchNorm |> relu |> avgPool 2
            let u = h |> convTranspose2d 3 (kernel = 3, stride = 2, padding = 1, outputPadding = 1) |> upsample 2 |> tanh
            u |> conv2d 5 (kernel = 3, stride = 2) |> tanh |> globalAvgPool |> batchNorm |> dense 3

        model Seq (x: Tensor[N, 2, 12]) : Tensor[N, 3] =
            x |> conv1d 4 (kernel = 3, padding = 1, bias = false) |> batchNorm |> relu |> maxPool 2
              |> conv1d 2 (kernel = 2, stride = 2) |> avgPool 3 |> flatten |> dense 3

        train Cnn { data = fashionMnist; loss = crossEntropy }
        """;

    // Convolutions Winograd's algorithm computes (3×3, stride 1, 8 channels or more), each followed by a ReLU
    // that runs in the convolution's step: the first reads the model's input (no input gradient), the
    // second has no padding and an odd output size (half tiles at the edge).
    private const string Wide = """
        model Wide (x: Tensor[N, 8, 9, 9]) : Tensor[N, 3] =
            x |> conv2d 8 (kernel = 3, padding = 1) |> relu
              |> conv2d 10 (kernel = 3) |> relu |> maxPool 2
              |> flatten |> dense 3

        train Wide { data = fashionMnist; loss = crossEntropy }
        """;

    private static GradientGraph TrainingGraphOf(string source = Source, string model = "Cnn")
    {
        var file = ProgramCompiler.Compile(new SourceText("cnn.dl", source));
        file.Diagnostics.ShouldBeEmpty();
        Capabilities.CheckTrain(file, file.Trains[0]).ShouldBeEmpty();
        return TrainingGraph.Build(file.Elaborate(model, training: true), LossKind.CrossEntropy);
    }

    [Theory]
    [InlineData("Cnn", 1)]
    [InlineData("Cnn", 2)]
    [InlineData("Seq", 1)]
    [InlineData("Seq", 2)]
    public void Training_steps_of_the_other_image_layers_match_the_reference_interpreter(string model, int threads)
    {
        var gradients = TrainingGraphOf(Layers, model);
        var graph = gradients.Graph;
        const int batch = 5;
        using var store = new ParameterStore(graph.Parameters);
        store.Initialize(new Rng(3));
        using var plan = ExecutionPlan.Compile(graph, store,
            new PlanOptions(new Dictionary<string, int> { ["N"] = batch }, GemmProviders.Create("managed", threads, out _)));
        new Rng(5).FillUniform(plan.Input("x"), -1, 1);
        var labels = plan.Input(TrainingGraph.TargetInput);
        for (var i = 0; i < batch; i++) labels[i] = i % 3;
        var statistics = graph.Parameters.Where(p => !p.Trainable).ToDictionary(p => p.Name, p => store.Value(p.Name).ToArray());
        plan.Run();

        // The Cnn's last batch norm follows the transposed convolution's and the last convolution's biases through
        // per-sample layers only: their gradients nearly cancel.
        PlanReference.ShouldMatch(gradients, store, plan, batch, $"{threads} threads",
            cancelling: new HashSet<string> { "Cnn.convTranspose2d.bias", "Cnn.conv2d2.bias" });
        // The step moved each batch norm's running statistics by momentum 0.1 towards the batch's, and counted it.
        foreach (var (name, before) in statistics)
        {
            var after = store.Value(name).ToArray();
            if (name.EndsWith("num_batches_tracked", StringComparison.Ordinal)) after.ShouldBe([before[0] + 1]);
            else after.ShouldNotBe(before, name);
        }
        plan.Profile(1).ShouldContain(s => s.Step.Contains("batch_norm+relu"), "batch norm writes the ReLU's output");
    }

    [Theory]
    [InlineData(1, true)]
    [InlineData(2, true)]
    [InlineData(2, false)]
    public void Winograd_convolutions_with_fused_relus_match_the_reference_interpreter(int threads, bool winograd)
    {
        var gradients = TrainingGraphOf(Wide, "Wide");
        var graph = gradients.Graph;
        const int batch = 5;
        using var store = new ParameterStore(graph.Parameters);
        store.Initialize(new Rng(3));
        using var plan = ExecutionPlan.Compile(graph, store,
            new PlanOptions(new Dictionary<string, int> { ["N"] = batch }, GemmProviders.Create("managed", threads, out _)) { Winograd = winograd });
        new Rng(5).FillUniform(plan.Input("x"), -1, 1);
        var labels = plan.Input(TrainingGraph.TargetInput);
        for (var i = 0; i < batch; i++) labels[i] = i % 3;
        plan.Run();

        PlanReference.ShouldMatch(gradients, store, plan, batch, $"{threads} threads, winograd {winograd}");
        var steps = plan.Profile(1).Select(s => s.Step).ToArray();
        steps.Count(s => s.Contains("conv2d+relu")).ShouldBe(2, "each convolution writes its ReLU's output");
        steps.ShouldNotContain(s => s.Contains(" relu ["));
    }

    [Fact]
    public void Running_statistics_follow_pytorch_and_the_optimiser_leaves_them_alone()
    {
        const string source = """
            model B (x: Tensor[N, 3]) : Tensor[N, 3] =
                x |> batchNorm (momentum = 0.5)

            train B { data = fashionMnist; loss = mse }
            """;
        var file = ProgramCompiler.Compile(new SourceText("b.dl", source));
        var gradients = TrainingGraph.Build(file.Elaborate("B", training: true), LossKind.Mse);
        using var store = new ParameterStore(gradients.Graph.Parameters);
        store.Initialize(new Rng(1));
        store.TrainableLength.ShouldBe(32); // weight and bias, each padded to 16 floats
        using var plan = ExecutionPlan.Compile(gradients.Graph, store,
            new PlanOptions(new Dictionary<string, int> { ["N"] = 4 }, GemmProviders.Create("managed", 1, out _)));
        float[] x = [1, 2, 3, 3, 2, 1, 5, 5, 5, 7, 8, 9];
        x.CopyTo(plan.Input("x"));
        plan.Run();
        // Channel 0 holds 1, 3, 5, 7: mean 4, unbiased variance 20/3; momentum 0.5 from mean 0 and variance 1.
        store.Value("B.batchNorm.running_mean")[0].ShouldBe(2f, 1e-6f);
        store.Value("B.batchNorm.running_var")[0].ShouldBe((1f + 20f / 3f) / 2f, 1e-5f);
        store.Value("B.batchNorm.num_batches_tracked")[0].ShouldBe(1f);
    }

    [Fact]
    public void A_convolutional_training_step_matches_the_reference_interpreter()
    {
        var gradients = TrainingGraphOf();
        var graph = gradients.Graph;
        const int batch = 5;
        using var store = new ParameterStore(graph.Parameters);
        store.Initialize(new Rng(3));
        using var plan = ExecutionPlan.Compile(graph, store,
            new PlanOptions(new Dictionary<string, int> { ["N"] = batch }, GemmProviders.Create("managed", 1, out _)));
        new Rng(5).FillUniform(plan.Input("x"), -1, 1);
        var labels = plan.Input(TrainingGraph.TargetInput);
        for (var i = 0; i < batch; i++) labels[i] = i % 3;
        plan.Run();

        PlanReference.ShouldMatch(gradients, store, plan, batch, "the managed GEMM");
        // The ReLU gradient before max pooling runs inside the pooling gradient's step; the second one, before
        // the dense layer, has a step of its own.
        var steps = plan.Profile(1).Select(s => s.Step).ToArray();
        steps.ShouldContain(s => s.Contains("max_pool_grad+drelu"));
        steps.Count(s => s.Contains(" relu_grad ")).ShouldBe(1);
    }

    [Fact]
    public void A_tiny_convolutional_model_learns_a_fixed_batch()
    {
        var graph = TrainingGraphOf().Graph;
        const int batch = 12;
        using var store = new ParameterStore(graph.Parameters);
        store.Initialize(new Rng(1));
        using var plan = ExecutionPlan.Compile(graph, store,
            new PlanOptions(new Dictionary<string, int> { ["N"] = batch }, GemmProviders.Create("managed", 1, out _)));
        new Rng(2).FillUniform(plan.Input("x"), -1, 1);
        var labels = plan.Input(TrainingGraph.TargetInput);
        for (var i = 0; i < batch; i++) labels[i] = i % 3;

        plan.Run();
        var first = plan.Scalar(TrainingGraph.LossOutput);
        var last = first;
        for (var step = 0; step < 60; step++)
        {
            // Plain gradient descent over the one contiguous parameter buffer.
            System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(store.Gradients.Span, -0.5f, store.Values.Span, store.Values.Span);
            plan.Run();
            last = plan.Scalar(TrainingGraph.LossOutput);
        }
        float.IsFinite(last).ShouldBeTrue();
        last.ShouldBeLessThan(first * 0.5f, $"loss {first} → {last}");
    }

    [Fact]
    public void A_convolutional_training_step_allocates_no_managed_memory()
    {
        var graph = TrainingGraphOf().Graph;
        using var store = new ParameterStore(graph.Parameters);
        store.Initialize(new Rng(1));
        using var plan = ExecutionPlan.Compile(graph, store,
            new PlanOptions(new Dictionary<string, int> { ["N"] = 8 }, GemmProviders.Create("managed", 1, out _)));
        // Past the JIT's tiering (methods are recompiled after their first 30 calls), which allocates on
        // the calling thread while it swaps code in; the steps themselves must not.
        for (var i = 0; i < 60; i++) plan.Run();
        Thread.Sleep(200);
        plan.Run();
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10; i++) plan.Run();
        (GC.GetAllocatedBytesForCurrentThread() - before).ShouldBe(0);
    }
}
