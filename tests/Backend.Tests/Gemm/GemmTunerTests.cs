using Dlc.Backend.Gemm;

namespace Dlc.Backend.Tests.Gemm;

/// <summary>
/// The "auto" provider's choice and its cache, with the trial replaced by fixed timings (so nothing here
/// depends on this machine's speed) and the cache in a fresh temporary folder per test.
/// </summary>
public sealed class GemmTunerTests : IDisposable
{
    private const string Machine = "Test CPU | flags 0123456789abcdef | 2 threads";
    private static readonly GemmShape Shape = new(false, true, 128, 256, 784);

    private readonly string _root = Path.Combine(Path.GetTempPath(), $"dlc-tuner-{Guid.NewGuid():N}");
    private readonly Named _fast = new("fast"), _slow = new("slow");
    private int _trials;

    public GemmTunerTests() => Directory.CreateDirectory(_root);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Folder => Path.Combine(_root, "dlc");

    private GemmTuner Tuner(string? folder) => new([_slow, _fast], new GemmTuningCache(folder, Machine), Trial);

    // The slow provider is listed first, so choosing it would mean the timings were ignored.
    private double[] Trial(GemmShape shape, IReadOnlyList<IGemm> providers)
    {
        _trials++;
        return providers.Select(p => p == _fast ? 1e-3 : 2e-3).ToArray();
    }

    [Fact]
    public void The_fastest_provider_is_chosen_once_per_shape_and_filed_in_the_cache_for_the_next_process()
    {
        var tuner = Tuner(Folder);
        tuner.Choose(false, true, 128, 256, 784).ShouldBeSameAs(_fast);
        tuner.Choose(false, true, 128, 256, 784).ShouldBeSameAs(_fast);
        _trials.ShouldBe(1);
        File.ReadAllText(Path.Combine(Folder, GemmTuningCache.FileName)).ShouldContain("\"NT 128x256x784\": \"fast\"");

        var next = Tuner(Folder);
        next.Choose(Shape).ShouldBeSameAs(_fast);
        _trials.ShouldBe(1);
        next.Decisions[Shape].ShouldBe("fast");
    }

    [Fact]
    public void Each_shape_and_transpose_gets_its_own_trial()
    {
        var tuner = Tuner(Folder);
        tuner.Choose(Shape);
        tuner.Choose(Shape with { TransB = false });
        tuner.Choose(Shape with { M = 1 });
        _trials.ShouldBe(3);
    }

    [Fact]
    public void A_corrupt_cache_file_is_ignored_and_replaced()
    {
        Directory.CreateDirectory(Folder);
        var file = Path.Combine(Folder, GemmTuningCache.FileName);
        // The last is a whole file of the first version, whose plan trial filed slower providers: measured again.
        new GemmTuningCache(Folder, Machine).Store(Shape, "slow");
        var versionOne = File.ReadAllText(file).Replace("\"version\": 2", "\"version\": 1");
        versionOne.ShouldContain("\"version\": 1");
        foreach (var junk in new[] { "{not json", "[1, 2]", "{\"version\": 2, \"machines\": 7}", "{\"version\": \"x\"}", "", versionOne })
        {
            File.WriteAllText(file, junk);
            _trials = 0;
            Tuner(Folder).Choose(Shape).ShouldBeSameAs(_fast);
            _trials.ShouldBe(1, junk);
            File.ReadAllText(file).ShouldContain("\"fast\"", customMessage: junk);
        }
    }

    [Fact]
    public void A_cache_folder_that_cannot_be_written_leaves_the_choice_working_in_memory()
    {
        // A file where the folder should be: creating the folder fails even for root.
        File.WriteAllText(Folder, "in the way");
        var tuner = Tuner(Folder);
        tuner.Choose(Shape).ShouldBeSameAs(_fast);
        tuner.Choose(Shape).ShouldBeSameAs(_fast);
        _trials.ShouldBe(1);
        File.ReadAllText(Folder).ShouldBe("in the way");
        Directory.GetFiles(_root).ShouldBe([Folder]);
    }

    [Fact]
    public void A_cached_provider_that_is_not_available_any_more_is_measured_again()
    {
        new GemmTuningCache(Folder, Machine).Store(Shape, "mkl");
        Tuner(Folder).Choose(Shape).ShouldBeSameAs(_fast);
        _trials.ShouldBe(1);
    }

    [Fact]
    public void Another_machine_signature_does_not_see_this_machines_decisions_but_keeps_its_own()
    {
        new GemmTuningCache(Folder, "Other CPU | flags ffff | 1 threads").Store(Shape, "slow");
        Tuner(Folder).Choose(Shape).ShouldBeSameAs(_fast);
        _trials.ShouldBe(1);
        new GemmTuningCache(Folder, "Other CPU | flags ffff | 1 threads").Lookup(Shape).ShouldBe("slow");
    }

    [Fact]
    public void Decisions_another_build_of_the_kernels_filed_are_measured_again_and_replaced()
    {
        new GemmTuningCache(Folder, Machine, "old build").Store(Shape, "slow");
        new GemmTuningCache(Folder, Machine, "old build").Store(Shape with { M = 1 }, "slow");
        new GemmTuningCache(Folder, Machine, "old build").Lookup(Shape).ShouldBe("slow");
        new GemmTuner([_slow, _fast], new GemmTuningCache(Folder, Machine, "new build"), Trial).Choose(Shape).ShouldBeSameAs(_fast);
        _trials.ShouldBe(1);
        new GemmTuningCache(Folder, Machine, "new build").Lookup(Shape).ShouldBe("fast");
        // The old build's other decision went with it: one set of decisions a machine.
        new GemmTuningCache(Folder, Machine, "new build").Lookup(Shape with { M = 1 }).ShouldBeNull();
        new GemmTuningCache(Folder, Machine, "old build").Lookup(Shape).ShouldBeNull();
        File.ReadAllText(Path.Combine(Folder, GemmTuningCache.FileName)).ShouldNotContain("old build");
    }

    [Fact]
    public void Without_a_cache_folder_or_with_one_provider_nothing_is_written()
    {
        Tuner(null).Choose(Shape).ShouldBeSameAs(_fast);
        new GemmTuner([_slow], new GemmTuningCache(Folder, Machine), Trial).Choose(Shape).ShouldBeSameAs(_slow);
        _trials.ShouldBe(1);
        Directory.Exists(Folder).ShouldBeFalse();
    }

    [Fact]
    public void Empty_products_are_not_timed()
    {
        Tuner(Folder).Choose(false, false, 0, 5, 5).ShouldBeSameAs(_slow);
        _trials.ShouldBe(0);
    }

    [Fact]
    public void The_machine_signature_names_the_cpu_model_its_flags_and_the_thread_count()
    {
        const string cpu = "processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu avx2 fma\n\nprocessor\t: 1\nmodel name\t: AMD EPYC\n";
        var signature = GemmTuningCache.MachineSignature(cpu, 2);
        signature.ShouldStartWith("AMD EPYC | flags ");
        signature.ShouldEndWith(" | 2 threads");
        GemmTuningCache.MachineSignature(cpu.Replace("avx2 ", ""), 2).ShouldNotBe(signature);
        GemmTuningCache.MachineSignature(cpu, 1).ShouldNotBe(signature);
    }

    [Fact]
    public void The_cache_lives_under_xdg_cache_home_when_it_is_absolute_and_under_home_otherwise()
    {
        GemmTuningCache.DefaultFolder(v => v == "XDG_CACHE_HOME" ? "/x/cache" : null, "/home/u").ShouldBe("/x/cache/dlc");
        GemmTuningCache.DefaultFolder(v => v == "XDG_CACHE_HOME" ? "relative" : null, "/home/u").ShouldBe("/home/u/.cache/dlc");
        GemmTuningCache.DefaultFolder(_ => null, "/home/u").ShouldBe("/home/u/.cache/dlc");
        GemmTuningCache.DefaultFolder(_ => null, null).ShouldBeNull();
    }

    [Fact]
    public void Auto_is_created_by_name_over_the_available_providers()
    {
        using var auto = (GemmTuner)GemmProviders.Create("auto", 1, mklAvailable: false, "no MKL here", out var warning);
        auto.Name.ShouldBe("auto");
        warning.ShouldBeNull();
        auto.Providers.Select(p => p.Name).ShouldBe(["managed"]);
        // One provider: the choice needs no trial and is that provider.
        auto.Choose(false, true, 128, 256, 784).ShouldBeSameAs(auto.Providers[0]);
    }

    [Fact]
    public unsafe void The_tuner_runs_each_product_on_the_provider_it_chose()
    {
        var tuner = Tuner(null);
        var c = new float[1];
        fixed (float* pc = c)
        {
            tuner.Sgemm(false, true, 128, 256, 784, 1f, null, 784, null, 784, 0f, pc, 256);
            tuner.SgemmFused(false, true, 128, 256, 784, 1f, null, 784, null, 784, 0f, pc, 256, GemmEpilogue.None);
        }
        _fast.Calls.ShouldBe(2);
        _slow.Calls.ShouldBe(0);
    }

    [Fact]
    public void The_real_trial_times_every_provider_at_the_shape()
    {
        using var one = new ManagedGemm(1);
        using var two = new ManagedGemm(2);
        var seconds = GemmTrial.Measure(new GemmShape(true, true, 9, 17, 33), [one, two]);
        seconds.Length.ShouldBe(2);
        seconds.ShouldAllBe(s => s > 0 && double.IsFinite(s));
    }

    /// <summary>A provider that only counts its calls.</summary>
    private sealed unsafe class Named(string name) : IGemm
    {
        public int Calls { get; private set; }

        public string Name => name;

        public void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha, float* a, int lda, float* b, int ldb,
            float beta, float* c, int ldc) => Calls++;

        public void SgemmFused(bool transA, bool transB, int m, int n, int k, float alpha, float* a, int lda, float* b, int ldb,
            float beta, float* c, int ldc, in GemmEpilogue epilogue) => Calls++;
    }
}
