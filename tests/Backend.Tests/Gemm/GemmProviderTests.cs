using Dlc.Backend.Gemm;

namespace Dlc.Backend.Tests.Gemm;

/// <summary>
/// Every provider against ReferenceGemm (in double) over tiny, odd and large shapes, all four transposes,
/// alpha = 1.5, beta = −0.75, and padded strides. The "mkl" rows return early without MKL unless
/// DLC_REQUIRE_MKL=1 (see MklGate).
/// </summary>
public class GemmProviderTests
{
    // (m, n, k): the MLP shapes both ways round, single rows, a single column, 1×1×1, odd sizes, k in one block up to
    // 512 deep (257, 300), k past it in 256-deep blocks (accumulation over blocks: 784, 520, and 400 with a B too wide for
    // one block), n past the 1024-wide column panel, and products large enough for two threads split by columns (m < n),
    // by rows (300×40×100) and by k (20×30×2600, ragged last k block); two rows whose dot products (B transposed) end
    // in a partial vector, four columns at a time and one over (2×9×37); rows claimed a chunk at a time by two threads, one
    // from each end, whole chunks at both ends and two-tile chunks where they meet, the last of those ragged (401×70×90,
    // 777×64×40); at most 16 columns on AVX-512's narrow tile, on two threads and one, a ragged last tile of rows
    // (1000×10×256, 37×16×5); at most 8 columns of a transposed B as dot products row by row, on one thread and split by
    // rows over two (300×3×70, 2000×8×100).
    private static readonly (int M, int N, int K)[] Shapes =
    [
        (128, 784, 256), (128, 256, 784), (1, 784, 256), (1, 256, 784), (7, 1, 13), (1, 1, 1),
        (65, 129, 257), (3, 5, 2), (13, 17, 300), (40, 1100, 9), (6, 16, 1), (97, 33, 64), (300, 40, 100), (15, 48, 70), (16, 100, 256),
        (20, 30, 2600), (21, 40, 520), (33, 300, 400), (2, 9, 37), (401, 70, 90), (777, 64, 40), (1000, 10, 256), (37, 16, 5),
        (300, 3, 70), (2000, 8, 100),
    ];

    // The emulated 512-bit and the scalar kernels are slow here; small and medium shapes cover their edges.
    private const long SlowProviderLimit = 3_000_000;

    public static TheoryData<string, int, int, int, bool, bool> Cases()
    {
        var data = new TheoryData<string, int, int, int, bool, bool>();
        foreach (var provider in new[] { "mkl", "managed-1", "managed-2", "managed-512-emulated", "managed-scalar" })
        foreach (var (m, n, k) in Shapes)
        {
            if (provider.StartsWith("managed-5") || provider == "managed-scalar")
                if ((long)m * n * k > SlowProviderLimit) continue;
            foreach (var ta in new[] { false, true })
            foreach (var tb in new[] { false, true })
                data.Add(provider, m, n, k, ta, tb);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Provider_matches_the_reference_gemm_within_the_float_dot_product_bound_when_mkl_is_present_or_managed(
        string provider, int m, int n, int k, bool transA, bool transB)
    {
        var gemm = GemmCase.Provider(provider);
        if (gemm is null) return;
        try
        {
            GemmCase.Get(m, n, k, transA, transB).Check(gemm);
        }
        finally
        {
            (gemm as IDisposable)?.Dispose();
        }
    }

    /// <summary>Every row count up to two tiles and a half: whole tiles, and each edge a smaller kernel or scratch handles.</summary>
    public static TheoryData<string, int, bool> PackedCases()
    {
        var data = new TheoryData<string, int, bool>();
        foreach (var provider in new[] { "managed-1", "managed-512-emulated" })
        foreach (var m in Enumerable.Range(1, 20))
        foreach (var tb in new[] { false, true })
            data.Add(provider, m, tb);
        return data;
    }

    [Theory]
    [MemberData(nameof(PackedCases))]
    public void The_product_with_b_packed_once_matches_the_reference_at_every_edge(string provider, int m, bool transB)
    {
        using var gemm = (ManagedGemm)GemmCase.Provider(provider)!;
        // 40 columns leave a part-width strip; k = 300 runs two packed k blocks, the second adding onto the first.
        GemmCase.Get(m, 40, 300, false, transB).CheckPacked(gemm);
    }

    /// <summary>
    /// Two threads claiming rows where a thread's pack holds only part of op(B)'s columns (256K floats with AVX-512, 64K
    /// with AVX2): block after block of columns, each packed by a thread when its first claim there comes. The AVX-512
    /// case runs only where the CPU has it (emulated it would take minutes).
    /// </summary>
    [Theory]
    [InlineData(256, 400, 300, 250)]
    [InlineData(512, 400, 300, 1000)]
    public void Rows_claimed_block_of_columns_after_block_match_the_reference(int bits, int m, int n, int k)
    {
        var isa = bits == 512 ? GemmIsa.Vector512 : GemmIsa.Vector256;
        if (isa == GemmIsa.Vector512 && !System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated) return;
        using var gemm = new ManagedGemm(2, isa);
        foreach (var tb in new[] { false, true }) GemmCase.Get(m, n, k, false, tb).Check(gemm);
    }

    /// <summary>
    /// Products with fewer rows than a tile, B large enough (8.4M floats) that two threads split them by columns whether or
    /// not the worker is awake: one row and three, an odd width (a part ends inside the last 16 columns), all transposes.
    /// </summary>
    [Theory]
    [InlineData(1, 4099, 2050)]
    [InlineData(3, 1401, 2000)]
    public void Few_rows_split_by_columns_over_two_threads_match_the_reference(int m, int n, int k)
    {
        using var gemm = new ManagedGemm(2);
        foreach (var ta in new[] { false, true })
        foreach (var tb in new[] { false, true })
            GemmCase.Get(m, n, k, ta, tb).Check(gemm);
    }

    public static TheoryData<string> ProviderNames() => ["mkl", "managed-1", "managed-2", "managed-scalar"];

    [Theory]
    [MemberData(nameof(ProviderNames))]
    public unsafe void Beta_zero_overwrites_c_without_reading_its_nan_contents(string provider)
    {
        var gemm = GemmCase.Provider(provider);
        if (gemm is null) return;
        const int m = 20, n = 19, k = 18;
        var a = TestDataFor(m * k, 1);
        var b = TestDataFor(k * n, 2);
        var c = Enumerable.Repeat(float.NaN, m * n).ToArray();
        var expected = new double[m * n];
        ReferenceGemm.Gemm<double>(false, false, m, n, k, 2.0, Support.TestData.ToDouble(a), k, Support.TestData.ToDouble(b), n, 0.0, expected, n);
        fixed (float* pa = a, pb = b, pc = c) gemm.Sgemm(false, false, m, n, k, 2f, pa, k, pb, n, 0f, pc, n);
        Support.Close.All(c, expected, 1e-5, 1e-5, $"{gemm.Name} beta=0");
        (gemm as IDisposable)?.Dispose();
    }

    [Theory]
    [MemberData(nameof(ProviderNames))]
    public unsafe void Alpha_zero_or_empty_k_only_scales_c_by_beta(string provider)
    {
        var gemm = GemmCase.Provider(provider);
        if (gemm is null) return;
        const int m = 9, n = 11;
        var a = Enumerable.Repeat(float.NaN, m * 4).ToArray();
        var b = Enumerable.Repeat(float.NaN, 4 * n).ToArray();
        var c = TestDataFor(m * n, 3);
        var c2 = (float[])c.Clone();
        fixed (float* pa = a, pb = b, pc = c, pc2 = c2)
        {
            gemm.Sgemm(false, true, m, n, 4, 0f, pa, 4, pb, 4, 0.5f, pc, n);
            gemm.Sgemm(true, false, m, n, 0, 1f, pa, m, pb, n, -2f, pc2, n);
        }
        var original = TestDataFor(m * n, 3);
        for (var i = 0; i < c.Length; i++)
        {
            c[i].ShouldBe(0.5f * original[i]);
            c2[i].ShouldBe(-2f * original[i]);
        }
        (gemm as IDisposable)?.Dispose();
    }

    [Theory]
    [MemberData(nameof(ProviderNames))]
    public unsafe void A_row_stride_shorter_than_a_row_is_refused(string provider)
    {
        var gemm = GemmCase.Provider(provider);
        if (gemm is null) return;
        var a = new float[64];
        fixed (float* p = a)
        {
            var pointer = p;
            Should.Throw<ArgumentOutOfRangeException>(() => gemm.Sgemm(false, false, 4, 4, 4, 1f, pointer, 3, pointer, 4, 0f, pointer, 4));
            Should.Throw<ArgumentOutOfRangeException>(() => gemm.Sgemm(false, true, 4, 4, 5, 1f, pointer, 5, pointer, 4, 0f, pointer, 4));
            Should.Throw<ArgumentOutOfRangeException>(() => gemm.Sgemm(false, false, 4, 4, 4, 1f, pointer, 4, pointer, 4, 0f, pointer, 3));
        }
        (gemm as IDisposable)?.Dispose();
    }

    [Fact]
    public void Managed_gemm_shared_by_several_threads_gives_each_caller_its_own_correct_product()
    {
        using var gemm = new ManagedGemm(2);
        var problem = GemmCase.Get(97, 33, 64, false, true);
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 4 }, _ => problem.Check(gemm));
    }

    [Fact]
    public void Reference_gemm_in_double_computes_a_hand_checked_product()
    {
        // [1 2; 3 4]·[5 6; 7 8] = [19 22; 43 50]; times 2, plus 10·C with C = 1.
        double[] a = [1, 2, 3, 4], b = [5, 6, 7, 8], c = [1, 1, 1, 1];
        ReferenceGemm.Gemm<double>(false, false, 2, 2, 2, 2.0, a, 2, b, 2, 10.0, c, 2);
        c.ShouldBe([48.0, 54.0, 96.0, 110.0]);
        // Aᵀ·Bᵀ with the same storage: [1 3; 2 4]·[5 7; 6 8] = [23 31; 34 46].
        double[] d = new double[4];
        ReferenceGemm.Gemm<double>(true, true, 2, 2, 2, 1.0, a, 2, b, 2, 0.0, d, 2);
        d.ShouldBe([23.0, 31.0, 34.0, 46.0]);
    }

    private static float[] TestDataFor(int length, ulong seed) => Support.TestData.Uniform(length, seed, -1f, 1f);
}
