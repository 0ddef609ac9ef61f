using Dlc.Backend.Gemm;
using Dlc.Backend.Native;
using Dlc.Backend.Plans;
using Dlc.Compiler.Autodiff;
using Dlc.Compiler.Elaboration;
using Dlc.Compiler.Ir;
using Dlc.Compiler.Jobs;
using Dlc.Diagnostics;

namespace Dlc.Backend.Tests.Plans;

/// <summary>A compiled training step against the double-precision definition, for each GEMM provider.</summary>
public class ExecutionPlanTests
{
    private const string Source = """
        model Mlp (x: Tensor[N, 13]) : Tensor[N, 5] =
            x |> dense 17 |> relu |> dense 9 |> tanh |> dense 7 |> gelu |> dense 5

        train Mlp { data = fashionMnist; loss = crossEntropy }
        """;

    private static GradientGraph TrainingGraphOf(string source)
    {
        var file = ProgramCompiler.Compile(new SourceText("plan.dl", source));
        file.Diagnostics.ShouldBeEmpty();
        return TrainingGraph.Build(file.Elaborate(file.Models[0].Name, training: true), LossKind.CrossEntropy);
    }

    public static TheoryData<string> Providers() => new("managed", "mkl");

    /// <summary>A training plan on two threads with seeded parameters, x uniform in [−1, 1] and labels i mod 5.</summary>
    private static (ParameterStore Store, ExecutionPlan Plan) Prepared(GradientGraph gradients, int batch, string provider, ulong parameterSeed,
        ulong dataSeed)
    {
        var store = new ParameterStore(gradients.Graph.Parameters);
        store.Initialize(new Rng(parameterSeed));
        var plan = ExecutionPlan.Compile(gradients.Graph, store,
            new PlanOptions(new Dictionary<string, int> { ["N"] = batch }, GemmProviders.Create(provider, 2, out _)));
        new Rng(dataSeed).FillUniform(plan.Input("x"), -1, 1);
        var labels = plan.Input(TrainingGraph.TargetInput);
        for (var i = 0; i < batch; i++) labels[i] = i % 5;
        return (store, plan);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public void A_training_step_matches_the_reference_interpreter(string provider)
    {
        if (provider == "mkl" && !MklAvailable()) return;
        var gradients = TrainingGraphOf(Source);
        const int batch = 11;
        var (store, plan) = Prepared(gradients, batch, provider, parameterSeed: 3, dataSeed: 5);
        using (store)
        using (plan)
        {
            plan.Run();
            PlanReference.ShouldMatch(gradients, store, plan, batch, provider);
        }
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public void A_training_step_allocates_no_managed_memory(string provider)
    {
        if (provider == "mkl" && !MklAvailable()) return;
        var graph = TrainingGraphOf(Source).Graph;
        using var store = new ParameterStore(graph.Parameters);
        store.Initialize(new Rng(1));
        using var plan = ExecutionPlan.Compile(graph, store,
            new PlanOptions(new Dictionary<string, int> { ["N"] = 64 }, GemmProviders.Create(provider, 1, out _)));
        // Past the JIT's tiering (methods are recompiled after their first 30 calls), which allocates on
        // the calling thread while it swaps code in; the steps themselves must not.
        for (var i = 0; i < 60; i++) plan.Run();
        Thread.Sleep(200);
        plan.Run();
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++) plan.Run();
        (GC.GetAllocatedBytesForCurrentThread() - before).ShouldBe(0);
    }

    [Fact]
    public void Bias_adds_activations_and_activation_gradients_run_inside_the_gemm()
    {
        var graph = TrainingGraphOf(Source).Graph;
        using var store = new ParameterStore(graph.Parameters);
        using var plan = ExecutionPlan.Compile(graph, store,
            new PlanOptions(new Dictionary<string, int> { ["N"] = 4 }, GemmProviders.Create("managed", 1, out _)));
        var steps = plan.Profile(1).Select(s => s.Step).ToList();
        // relu and tanh fuse into their layer's GEMM; gelu too, keeping its derivative for its gradient's GEMM.
        steps.Count(s => s.Contains("matmul+bias+relu ")).ShouldBe(1);
        steps.Count(s => s.Contains("matmul+bias+tanh ")).ShouldBe(1);
        steps.Count(s => s.Contains("matmul+bias+gelu&gelu′ ")).ShouldBe(1);
        steps.Count(s => s.Contains("matmul+bias ")).ShouldBe(1);
        steps.ShouldNotContain(s => s.Contains(" relu ") || s.Contains(" tanh ") || s.Contains(" gelu ") || s.Contains(" bias_add "));
        // Each activation's gradient is applied by the GEMM that computes the gradient flowing into it.
        steps.Count(s => s.Contains("matmul+drelu") || s.Contains("matmul+dtanh") || s.Contains("matmul+×gelu′")).ShouldBe(3);
    }

    [Fact]
    public void Large_element_wise_and_bias_gradient_steps_split_over_threads_match_the_reference()
    {
        // 256 rows of 300: past the 65,536 values from which bias gradients (in column strips) and element-wise
        // steps run split over the plan's two threads.
        var gradients = TrainingGraphOf("""
            model Wide (x: Tensor[N, 13]) : Tensor[N, 5] =
                x |> dense 300 |> relu |> dense 300 |> gelu |> dense 5

            train Wide { data = fashionMnist; loss = crossEntropy }
            """);
        const int batch = 256;
        var (store, plan) = Prepared(gradients, batch, "managed", parameterSeed: 8, dataSeed: 9);
        using (store)
        using (plan)
        {
            plan.Run();
            PlanReference.ShouldMatch(gradients, store, plan, batch, "managed");
        }
    }

    private const string SharedPreActivation = """
        let both (x: Tensor) =
            let z = x |> dense 7
            (z |> gelu |> dense 5) + (z |> dense 5)

        model Shared (x: Tensor[N, 13]) : Tensor[N, 5] = x |> both

        train Shared { data = fashionMnist; loss = crossEntropy }
        """;

    [Theory]
    [MemberData(nameof(Providers))]
    public void A_gelu_whose_input_is_read_elsewhere_keeps_its_input_and_still_matches_the_reference(string provider)
    {
        if (provider == "mkl" && !MklAvailable()) return;
        var gradients = TrainingGraphOf(SharedPreActivation);
        const int batch = 6;
        var (store, plan) = Prepared(gradients, batch, provider, parameterSeed: 4, dataSeed: 6);
        using (store)
        using (plan)
        {
            var steps = plan.StepLabels;
            steps.ShouldNotContain(s => s.Contains("gelu′"));
            steps.ShouldContain(s => s.Contains(" gelu "));
            plan.Run();
            PlanReference.ShouldMatch(gradients, store, plan, batch, provider);
        }
    }

    [Fact]
    public void An_inference_plan_fuses_gelu_too_because_nothing_else_reads_its_input()
    {
        var file = ProgramCompiler.Compile(new SourceText("plan.dl", Source));
        var graph = file.Elaborate("Mlp", training: false).Graph;
        using var store = new ParameterStore(graph.Parameters);
        using var plan = ExecutionPlan.Compile(graph, store,
            new PlanOptions(new Dictionary<string, int> { ["N"] = 4 }, GemmProviders.Create("managed", 1, out _)));
        plan.Profile(1).Select(s => s.Step).Count(s => s.Contains("matmul+bias+gelu ")).ShouldBe(1);
        plan.StepCount.ShouldBe(4);
    }

    [Fact]
    public void The_auto_provider_times_the_whole_plan_and_leaves_the_dropout_stream_as_it_was()
    {
        var file = ProgramCompiler.Compile(new SourceText("plan.dl",
            "model D (x: Tensor[N, 8]) : Tensor[N, 4] =\n    x |> dense 16 |> relu |> dropout 0.5 |> dense 4\n\ntrain D { data = fashionMnist }\n"));
        var graph = TrainingGraph.Build(file.Elaborate("D", training: true), LossKind.CrossEntropy).Graph;
        using var store = new ParameterStore(graph.Parameters);
        var rng = new Rng(9);
        var before = rng.GetState();
        using var tuner = new GemmTuner([new ManagedGemm(1), new ManagedGemm(2)], 1);
        using var plan = ExecutionPlan.Compile(graph, store, new PlanOptions(new Dictionary<string, int> { ["N"] = 16 }, tuner) { Rng = rng });
        plan.GemmName.ShouldBe("managed");
        rng.GetState().ShouldBe(before);
    }

    /// <summary>MKL is installed by bin/setup; bin/test sets DLC_REQUIRE_MKL=1 so its absence fails instead of passing quietly.</summary>
    private static bool MklAvailable()
    {
        if (Mkl.IsAvailable) return true;
        Environment.GetEnvironmentVariable("DLC_REQUIRE_MKL").ShouldNotBe("1", Mkl.LoadError);
        return false;
    }
}
