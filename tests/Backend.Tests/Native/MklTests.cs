using System.Numerics.Tensors;
using Dlc.Backend.Gemm;
using Dlc.Backend.Kernels;
using Dlc.Backend.Native;
using Dlc.Backend.Tests.Support;

namespace Dlc.Backend.Tests.Native;

/// <summary>MKL loading, threading and VML. Tests named "when_mkl_is_present" return early without MKL
/// unless DLC_REQUIRE_MKL=1.</summary>
public class MklTests
{
    [Fact]
    public void Mkl_loads_with_its_version_and_the_gnu_threading_layer_when_mkl_is_present()
    {
        if (!MklGate.Available()) return;
        Mkl.LoadError.ShouldBeNull();
        Mkl.Version.ShouldNotBeNull().ShouldContain("Math Kernel Library");
        Mkl.ThreadingLayer.ShouldBe("gnu");
    }

    [Fact]
    public void Mkl_threads_sleep_between_calls_unless_the_environment_says_otherwise_when_mkl_is_present()
    {
        if (!MklGate.Available() || !OperatingSystem.IsLinux()) return;
        var policy = System.Runtime.InteropServices.Marshal.PtrToStringUTF8(LibC.GetEnv("OMP_WAIT_POLICY"));
        // The native environment libgomp read when MKL loaded it: the user's policy, or passive.
        policy.ShouldBe(Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") ?? Mkl.WaitPolicy);
    }

    [Fact]
    public void Mkl_runs_on_two_gnu_openmp_threads_when_asked_and_mkl_is_present()
    {
        if (!MklGate.Available() || Environment.ProcessorCount < 2) return;
        _ = new MklGemm(2);
        Mkl.MaxThreads.ShouldBe(2);
        // The GNU threading layer and libgomp are mapped once a threaded call has run.
        RunOneProduct(512);
        var maps = File.ReadAllText("/proc/self/maps");
        maps.ShouldContain("libmkl_gnu_thread");
        maps.ShouldContain("libgomp");
    }

    [Fact]
    public void A_missing_library_gives_a_one_line_hint_instead_of_dll_not_found()
    {
        var (handle, _, error) = Mkl.FindLibrary(["/nonexistent/libmkl_rt.so"], "/nonexistent/libmkl_rt.so");
        handle.ShouldBe(0);
        error.ShouldNotBeNull();
        error.ShouldStartWith("Intel MKL (libmkl_rt.so) was not found");
        error.ShouldContain("bin/setup installs it (Debian non-free: libmkl-rt)");
        error.ShouldContain("DLC_MKL");
        error.ShouldNotContain("\n");
    }

    [Fact]
    public void A_library_without_mkl_entry_points_is_refused()
    {
        var (handle, path, error) = Mkl.FindLibrary(["libc.so.6"], null);
        handle.ShouldBe(0);
        path.ShouldBe("libc.so.6");
        error.ShouldNotBeNull().ShouldContain("lacks");
    }

    public static TheoryData<string> Functions() => ["exp", "ln", "tanh", "erf"];

    // VML's high-accuracy mode and TensorPrimitives/ErrorFunction are each within about 1 ulp of the true
    // value, so they agree to a few ulps: rtol 4e-7 (≈ 3.4 ulps), with an absolute floor of 1e-37 for
    // results that underflow differently.
    [Theory]
    [MemberData(nameof(Functions))]
    public void Vml_function_agrees_with_the_managed_one_within_a_few_ulps_when_mkl_is_present(string function)
    {
        if (!MklGate.Available()) return;
        var x = function == "ln" ? TestData.Uniform(4099, 5, 1e-6f, 50f) : TestData.Uniform(4099, 5, -12f, 12f);
        var mkl = new float[x.Length];
        var managed = new float[x.Length];
        Action<float[], float[]> run = function switch
        {
            "exp" => (a, b) => VectorMath.Exp(a, b),
            "ln" => (a, b) => VectorMath.Ln(a, b),
            "tanh" => (a, b) => VectorMath.Tanh(a, b),
            _ => (a, b) => VectorMath.Erf(a, b),
        };
        using (VectorMath.Force(mkl: true)) run(x, mkl);
        using (VectorMath.Force(mkl: false)) run(x, managed);
        Close.All(mkl, managed, 4e-7, 1e-37, $"vml {function}");
    }

    [Fact]
    public void Vml_works_in_place_when_mkl_is_present()
    {
        if (!MklGate.Available()) return;
        var x = TestData.Uniform(100, 6, -3f, 3f);
        var expected = new float[x.Length];
        TensorPrimitives.Exp(x, expected);
        Mkl.Exp(x, x);
        Close.All(x, expected, 4e-7, 0, "in-place vsExp");
    }

    [Fact]
    public void Vml_refuses_spans_of_different_lengths_when_mkl_is_present()
    {
        if (!MklGate.Available()) return;
        Should.Throw<ArgumentException>(() => Mkl.Tanh(new float[3], new float[2]));
    }

    private static unsafe void RunOneProduct(int size)
    {
        var a = new float[size * size];
        var c = new float[size * size];
        fixed (float* pa = a, pc = c) new MklGemm(2).Sgemm(false, false, size, size, size, 1f, pa, size, pa, size, 0f, pc, size);
    }
}

/// <summary>The kernels that call VML give the same answers on MKL and on the managed math.</summary>
public class VmlKernelTests
{
    private delegate void Kernel(float[] x, float[] y);

    // Each kernel is a few roundings away from its managed twin; inputs stay below ~10 in magnitude, so
    // rtol 2e-6 (≈ 16 ulps) with an absolute floor of 1e-6 for values near cancellation is ample.
    public static TheoryData<string> Kernels() => ["tanh", "softmax", "log softmax", "log softmax backward"];

    [Theory]
    [MemberData(nameof(Kernels))]
    public void Vml_backed_kernel_agrees_with_the_managed_kernel_when_mkl_is_present(string kernel)
    {
        if (!MklGate.Available()) return;
        const int rows = 37, cols = 29;
        var x = TestData.Normal(rows * cols, 21, std: 3f);
        var dy = TestData.Normal(rows * cols, 22);
        Kernel run = kernel switch
        {
            "tanh" => (a, b) => Activations.Tanh(a, b),
            "softmax" => (a, b) => SoftmaxKernels.Softmax(a, b, rows, cols),
            "log softmax" => (a, b) => SoftmaxKernels.LogSoftmax(a, b, rows, cols),
            _ => (a, b) => SoftmaxKernels.LogSoftmaxBackward(a, dy, b, rows, cols),
        };
        var mkl = new float[x.Length];
        var managed = new float[x.Length];
        using (VectorMath.Force(mkl: true)) run(x, mkl);
        using (VectorMath.Force(mkl: false)) run(x, managed);
        Close.All(mkl, managed, 2e-6, 1e-6, kernel);
    }
}
