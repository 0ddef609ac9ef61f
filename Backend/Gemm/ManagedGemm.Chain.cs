using System.Numerics.Tensors;

namespace Dlc.Backend.Gemm;

/// <summary>Two few-rows products in a row, the second reading the first's result, in one hand-off (see SgemmChain).</summary>
public sealed unsafe partial class ManagedGemm
{
    // The second product of a chain (see SgemmChain) while its parts run; its A is the first's C.
    private Call _second;

    /// <summary>Whether <see cref="SgemmChain"/> may split products of <paramref name="m"/> rows: fewer than a micro-tile.</summary>
    internal bool Chains(int m) => _pool is not null && m < _mr;

    /// <summary>
    /// C₁[m×n₁] = A·op(B₁) with <paramref name="first"/>'s epilogue, then C₂[m×n₂] = C₁·op(B₂) with <paramref name="second"/>'s:
    /// two dense layers of a batch-1 run. Where the first would be split by columns over the threads (see FewRowsParts),
    /// both run in one hand-off: each thread computes its columns of C₁ and then the second product over the same range of
    /// its depth, from the values it has just computed and its own share of B₂, and the caller adds the parts' sums and
    /// applies the second epilogue. One hand-off instead of two, and no part of C₁ crosses between the cores. Otherwise
    /// one product after the other. A is not transposed, C₁ is m×n₁ and C₂ m×n₂, both dense; neither epilogue sums A.
    /// Each product reads its packed copy of B where one is given (see <see cref="Prepack"/>): at batch 1, op(B) stored k×n,
    /// whose rows each part reads only for its A's nonzero entries (the second product's A is the first's output, about
    /// half of it zero after a ReLU).
    /// </summary>
    internal void SgemmChain(int m, int k, float* a, int lda, bool transB1, int n1, float* b1, int ldb1, float* c1, in GemmEpilogue first,
        bool transB2, int n2, float* b2, int ldb2, float* c2, in GemmEpilogue second, PackedB? packed1 = null, PackedB? packed2 = null)
    {
        GemmArgs.Validate(false, transB1, m, n1, k, lda, ldb1, n1);
        GemmArgs.Validate(false, transB2, m, n2, n1, n1, ldb2, n2);
        GemmArgs.ValidatePointers(false, transB1, m, n1, k, a, b1, c1);
        GemmArgs.ValidatePointers(false, transB2, m, n2, n1, c1, b2, c2);
        CheckCopy(packed1, false, transB1, m, n1, k, b1, ldb1);
        CheckCopy(packed2, false, transB2, m, n2, n1, b2, ldb2);
        if (first.SumsOfA != null || second.SumsOfA != null) throw new ArgumentException("a chained product's epilogue cannot sum A's rows");
        var parts = Chains(m) && n2 > 0 && k > 0 ? FewRowsParts(n1, (long)m * n1 * k) : 1;
        if (parts <= 1)
        {
            SgemmFused(false, transB1, m, n1, k, 1f, a, lda, b1, ldb1, 0f, c1, n1, first, packed1);
            SgemmFused(false, transB2, m, n2, n1, 1f, c1, n1, b2, ldb2, 0f, c2, n2, second, packed2);
            return;
        }
        first.Validate(m, n1);
        second.Validate(m, n2);
        var partFloats = (long)m * n2;
        lock (_sync)
        {
            if (_partSums is null || _partSums.Length < (parts - 1) * partFloats)
            {
                _partSums?.Dispose();
                _partSums = new NativeBuffer(checked((int)((parts - 1) * partFloats)));
            }
            // The parts read only copies stored k×n (see ReadsRowsCopy).
            var rows1 = packed1 is { Rows: true } ? packed1.Pointer : null;
            var rows2 = packed2 is { Rows: true } ? packed2.Pointer : null;
            _call = new Call(false, transB1, m, n1, k, 1f, a, lda, b1, ldb1, 0f, c1, n1, first, null, rows1);
            _second = new Call(false, transB2, m, n2, n1, 1f, c1, n1, b2, ldb2, 0f, c2, n2, second, null, rows2);
            _parts = Parts.Chain;
            try
            {
                _pool!.Run(this, parts);
            }
            finally
            {
                _parts = Parts.Blocks;
            }
            var all = new Span<float>(c2, checked((int)partFloats));
            for (var part = 1; part < parts; part++)
                TensorPrimitives.Add(all, new ReadOnlySpan<float>(_partSums.Pointer + (part - 1) * partFloats, (int)partFloats), all);
        }
        GemmEpilogueKernel.Apply(second, c2, n2, 0, m, 0, n2);
    }

    /// <summary>
    /// One part of a chain (see <see cref="SgemmChain"/>): its columns of the first product, as a split few-rows product
    /// takes them, then the second product's sum over the same range of its depth, into C₂ (part 0) or the part's own sums.
    /// </summary>
    private void ChainPart(int part, int parts)
    {
        var (c0, c1) = Share(part, parts, _call.N, FewRowsColumnStep);
        var s = _second;
        var sums = part == 0 ? s.C : _partSums!.Pointer + (part - 1) * (long)s.M * s.N;
        if (c0 >= c1)
        {
            new Span<float>(sums, s.M * s.N).Clear();
            return;
        }
        FewRows(_call, c0, c1);
        // Rows c0 … c1 of op(B₂): columns of B₂ stored transposed, whose copy stored k×n (if any) has them as rows.
        var b = s.TransB ? s.B + c0 : s.B + (long)c0 * s.Ldb;
        var rows = s.PackedB == null ? null : s.PackedB + (long)c0 * s.N;
        FewRows(new Call(false, s.TransB, s.M, s.N, c1 - c0, 1f, s.A + c0, s.Lda, b, s.Ldb, 0f, sums, s.N, GemmEpilogue.None, null, rows), 0, s.N);
    }
}
