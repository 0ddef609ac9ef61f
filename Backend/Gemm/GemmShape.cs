using System.Globalization;

namespace Dlc.Backend.Gemm;

/// <summary>The shape of one product C[m×n] = op(A)[m×k]·op(B)[k×n], as the tuner and benchmark name it.</summary>
public readonly record struct GemmShape(bool TransA, bool TransB, int M, int N, int K)
{
    /// <summary>Floating-point operations of one product (a multiply and an add per term).</summary>
    public double Flops => 2.0 * M * N * K;

    /// <summary>A stable text key, e.g. "NT 128x256x784" (A as stored, B transposed).</summary>
    public string Key => string.Create(CultureInfo.InvariantCulture, $"{(TransA ? 'T' : 'N')}{(TransB ? 'T' : 'N')} {M}x{N}x{K}");

    public override string ToString() => Key;

    /// <summary>Row strides of densely stored A, B and C.</summary>
    internal (int Lda, int Ldb, int Ldc) Strides => (Math.Max(1, TransA ? M : K), Math.Max(1, TransB ? K : N), Math.Max(1, N));

    /// <summary>Elements of densely stored A, B and C.</summary>
    internal (long A, long B, long C) Sizes => ((long)M * K, (long)K * N, (long)M * N);
}
