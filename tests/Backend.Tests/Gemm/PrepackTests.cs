using System.Runtime.Intrinsics;
using Dlc.Backend.Gemm;

namespace Dlc.Backend.Tests.Gemm;

/// <summary>
/// op(B) packed once (<see cref="ManagedGemm.Prepack"/>) for products whose rows two threads claim: the same bits as a
/// product that packs B itself, the copy (not B) read, and no copy offered where a product would not read one.
/// </summary>
public unsafe class PrepackTests
{
    // A dense layer at batch 1000 both ways round (B transposed, as a plan's weights are, and not), with bias and ReLU;
    // 1000×128×256 fits one claim block on either kernel (AVX2 claims 64K floats of B at a time), 784 deep only on AVX-512's.
    public static TheoryData<int, int, int, bool> Shapes() => new()
    {
        { 1000, 128, 256, true }, { 1000, 128, 256, false }, { 999, 96, 200, true }, { 1000, 256, 784, true },
    };

    private static IEnumerable<GemmIsa> Isas()
    {
        if (Vector256.IsHardwareAccelerated) yield return GemmIsa.Vector256;
        if (Vector512.IsHardwareAccelerated) yield return GemmIsa.Vector512;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void A_product_reading_the_packed_copy_matches_one_that_packs_b_bit_for_bit(int m, int n, int k, bool transB)
    {
        foreach (var isa in Isas())
        {
            using var gemm = new ManagedGemm(2, isa);
            using var operands = new Operands(m, n, k, transB);
            using var packed = gemm.Prepack(false, transB, m, n, k, operands.B, operands.Ldb);
            if (packed is null)
            {
                // Only a B too large for one block of the AVX2 kernel's claims may be declined.
                (isa == GemmIsa.Vector256 && k > 256).ShouldBeTrue($"{isa} declined {m}×{n}×{k}");
                continue;
            }
            var expected = operands.Run(gemm, null);
            var actual = operands.Run(gemm, packed);
            actual.ShouldBe(expected, $"{isa} {m}×{n}×{k}");
        }
    }

    [Fact]
    public void The_product_reads_the_packed_copy_not_b()
    {
        using var gemm = new ManagedGemm(2);
        using var operands = new Operands(1000, 128, 256, transB: true);
        using var packed = gemm.Prepack(false, true, 1000, 128, 256, operands.B, operands.Ldb);
        packed.ShouldNotBeNull();
        var before = operands.Run(gemm, null);
        new Span<float>(operands.B, 128 * 256).Clear();

        operands.Run(gemm, packed).ShouldBe(before);
        // Without the copy the product reads B, now zero: C holds the bias through the ReLU.
        operands.Run(gemm, null).ShouldAllBe(v => v >= 0f && v <= 1f);
    }

    [Fact]
    public void No_copy_is_offered_where_the_product_would_not_read_one()
    {
        using var two = new ManagedGemm(2);
        using var one = new ManagedGemm(1);
        using var operands = new Operands(1000, 128, 2048, transB: true);
        // A batch of one reads B in place (with AVX-512 it has a copy stored k×n only with B transposed and 64 columns or
        // more, see SkipZerosTests); one thread packs block by block; a transposed A is packed; 2048 deep is past one
        // pass; a B as deep as it is tall (a weight gradient) is split over k.
        two.Prepack(false, false, 1, 128, 256, operands.B, 128).ShouldBeNull();
        two.Prepack(false, true, 1, 48, 256, operands.B, 256).ShouldBeNull();
        using (var rows = two.Prepack(false, true, 1, 128, 256, operands.B, 256))
            (rows is not null).ShouldBe(System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated);
        one.Prepack(false, true, 1000, 128, 256, operands.B, 256).ShouldBeNull();
        two.Prepack(true, true, 1000, 128, 256, operands.B, 256).ShouldBeNull();
        two.Prepack(false, true, 1000, 128, 2048, operands.B, 2048).ShouldBeNull();
        two.Prepack(false, true, 100, 128, 2048, operands.B, 2048).ShouldBeNull();
        using var scalar = new ManagedGemm(2, GemmIsa.Scalar);
        scalar.Prepack(false, true, 1000, 128, 256, operands.B, 256).ShouldBeNull();
    }

    [Fact]
    public void A_copy_of_another_b_shape_or_provider_is_refused()
    {
        using var gemm = new ManagedGemm(2);
        using var other = new ManagedGemm(2);
        using var operands = new Operands(1000, 128, 256, transB: true);
        using var packed = gemm.Prepack(false, true, 1000, 128, 256, operands.B, operands.Ldb)!;
        Should.Throw<ArgumentException>(() => operands.Run(other, packed));
        Should.Throw<ArgumentException>(() => gemm.SgemmFused(false, true, 1000, 128, 256, 1f, operands.A, 256, operands.B + 1, 256, 0f,
            operands.C, 128, GemmEpilogue.None, packed));
        Should.Throw<ArgumentException>(() => gemm.SgemmFused(false, true, 1000, 64, 256, 1f, operands.A, 256, operands.B, 256, 0f,
            operands.C, 128, GemmEpilogue.None, packed));
    }

    /// <summary>A, B, C and a bias in native memory, filled from a fixed seed.</summary>
    private sealed class Operands : IDisposable
    {
        private readonly NativeBuffer _a, _b, _c, _bias;
        private readonly int _m, _n, _k;
        private readonly bool _transB;

        public Operands(int m, int n, int k, bool transB)
        {
            (_m, _n, _k, _transB) = (m, n, k, transB);
            _a = new NativeBuffer(m * k);
            _b = new NativeBuffer(k * n);
            _c = new NativeBuffer(m * n);
            _bias = new NativeBuffer(n);
            var rng = new Rng(11);
            rng.FillUniform(_a.Span, -1, 1);
            rng.FillUniform(_b.Span, -1, 1);
            rng.FillUniform(_bias.Span, 0, 1);
        }

        public float* A => _a.Pointer;
        public float* B => _b.Pointer;
        public float* C => _c.Pointer;
        public int Ldb => _transB ? _k : _n;

        public float[] Run(IGemm gemm, PackedB? packed)
        {
            _c.Span.Fill(float.NaN);
            gemm.SgemmFused(false, _transB, _m, _n, _k, 1f, A, _k, B, Ldb, 0f, C, _n, GemmEpilogue.Forward(_bias.Pointer, GemmActivation.Relu), packed);
            return _c.Span.ToArray();
        }

        public void Dispose()
        {
            _a.Dispose();
            _b.Dispose();
            _c.Dispose();
            _bias.Dispose();
        }
    }
}
