using Dlc.Backend.Gemm;
using Dlc.Backend.Native;
using Dlc.Backend.Tests.Support;

namespace Dlc.Backend.Tests.Gemm;

public class GemmProvidersTests
{
    [Fact]
    public void Managed_is_created_by_name_with_the_requested_threads()
    {
        var gemm = GemmProviders.Create("managed", 2, out var warning);
        gemm.ShouldBeOfType<ManagedGemm>().Threads.ShouldBe(2);
        gemm.Name.ShouldBe("managed");
        warning.ShouldBeNull();
        ((ManagedGemm)gemm).Dispose();
    }

    [Fact]
    public void No_name_falls_back_to_managed_with_a_one_line_warning_when_mkl_is_missing()
    {
        var gemm = GemmProviders.Create(null, 1, mklAvailable: false, Mkl.NotFoundMessage(null), out var warning);
        gemm.ShouldBeOfType<ManagedGemm>();
        warning.ShouldNotBeNull();
        warning.ShouldContain("managed");
        warning.ShouldContain("bin/setup");
        warning.ShouldNotContain("\n");
    }

    [Fact]
    public void Asking_for_mkl_when_it_is_missing_throws_its_load_error_not_dll_not_found()
    {
        var error = Should.Throw<InvalidOperationException>(() =>
            GemmProviders.Create("mkl", 1, mklAvailable: false, Mkl.NotFoundMessage(null), out _));
        error.Message.ShouldContain("libmkl_rt.so");
    }

    [Fact]
    public void No_name_picks_mkl_when_mkl_is_present()
    {
        if (!MklGate.Available()) return;
        var gemm = GemmProviders.Create(null, 2, out var warning);
        gemm.ShouldBeOfType<MklGemm>().Name.ShouldBe("mkl");
        warning.ShouldBeNull();
    }

    [Fact]
    public void An_unknown_provider_name_is_refused_with_the_choices()
    {
        Should.Throw<ArgumentException>(() => GemmProviders.Create("cuda", 1, out _)).Message.ShouldContain("managed");
    }

    [Fact]
    public unsafe void Mkl_batch_strided_gemm_equals_one_product_per_matrix_when_mkl_is_present()
    {
        if (!MklGate.Available()) return;
        var gemm = new MklGemm(2);
        if (!Mkl.HasBatchStrided) return; // MKL before 2020 update 2 lacks it; the call would say so.
        const int batch = 3, m = 5, n = 7, k = 9;
        var a = TestData.Uniform(batch * m * k, 1, -1, 1);
        var b = TestData.Uniform(batch * k * n, 2, -1, 1);
        var c = TestData.Uniform(batch * m * n, 3, -1, 1);
        var expected = TestData.ToDouble(c);
        for (var i = 0; i < batch; i++)
        {
            ReferenceGemm.Gemm<double>(false, true, m, n, k, 0.5, TestData.ToDouble(a.AsSpan(i * m * k, m * k)), k,
                TestData.ToDouble(b.AsSpan(i * k * n, k * n)), k, 2.0, expected.AsSpan(i * m * n, m * n), n);
        }
        fixed (float* pa = a, pb = b, pc = c)
            gemm.SgemmBatchStrided(false, true, m, n, k, 0.5f, pa, k, m * k, pb, k, k * n, 2f, pc, n, m * n, batch);
        Close.All(c, expected, 1e-5, 1e-5, "batch strided");
    }
}
