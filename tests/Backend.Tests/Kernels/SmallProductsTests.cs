using Dlc.Backend.Kernels;
using Dlc.Backend.Tests.Support;

namespace Dlc.Backend.Tests.Kernels;

/// <summary>
/// The unpacked products attention runs on, against a double sum: A read in place or transposed, row counts on both
/// sides of the four-row tile, column counts with and without an eight-column tail, strides wider than the matrices.
/// </summary>
public unsafe class SmallProductsTests
{
    public static TheoryData<int, int, int, bool> Cases()
    {
        var data = new TheoryData<int, int, int, bool>();
        foreach (var m in new[] { 1, 3, 4, 5, 9 })
        {
            foreach (var (n, k) in new[] { (8, 1), (16, 7), (24, 33), (40, 5) })
            {
                foreach (var transposed in new[] { false, true }) data.Add(m, n, k, transposed);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_product_matches_a_double_sum(int m, int n, int k, bool transposed)
    {
        if (!SmallProducts.IsSupported) return;
        // A is m×k (row stride k + 3), or stored k×m (row stride m + 2) and read transposed; B is k×n (stride n + 5).
        var (lda, ldb, ldc) = (transposed ? m + 2 : k + 3, n + 5, n + 8);
        var a = TestData.Normal((transposed ? k : m) * lda, 1);
        var b = TestData.Normal(k * ldb, 2);
        var c = TestData.Normal(m * ldc, 3);
        var before = (float[])c.Clone();
        const float alpha = 0.7f;
        fixed (float* pa = a, pb = b, pc = c)
        {
            if (transposed) SmallProducts.Multiply(m, n, k, alpha, pa, 1, lda, pb, ldb, pc, ldc);
            else SmallProducts.Multiply(m, n, k, alpha, pa, lda, 1, pb, ldb, pc, ldc);
        }
        for (var i = 0; i < m; i++)
        {
            var expected = new double[n];
            for (var j = 0; j < n; j++)
            {
                for (var p = 0; p < k; p++)
                    expected[j] += (double)(transposed ? a[p * lda + i] : a[i * lda + p]) * b[p * ldb + j];
                expected[j] *= alpha;
            }
            Close.All(c.AsSpan(i * ldc, n), expected, 1e-5, 1e-5, $"row {i}");
            // The padding of each row of C is left alone.
            c.AsSpan(i * ldc + n, ldc - n).ToArray().ShouldBe(before.AsSpan(i * ldc + n, ldc - n).ToArray());
        }
    }

    [Fact]
    public void Columns_that_are_not_a_multiple_of_eight_are_refused()
    {
        var buffer = new float[64];
        fixed (float* p = buffer)
        {
            var q = p;
            Should.Throw<ArgumentException>(() => SmallProducts.Multiply(1, 12, 1, 1f, q, 1, 1, q, 12, q, 12));
        }
    }

    [Fact]
    public void A_transpose_swaps_rows_and_columns()
    {
        var src = Enumerable.Range(0, 3 * 5).Select(i => (float)i).ToArray();
        var dst = new float[4 * 6];
        fixed (float* s = src, d = dst) SmallProducts.Transpose(s, 5, 3, 4, d, 6);
        for (var i = 0; i < 3; i++)
        {
            for (var j = 0; j < 4; j++) dst[j * 6 + i].ShouldBe(src[i * 5 + j]);
        }
    }
}
