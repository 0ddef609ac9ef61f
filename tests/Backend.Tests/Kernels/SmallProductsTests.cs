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
        // Six-row tiles, four-row tiles and single rows, alone and after one another; with AVX-512 and 32 or 64 columns,
        // eight-row tiles before them.
        foreach (var m in new[] { 1, 3, 4, 5, 6, 8, 9, 10, 13, 17 })
        {
            foreach (var (n, k) in new[] { (8, 1), (16, 7), (24, 33), (40, 5), (32, 9), (64, 20) })
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

    // Below one 8×8 block; whole blocks only (a head's keys, 64 × 32); whole blocks with ragged rows and columns after them.
    [Theory]
    [InlineData(3, 4, 5, 6)]
    [InlineData(64, 32, 96, 64)]
    [InlineData(19, 21, 23, 20)]
    public void A_transpose_swaps_rows_and_columns(int rows, int cols, int srcStride, int ldd)
    {
        var src = Enumerable.Range(0, rows * srcStride).Select(i => (float)i).ToArray();
        var dst = Enumerable.Repeat(-1f, cols * ldd).ToArray();
        fixed (float* s = src, d = dst) SmallProducts.Transpose(s, srcStride, rows, cols, d, ldd);
        for (var j = 0; j < cols; j++)
        {
            for (var i = 0; i < ldd; i++) dst[j * ldd + i].ShouldBe(i < rows ? src[i * srcStride + j] : -1f, $"dst[{j}, {i}]");
        }
    }
}
