using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Dlc.Backend.Kernels;

namespace Dlc.Backend.Gemm;

/// <summary>
/// Applies a <see cref="GemmEpilogue"/> to a block of C, eight columns at a time. ManagedGemm applies most epilogues
/// to its AVX2 and AVX-512 tiles as they leave the registers (<see cref="RunStrip"/>), and the rest to each strip of micro-tiles
/// right after it is stored; MklGemm and the interface's default call <see cref="Apply"/> once over all of C after the
/// product, since BLAS offers no hook into its stores. All of them give the same values. The formulas are those of Activations and its backward kernels, operation for
/// operation, on the managed math path (VectorMath without MKL's VML; the two differ by a few float ulps).
/// </summary>
internal static unsafe class GemmEpilogueKernel
{
    private const float InvSqrt2 = 0.70710678118654752440f;
    private const float InvSqrt2Pi = 0.39894228040143267794f;

    /// <summary>Applies e to C[row0..row0+rows, col0..col0+cols]; c points at C[row0, col0].</summary>
    internal static void Apply(in GemmEpilogue e, float* c, int ldc, int row0, int rows, int col0, int cols)
    {
        if (e.IsIdentity || rows <= 0 || cols <= 0) return;
        ApplyPointwise(e, c, ldc, row0, rows, col0, cols);
        if (e.Residual != null) Rows<Plus>(c, ldc, null, e.ResidualAt(row0, col0), e.ResidualStride, rows, cols);
    }

    /// <summary>The bias and activation (or derivative) part of <see cref="Apply"/>.</summary>
    private static void ApplyPointwise(in GemmEpilogue e, float* c, int ldc, int row0, int rows, int col0, int cols)
    {
        if (e.Bias == null && e.Activation == GemmActivation.None) return;
        var bias = e.Bias == null ? null : e.Bias + col0;
        var saved = e.SavedAt(row0, col0);
        var lds = e.SavedStride;
        if (e.KeepsDerivative && !e.IsDerivative)
        {
            GeluKeepingDerivative(c, ldc, bias, saved, lds, rows, cols);
            return;
        }
        WithOp(e, new StoredRows(c, ldc, bias, saved, lds, rows, cols));
    }

    /// <summary>Something done with an epilogue's element-wise op, once <see cref="WithOp"/> has chosen it.</summary>
    private interface IOpAction
    {
        void Run<TOp>() where TOp : struct, IEpilogueOp;
    }

    /// <summary>
    /// Runs <paramref name="action"/> with e's element-wise op: the one mapping from an epilogue to its op, for the stored
    /// rows and the register tile alike. GELU's forward that keeps its derivative has none (it writes two outputs).
    /// </summary>
    private static void WithOp<TAction>(in GemmEpilogue e, in TAction action) where TAction : struct, IOpAction
    {
        if (e.KeepsDerivative && e.IsDerivative)
        {
            action.Run<TimesKept>();
            return;
        }
        switch (e.IsDerivative, e.Activation, e.KeepsDerivative)
        {
            case (false, GemmActivation.None, false): action.Run<Identity>(); break;
            case (false, GemmActivation.Relu, false): action.Run<Relu>(); break;
            case (false, GemmActivation.Gelu, false): action.Run<Gelu>(); break;
            case (false, GemmActivation.Tanh, false): action.Run<Tanh>(); break;
            case (false, GemmActivation.Sigmoid, false): action.Run<Sigmoid>(); break;
            case (true, GemmActivation.Relu, false): action.Run<ReluGrad>(); break;
            case (true, GemmActivation.Gelu, false): action.Run<GeluGrad>(); break;
            case (true, GemmActivation.Tanh, false): action.Run<TanhGrad>(); break;
            case (true, GemmActivation.Sigmoid, false): action.Run<SigmoidGrad>(); break;
            default: throw new ArgumentException($"No element-wise op for {e.Activation} (derivative: {e.IsDerivative}, kept: {e.KeepsDerivative}).", nameof(e));
        }
    }

    /// <summary>The op on rows of C already stored (<see cref="Rows{TOp}"/>).</summary>
    private readonly struct StoredRows(float* c, int ldc, float* bias, float* saved, int lds, int rows, int cols) : IOpAction
    {
        public void Run<TOp>() where TOp : struct, IEpilogueOp => Rows<TOp>(c, ldc, bias, saved, lds, rows, cols);
    }

    /// <summary>The op on a strip of 6×16 tiles as they leave the registers (<see cref="TileStore{TOp}"/>).</summary>
    private readonly struct RegisterStrip(GemmIsa isa, int tiles, int kc, GemmKernels.StripA a, float* b, float* c, int ldc, float alpha,
        float beta, GemmKernels.TileEpilogue tile) : IOpAction
    {
        public void Run<TOp>() where TOp : struct, IEpilogueOp =>
            GemmKernels.Strip<TileStore<TOp>>(isa, tiles, kc, a, b, c, ldc, alpha, beta, tile);
    }

    /// <summary>
    /// sums[i] = Σₖ op(A)[i, k] for the m rows of op(A) (overwritten), for providers that cannot take them while they
    /// pack A. A stored k×m (transposed) is summed row after row, each lane in order over k, as the bias gradient
    /// kernel sums a column.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void SumsOfA(bool transA, float* a, int lda, int m, int k, float* sums)
    {
        if (transA)
        {
            AddDepthRows(a, lda, k, m, sums, first: true);
            return;
        }
        for (var i = 0; i < m; i++) sums[i] = k == 0 ? 0f : System.Numerics.Tensors.TensorPrimitives.Sum(new ReadOnlySpan<float>(a + (long)i * lda, k));
    }

    /// <summary>
    /// sums[0..m) (+)= Σ over rows p &lt; k of a[p·lda + 0..m): overwritten when <paramref name="first"/>, else added to, each
    /// lane summed in order over p, so blocks of rows taken one after another give the sums of all of them.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void AddDepthRows(float* a, long lda, int k, int m, float* sums, bool first)
    {
        var i = 0;
        // Four vectors of columns at a time: each lane's sum is a chain of adds over p (in order, so the same bits), and one
        // chain at a time waited on every add. The bias sums were 3% of a weight gradient's product; this made TN
        // 512×128×2048 and 384×128×2048 with them 1 – 3% faster (two threads, cold, alternating, medians of 61).
        for (; i + 32 <= m; i += 32)
        {
            var (acc0, acc1, acc2, acc3) = first
                ? (Vector256<float>.Zero, Vector256<float>.Zero, Vector256<float>.Zero, Vector256<float>.Zero)
                : (Vector256.Load(sums + i), Vector256.Load(sums + i + 8), Vector256.Load(sums + i + 16), Vector256.Load(sums + i + 24));
            var row = a + i;
            for (var p = 0; p < k; p++, row += lda)
            {
                acc0 += Vector256.Load(row);
                acc1 += Vector256.Load(row + 8);
                acc2 += Vector256.Load(row + 16);
                acc3 += Vector256.Load(row + 24);
            }
            acc0.Store(sums + i);
            acc1.Store(sums + i + 8);
            acc2.Store(sums + i + 16);
            acc3.Store(sums + i + 24);
        }
        for (; i + 8 <= m; i += 8)
        {
            var acc = first ? Vector256<float>.Zero : Vector256.Load(sums + i);
            var row = a + i;
            for (var p = 0; p < k; p++, row += lda) acc += Vector256.Load(row);
            acc.Store(sums + i);
        }
        for (; i < m; i++)
        {
            var acc = first ? 0f : sums[i];
            for (var p = 0; p < k; p++) acc += a[p * lda + i];
            sums[i] = acc;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows<TOp>(float* c, int ldc, float* bias, float* saved, int lds, int rows, int cols)
        where TOp : struct, IEpilogueOp
    {
        // The ragged end of a row goes through the same vector code from a zero-padded copy, so every
        // column gets bit-identical arithmetic wherever it falls.
        var tail = stackalloc float[3 * 8];
        var whole = cols & ~7;
        for (var i = 0; i < rows; i++)
        {
            var ci = c + (long)i * ldc;
            var si = TOp.ReadsSaved ? saved + (long)i * lds : null;
            for (var j = 0; j < whole; j += 8)
            {
                var v = Vector256.Load(ci + j);
                if (bias != null) v += Vector256.Load(bias + j);
                TOp.Apply(v, TOp.ReadsSaved ? Vector256.Load(si + j) : default).Store(ci + j);
            }
            if (whole == cols) continue;
            var n = cols - whole;
            // Loaded and stored masked, the ragged end goes through the same vector code, lanes past it reading zeros and
            // writing nothing. A copy through a zeroed buffer stalled each vector load on the scalar stores before it: with
            // it, and the few-rows path applying the epilogue every four rows, NT 1000×10×256 with bias took 60.5 / 61.5 /
            // 57.6 µs, against 47.0 / 46.9 / 46.5 (two threads, alternating medians); 128×10×256 14.8 / 10.8 / 14.8 against
            // 8.6 / 8.1 / 11.4 µs.
            if (Avx.IsSupported)
            {
                var mask = EvenOdd.FirstLanes(n);
                var v = Avx.MaskLoad(ci + whole, mask);
                if (bias != null) v += Avx.MaskLoad(bias + whole, mask);
                Avx.MaskStore(ci + whole, mask, TOp.Apply(v, TOp.ReadsSaved ? Avx.MaskLoad(si + whole, mask) : default));
                continue;
            }
            for (var j = 0; j < 24; j++) tail[j] = 0f;
            for (var j = 0; j < n; j++)
            {
                tail[j] = ci[whole + j];
                if (bias != null) tail[8 + j] = bias[whole + j];
                if (TOp.ReadsSaved) tail[16 + j] = si[whole + j];
            }
            var r = TOp.Apply(Vector256.Load(tail) + Vector256.Load(tail + 8), Vector256.Load(tail + 16));
            r.Store(tail);
            for (var j = 0; j < n; j++) ci[whole + j] = tail[j];
        }
    }

    /// <summary>C = GELU(C + bias) and d = GELU′(C + bias), from one evaluation of Φ; as <see cref="Rows{TOp}"/> for the ragged end.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GeluKeepingDerivative(float* c, int ldc, float* bias, float* d, int ldd, int rows, int cols)
    {
        var tail = stackalloc float[3 * 8];
        var whole = cols & ~7;
        // Sixteen lanes a step with AVX-512 (Gelu16, the same bits as Gelu8's): the epilogue of NT 4096×512×128 with bias
        // and GELU, two threads, in-process A/B, medians of 41, two runs: 1052 / 1049 → 779 / 761 µs over the product alone.
        var sixteens = Vector512.IsHardwareAccelerated ? cols & ~15 : 0;
        for (var i = 0; i < rows; i++)
        {
            var ci = c + (long)i * ldc;
            var di = d + (long)i * ldd;
            for (var j = 0; j < sixteens; j += 16)
            {
                var v = Vector512.Load(ci + j);
                if (bias != null) v += Vector512.Load(bias + j);
                Activations.Gelu16(v, out var derivative).Store(ci + j);
                derivative.Store(di + j);
            }
            for (var j = sixteens; j < whole; j += 8)
            {
                var v = Vector256.Load(ci + j);
                if (bias != null) v += Vector256.Load(bias + j);
                Activations.Gelu8(v, out var derivative).Store(ci + j);
                derivative.Store(di + j);
            }
            if (whole == cols) continue;
            var n = cols - whole;
            if (Avx.IsSupported)
            {
                // Masked, as in Rows.
                var mask = EvenOdd.FirstLanes(n);
                var v = Avx.MaskLoad(ci + whole, mask);
                if (bias != null) v += Avx.MaskLoad(bias + whole, mask);
                Avx.MaskStore(ci + whole, mask, Activations.Gelu8(v, out var masked));
                Avx.MaskStore(di + whole, mask, masked);
                continue;
            }
            for (var j = 0; j < 16; j++) tail[j] = 0f;
            for (var j = 0; j < n; j++)
            {
                tail[j] = ci[whole + j];
                if (bias != null) tail[8 + j] = bias[whole + j];
            }
            Activations.Gelu8(Vector256.Load(tail) + Vector256.Load(tail + 8), out var d8).Store(tail);
            d8.Store(tail + 16);
            for (var j = 0; j < n; j++)
            {
                ci[whole + j] = tail[j];
                di[whole + j] = tail[16 + j];
            }
        }
    }

    /// <summary>
    /// Whether <see cref="RunStrip"/> takes e on this micro-kernel: the AVX2 6×16 or AVX-512 8×32 tile (its rows as rows of
    /// sixteen, the same eight-float operations), with a bias, ReLU, a residual or a derivative that is a few multiplies. GELU, tanh and sigmoid forward and GELU′ from its input stay on the stored
    /// tile: evaluated on the twelve vectors as they leave the registers they ran slower (4096×512×128 with bias and
    /// GELU, two threads: 10.1 → 11.7 ms; with a strip of tiles a call, 9.8 → 12.9 ms), where ReLU′ went 8.48 → 8.22 ms and
    /// bias with a residual 8.66 → 8.29 ms.
    /// </summary>
    internal static bool FusesInTile(GemmIsa isa, in GemmEpilogue e) =>
        isa is GemmIsa.Vector256 or GemmIsa.Vector512 && !e.IsIdentity && (e.IsDerivative
            ? e.KeepsDerivative || e.Activation != GemmActivation.Gelu
            : e.Activation is GemmActivation.None or GemmActivation.Relu);

    /// <summary>
    /// Full 6×16 tiles of C down a strip from (row0, col0), their last block of k, with e applied to each row as it leaves
    /// the registers: the same operations in the same order as <see cref="Apply"/> on the stored tiles, so the same bits,
    /// without storing C and reading it back. Only where <see cref="FusesInTile"/>.
    /// </summary>
    internal static void RunStrip(GemmIsa isa, in GemmEpilogue e, int tiles, int kc, in GemmKernels.StripA a, float* b, float* c, int ldc,
        float alpha, float beta, int row0, int col0) =>
        WithOp(e, new RegisterStrip(isa, tiles, kc, a, b, c, ldc, alpha, beta, TileAt(e, row0, col0)));

    /// <summary>The epilogue's operands at C[row0, col0], as a tile (or a strip of them) takes them.</summary>
    internal static GemmKernels.TileEpilogue TileAt(in GemmEpilogue e, int row0, int col0) =>
        new(e.Bias == null ? null : e.Bias + col0, e.SavedAt(row0, col0), e.SavedStride, e.ResidualAt(row0, col0), e.ResidualStride);

    /// <summary>A tile row through the epilogue: alpha·v + beta·C as the plain store makes it, + bias, the op, + residual.</summary>
    private readonly struct TileStore<TOp> : GemmKernels.ITileStore where TOp : struct, IEpilogueOp
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Store(float* c, int row, Vector256<float> v0, Vector256<float> v1, float alpha, float beta, in GemmKernels.TileEpilogue e) =>
            Sixteen(c, row, 0, v0, v1, alpha, beta, e);

        /// <summary>
        /// An 8×32 tile's row: the same operations as <see cref="Sixteen"/>'s, element by element, sixteen floats a vector.
        /// As two rows of sixteen in halves (a tuple of two eight-float vectors each), the 24 rows inlined into
        /// Kernel12x32 kept every half on the stack (the JIT's listing: each value stored and reloaded), and ReLU′ in the
        /// registers ran slower than on the stored strip: NN 2048×512×128 1762 / 1575 against 1530 / 1357 µs, 128×256×10
        /// 30 against 17 µs (two threads, alternating medians). Now 1197 against 1270 µs and 15 against 19.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Store(float* c, int row, Vector512<float> v0, Vector512<float> v1, float alpha, float beta, in GemmKernels.TileEpilogue e)
        {
            v0 = GemmKernels.Scaled(c, v0, alpha, beta);
            v1 = GemmKernels.Scaled(c + 16, v1, alpha, beta);
            if (e.Bias != null)
            {
                v0 += Vector512.Load(e.Bias);
                v1 += Vector512.Load(e.Bias + 16);
            }
            if (TOp.ReadsSaved)
            {
                var saved = e.Saved + (long)row * e.SavedStride;
                v0 = TOp.Apply(v0, Vector512.Load(saved));
                v1 = TOp.Apply(v1, Vector512.Load(saved + 16));
            }
            else
            {
                v0 = TOp.Apply(v0, default);
                v1 = TOp.Apply(v1, default);
            }
            if (e.Residual != null)
            {
                var residual = e.Residual + (long)row * e.ResidualStride;
                v0 += Vector512.Load(residual);
                v1 += Vector512.Load(residual + 16);
            }
            v0.Store(c);
            v1.Store(c + 16);
        }

        /// <summary>Sixteen floats of a tile's row, <paramref name="column"/> columns into the tile (c points at them).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Sixteen(float* c, int row, int column, Vector256<float> v0, Vector256<float> v1, float alpha, float beta,
            in GemmKernels.TileEpilogue e)
        {
            (v0, v1) = GemmKernels.Scaled(c, v0, v1, alpha, beta);
            if (e.Bias != null)
            {
                v0 += Vector256.Load(e.Bias + column);
                v1 += Vector256.Load(e.Bias + column + 8);
            }
            if (TOp.ReadsSaved)
            {
                var saved = e.Saved + (long)row * e.SavedStride + column;
                v0 = TOp.Apply(v0, Vector256.Load(saved));
                v1 = TOp.Apply(v1, Vector256.Load(saved + 8));
            }
            else
            {
                v0 = TOp.Apply(v0, default);
                v1 = TOp.Apply(v1, default);
            }
            if (e.Residual != null)
            {
                var residual = e.Residual + (long)row * e.ResidualStride + column;
                v0 += Vector256.Load(residual);
                v1 += Vector256.Load(residual + 8);
            }
            v0.Store(c);
            v1.Store(c + 8);
        }
    }

    /// <summary>The element-wise part of an epilogue: v after the bias, s the saved value.</summary>
    private interface IEpilogueOp
    {
        static abstract bool ReadsSaved { get; }

        static abstract Vector256<float> Apply(Vector256<float> v, Vector256<float> s);

        /// <summary>The same, element by element, on sixteen floats (the AVX-512 tile's rows).</summary>
        static abstract Vector512<float> Apply(Vector512<float> v, Vector512<float> s);
    }

    /// <summary>An op whose sixteen-float form is its eight-float one on each half (the ops no tile takes in registers).</summary>
    private static Vector512<float> Halves<TOp>(Vector512<float> v, Vector512<float> s) where TOp : struct, IEpilogueOp =>
        Vector512.Create(TOp.Apply(v.GetLower(), s.GetLower()), TOp.Apply(v.GetUpper(), s.GetUpper()));

    private readonly struct Identity : IEpilogueOp
    {
        public static bool ReadsSaved => false;

        public static Vector256<float> Apply(Vector256<float> v, Vector256<float> s) => v;

        public static Vector512<float> Apply(Vector512<float> v, Vector512<float> s) => v;
    }

    // As Activations.Relu (TensorPrimitives.Max): NaN stays NaN.
    private readonly struct Relu : IEpilogueOp
    {
        public static bool ReadsSaved => false;

        public static Vector256<float> Apply(Vector256<float> v, Vector256<float> s) => Vector256.Max(v, Vector256<float>.Zero);

        public static Vector512<float> Apply(Vector512<float> v, Vector512<float> s) => Vector512.Max(v, Vector512<float>.Zero);
    }

    private readonly struct Gelu : IEpilogueOp
    {
        public static bool ReadsSaved => false;

        public static Vector256<float> Apply(Vector256<float> v, Vector256<float> s) => Activations.Gelu8(v);

        public static Vector512<float> Apply(Vector512<float> v, Vector512<float> s) => Halves<Gelu>(v, s);
    }

    private readonly struct Tanh : IEpilogueOp
    {
        public static bool ReadsSaved => false;

        public static Vector256<float> Apply(Vector256<float> v, Vector256<float> s) => TanhMath.Tanh8(v);

        public static Vector512<float> Apply(Vector512<float> v, Vector512<float> s) => Halves<Tanh>(v, s);
    }

    private readonly struct Sigmoid : IEpilogueOp
    {
        public static bool ReadsSaved => false;

        public static Vector256<float> Apply(Vector256<float> v, Vector256<float> s) =>
            Vector256<float>.One / (Vector256<float>.One + Vector256.Exp(-v));

        public static Vector512<float> Apply(Vector512<float> v, Vector512<float> s) => Halves<Sigmoid>(v, s);
    }

    private readonly struct ReluGrad : IEpilogueOp
    {
        public static bool ReadsSaved => true;

        public static Vector256<float> Apply(Vector256<float> v, Vector256<float> y) =>
            Vector256.ConditionalSelect(Vector256.GreaterThan(y, Vector256<float>.Zero), v, Vector256<float>.Zero);

        public static Vector512<float> Apply(Vector512<float> v, Vector512<float> y) =>
            Vector512.ConditionalSelect(Vector512.GreaterThan(y, Vector512<float>.Zero), v, Vector512<float>.Zero);
    }

    private readonly struct SigmoidGrad : IEpilogueOp
    {
        public static bool ReadsSaved => true;

        public static Vector256<float> Apply(Vector256<float> v, Vector256<float> y) => v * (Vector256<float>.One - y) * y;

        public static Vector512<float> Apply(Vector512<float> v, Vector512<float> y) => v * (Vector512<float>.One - y) * y;
    }

    private readonly struct TanhGrad : IEpilogueOp
    {
        public static bool ReadsSaved => true;

        public static Vector256<float> Apply(Vector256<float> v, Vector256<float> y) => v * (Vector256<float>.One - y * y);

        public static Vector512<float> Apply(Vector512<float> v, Vector512<float> y) => v * (Vector512<float>.One - y * y);
    }

    // A residual added after the rest.
    private readonly struct Plus : IEpilogueOp
    {
        public static bool ReadsSaved => true;

        public static Vector256<float> Apply(Vector256<float> v, Vector256<float> r) => v + r;

        public static Vector512<float> Apply(Vector512<float> v, Vector512<float> r) => v + r;
    }

    // The derivative a forward epilogue kept (GeluKeepingDerivative): a multiply.
    private readonly struct TimesKept : IEpilogueOp
    {
        public static bool ReadsSaved => true;

        public static Vector256<float> Apply(Vector256<float> v, Vector256<float> d) => v * d;

        public static Vector512<float> Apply(Vector512<float> v, Vector512<float> d) => v * d;
    }

    private readonly struct GeluGrad : IEpilogueOp
    {
        public static bool ReadsSaved => true;

        public static Vector256<float> Apply(Vector256<float> v, Vector256<float> x) => Activations.GeluGradient8(x, v);

        public static Vector512<float> Apply(Vector512<float> v, Vector512<float> x) => Halves<GeluGrad>(v, x);
    }
}
