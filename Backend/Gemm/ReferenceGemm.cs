using System.Numerics;
using Dlc.Backend.Kernels.Reference;

namespace Dlc.Backend.Gemm;

/// <summary>
/// The living definition of <see cref="IGemm.Sgemm"/>: a plain triple loop, generic so the gradient checker
/// and the tests can run it in double. Slow on purpose; only tests and checkers call it.
/// </summary>
public static class ReferenceGemm
{
    /// <summary>Row-major C[m×n] = alpha·op(A)·op(B) + beta·C, with the argument meaning of IGemm.Sgemm.</summary>
    public static void Gemm<T>(bool transA, bool transB, int m, int n, int k, T alpha, ReadOnlySpan<T> a, int lda,
        ReadOnlySpan<T> b, int ldb, T beta, Span<T> c, int ldc)
        where T : IFloatingPointIeee754<T>
    {
        GemmArgs.Validate(transA, transB, m, n, k, lda, ldb, ldc);
        var (aRows, aCols) = GemmArgs.StoredA(transA, m, k);
        var (bRows, bCols) = GemmArgs.StoredB(transB, k, n);
        if (m == 0 || n == 0) return;
        CheckLength(c.Length, GemmArgs.Extent(m, n, ldc), nameof(c));
        var readsInputs = k > 0 && alpha != T.Zero;
        if (readsInputs)
        {
            CheckLength(a.Length, GemmArgs.Extent(aRows, aCols, lda), nameof(a));
            CheckLength(b.Length, GemmArgs.Extent(bRows, bCols, ldb), nameof(b));
        }

        for (var i = 0; i < m; i++)
        {
            for (var j = 0; j < n; j++)
            {
                var sum = T.Zero;
                if (readsInputs)
                {
                    for (var p = 0; p < k; p++)
                    {
                        var aip = transA ? a[p * lda + i] : a[i * lda + p];
                        var bpj = transB ? b[j * ldb + p] : b[p * ldb + j];
                        sum += aip * bpj;
                    }
                }
                // beta = 0 overwrites without reading C, as BLAS does.
                var old = beta == T.Zero ? T.Zero : beta * c[i * ldc + j];
                c[i * ldc + j] = alpha * sum + old;
            }
        }
    }

    /// <summary>
    /// The definition of <see cref="IGemm.SgemmFused"/>: <see cref="Gemm{T}"/>, then <see cref="ApplyEpilogue{T}"/>.
    /// bias is empty or n long; saved is empty unless derivative.
    /// </summary>
    public static void GemmFused<T>(bool transA, bool transB, int m, int n, int k, T alpha, ReadOnlySpan<T> a, int lda,
        ReadOnlySpan<T> b, int ldb, T beta, Span<T> c, int ldc, ReadOnlySpan<T> bias, GemmActivation activation,
        bool derivative, ReadOnlySpan<T> saved, int ldSaved)
        where T : IFloatingPointIeee754<T>
    {
        Gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        ApplyEpilogue(c, ldc, m, n, bias, activation, derivative, saved, ldSaved);
    }

    /// <summary>
    /// A GEMM epilogue on C[m×n] (row stride ldc) by the reference kernels, row by row: forward adds bias and
    /// runs ActivationsReference's activation; derivative runs its backward kernel with C as dy and the saved
    /// row (y, or x for Gelu) as the first argument.
    /// </summary>
    public static void ApplyEpilogue<T>(Span<T> c, int ldc, int m, int n, ReadOnlySpan<T> bias, GemmActivation activation,
        bool derivative, ReadOnlySpan<T> saved, int ldSaved)
        where T : IFloatingPointIeee754<T>
    {
        if (!bias.IsEmpty && bias.Length != n) throw new ArgumentException($"bias holds {bias.Length} elements; expected {n}.", nameof(bias));
        if (derivative && activation == GemmActivation.None) throw new ArgumentException("A derivative epilogue needs an activation.", nameof(activation));
        if (derivative && m > 0 && n > 0) CheckLength(saved.Length, GemmArgs.Extent(m, n, ldSaved), nameof(saved));
        for (var i = 0; i < m; i++)
        {
            var row = c.Slice(i * ldc, n);
            for (var j = 0; j < bias.Length; j++) row[j] += bias[j];
            if (derivative)
            {
                var s = saved.Slice(i * ldSaved, n);
                switch (activation)
                {
                    case GemmActivation.Relu: ActivationsReference.ReluBackward<T>(s, row, row); break;
                    case GemmActivation.Gelu: ActivationsReference.GeluBackward<T>(s, row, row); break;
                    case GemmActivation.Tanh: ActivationsReference.TanhBackward<T>(s, row, row); break;
                    case GemmActivation.Sigmoid: ActivationsReference.SigmoidBackward<T>(s, row, row); break;
                }
                continue;
            }
            switch (activation)
            {
                case GemmActivation.Relu: ActivationsReference.Relu<T>(row, row); break;
                case GemmActivation.Gelu: ActivationsReference.Gelu<T>(row, row); break;
                case GemmActivation.Tanh: ActivationsReference.Tanh<T>(row, row); break;
                case GemmActivation.Sigmoid: ActivationsReference.Sigmoid<T>(row, row); break;
            }
        }
    }

    /// <summary>
    /// The reference of a forward epilogue that keeps GELU's derivative (<see cref="GemmEpilogue.ForwardKeepingDerivative"/>):
    /// C = GELU(C + bias) and kept = GELU′(C + bias), row by row.
    /// </summary>
    public static void ApplyKeepingDerivative<T>(Span<T> c, int ldc, int m, int n, ReadOnlySpan<T> bias, Span<T> kept, int ldKept)
        where T : IFloatingPointIeee754<T>
    {
        if (m > 0 && n > 0) CheckLength(kept.Length, GemmArgs.Extent(m, n, ldKept), nameof(kept));
        var ones = new T[n];
        ones.AsSpan().Fill(T.One);
        for (var i = 0; i < m; i++)
        {
            var row = c.Slice(i * ldc, n);
            for (var j = 0; j < bias.Length; j++) row[j] += bias[j];
            ActivationsReference.GeluBackward<T>(row, ones, kept.Slice(i * ldKept, n));
            ActivationsReference.Gelu<T>(row, row);
        }
    }

    private static void CheckLength(int length, long needed, string name)
    {
        if (length < needed) throw new ArgumentException($"{name} holds {length} elements; the shape and stride need {needed}.", name);
    }
}
