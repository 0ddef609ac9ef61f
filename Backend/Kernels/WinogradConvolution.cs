using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Dlc.Backend.Gemm;

namespace Dlc.Backend.Kernels;

/// <summary>
/// 3×3 stride-1 convolution by Winograd's minimal filtering F(2×2, 3×3) (Lavin and Gray 2016): the output is
/// cut into 2×2 tiles, each read from a 4×4 window of the input. Input windows and filters are carried into a
/// 4×4 transform domain (V = Bᵀ d B, U = G g Gᵀ), where a convolution becomes 16 independent products
/// M[ξ] = U[ξ] · V[ξ] over channels, and each output tile comes back as Aᵀ M A. That is 16 multiplies per
/// 2×2 outputs per channel pair instead of 36: 2.25× fewer than im2col's product.
/// The backward passes are the same algebra run backwards: dM = A dY Aᵀ; the input gradient is
/// dV[ξ] = U[ξ]ᵀ · dM[ξ] scattered back by B dV Bᵀ into the overlapping windows; the weight gradient is
/// dU[ξ] = Σ dM[ξ] · V[ξ]ᵀ over all tiles, brought back by Gᵀ dU G.
/// Like <see cref="Conv2dKernel"/>, the batch is split over threads and each thread transforms a few samples
/// at a time into its own scratch and runs single-threaded products.
/// </summary>
internal sealed unsafe class WinogradConvolution
{
    // The transform domain of F(2×2, 3×3): 4×4 points.
    private const int Points = 16;

    // A product aims for about this many tile columns.
    private const int TargetTiles = 256;

    // Tiles are transformed eight at a time (one Vector256 per point); rows of tiles and of half-planes
    // carry this much slack so the last, partly filled vector of a row may run past its end.
    private const int Lanes = 8;

    // SplitRow's lanes: a line's sixteen positions, and where its even and odd ones go in the lower half.
    private static readonly Vector512<int> LineLanes = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    private static readonly Vector512<int> EvenLanes = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 0, 0, 0, 0, 0, 0, 0, 0);
    private static readonly Vector512<int> OddLanes = Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 0, 0, 0, 0, 0, 0, 0, 0);

    // Merge's lanes: eight even entries (lanes 0 – 7) and eight odd ones (8 – 15) put back in turn.
    private static readonly Vector512<int> PairLanes = Vector512.Create(0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15);

    private readonly Conv2dGeometry _g;
    private readonly IGemm _gemm;
    private readonly SampleParallel? _parallel;
    private readonly Layout _l;
    private readonly float* _scratch, _filters, _staging, _partials;
    private readonly SampleParallel.RangeBody _forward, _inputGrad, _weightGrad, _gradients;
    private float* _x, _bias, _y, _dy, _firstSums;
    private bool _relu;

    /// <summary>Whether a geometry is one this kernel computes: 3×3 taps, stride 1, no dilation, one group, and enough channels to pay for the transforms.</summary>
    public static bool Applies(Conv2dGeometry g) =>
        g is { KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1, DilationH: 1, DilationW: 1, Groups: 1 }
        && g.Channels >= 8 && g.OutChannels >= 8 && g.OutHeight >= 2 && g.OutWidth >= 2
        && g.PadTop is >= 0 and <= 2 && g.PadLeft is >= 0 and <= 2;

    /// <summary>Floats of scratch: per thread the transformed inputs and products of its samples and two half-planes, plus the transformed filters; and a filter gradient per thread but the first.</summary>
    public static (int Scratch, int Partials) ScratchLengths(Conv2dGeometry g, int threads)
    {
        var l = new Layout(g);
        return (l.PerThread * threads + 2 * l.Filters, l.Filters * (threads - 1));
    }

    public WinogradConvolution(Conv2dGeometry g, IGemm gemm, SampleParallel? parallel, float* scratch, float* partials)
    {
        if (!Applies(g)) throw new ArgumentException("the geometry is not a 3×3 stride-1 convolution of one group", nameof(g));
        (_g, _gemm, _parallel) = (g, gemm, parallel);
        _l = new Layout(g);
        _filters = scratch;
        _staging = scratch + _l.Filters;
        _scratch = scratch + 2 * _l.Filters;
        _partials = partials;
        (_forward, _inputGrad, _weightGrad, _gradients) = (ForwardRange, InputGradRange, WeightGradRange, GradientsRange);
    }

    /// <summary>
    /// Sizes of the tiling and of the scratch. A product covers <see cref="Samples"/> samples' tiles, side by
    /// side in rows of <see cref="Ld"/> floats (a few lanes of slack at the end). A half-plane holds the even
    /// or the odd columns of a (padded) plane, <see cref="Half"/> floats a row, so that tile t's columns
    /// 2t, 2t+1, 2t+2, 2t+3 are entries t and t+1 of the even and odd half-planes: vectors over t.
    /// </summary>
    private readonly struct Layout
    {
        public readonly int TilesH, TilesW, Tiles, Samples, Ld, PaddedH, Half, PerThread, Filters;

        public Layout(Conv2dGeometry g)
        {
            (TilesH, TilesW) = ((g.OutHeight + 1) / 2, (g.OutWidth + 1) / 2);
            Tiles = TilesH * TilesW;
            Samples = Math.Clamp((TargetTiles + Tiles - 1) / Tiles, 1, Math.Max(1, g.Batch));
            Ld = Samples * Tiles + Lanes;
            PaddedH = 2 * TilesH + 2;
            Half = TilesW + 1 + Lanes;
            PerThread = Points * (g.Channels + g.OutChannels) * Ld + 2 * (PaddedH * Half + Lanes);
            Filters = Points * g.OutChannels * g.Channels;
        }
    }

    private int Threads => _parallel?.Threads ?? 1;

    /// <summary>A thread's transformed inputs [16, C, Ld], products [16, K, Ld] and two half-planes (each with a vector of slack).</summary>
    private (IntPtr Inputs, IntPtr Products, IntPtr Even, IntPtr Odd) Scratch(int part)
    {
        var inputs = _scratch + (long)part * _l.PerThread;
        var products = inputs + (long)Points * _g.Channels * _l.Ld;
        var even = products + (long)Points * _g.OutChannels * _l.Ld;
        return ((IntPtr)inputs, (IntPtr)products, (IntPtr)even, (IntPtr)(even + (long)_l.PaddedH * _l.Half + Lanes));
    }

    /// <summary>y = conv(x, w) + bias, or max(0, that) when <paramref name="relu"/>; <paramref name="bias"/> may be null.</summary>
    public void Forward(float* x, float* w, float* bias, float* y, bool relu = false)
    {
        _relu = relu;
        TransformFilters(w, _filters, _staging, _g.OutChannels, _g.Channels);
        _x = x;
        _bias = bias;
        _y = y;
        Run(_forward);
    }

    /// <summary>dx = the input gradient of the convolution for dy (overwritten).</summary>
    public void InputGrad(float* dy, float* w, float* dx)
    {
        TransformFilters(w, _filters, _staging, _g.OutChannels, _g.Channels);
        _x = dy;
        _y = dx;
        Run(_inputGrad);
    }

    /// <summary>dw = the weight gradient over the batch (overwritten).</summary>
    public void WeightGrad(float* x, float* dy, float* dw)
    {
        _x = x;
        _y = dy;
        RunSummingFilterGradients(_weightGrad, _filters, dw);
    }

    /// <summary>
    /// dx and dw (both overwritten) for one dy: <see cref="InputGrad"/> and <see cref="WeightGrad"/> in one pass over the
    /// samples, each group's output gradients transformed once for both products (see <see cref="GradientsRange"/>).
    /// </summary>
    public void Gradients(float* x, float* dy, float* w, float* dx, float* dw)
    {
        // The transformed filters stay in _filters for the input gradient's products; the first part sums its filter
        // gradient in the staging area, free once the filters are transformed.
        TransformFilters(w, _filters, _staging, _g.OutChannels, _g.Channels);
        _x = x;
        _dy = dy;
        _y = dx;
        RunSummingFilterGradients(_gradients, _staging, dw);
    }

    /// <summary>
    /// Runs <paramref name="body"/>, whose parts sum their samples' filter gradients in the transform domain (see
    /// <see cref="FilterSums"/>): the first part's into <paramref name="first"/>, the others' into the partials. Then
    /// dw = their total, brought back by Gᵀ dU G.
    /// </summary>
    private void RunSummingFilterGradients(SampleParallel.RangeBody body, float* first, float* dw)
    {
        _firstSums = first;
        var parts = Math.Min(Threads, _g.Batch);
        new Span<float>(first, _l.Filters).Clear();
        for (var part = 1; part < parts; part++) new Span<float>(_partials + (long)(part - 1) * _l.Filters, _l.Filters).Clear();
        Run(body);
        var total = new Span<float>(first, _l.Filters);
        for (var part = 1; part < parts; part++)
            System.Numerics.Tensors.TensorPrimitives.Add(total, new ReadOnlySpan<float>(_partials + (long)(part - 1) * _l.Filters, _l.Filters), total);
        FilterGradient(first, dw, _g.OutChannels, _g.Channels);
    }

    /// <summary>Where part <paramref name="part"/> sums its filter gradients (see <see cref="RunSummingFilterGradients"/>).</summary>
    private float* FilterSums(int part) => part == 0 ? _firstSums : _partials + (long)(part - 1) * _l.Filters;

    private void Run(SampleParallel.RangeBody body)
    {
        if (_parallel is null) body(0, 0, _g.Batch);
        else _parallel.For(_g.Batch, body);
    }

    private void ForwardRange(int part, int start, int end)
    {
        var (c, k, ld) = (_g.Channels, _g.OutChannels, _l.Ld);
        var (vi, mi, ei, oi) = Scratch(part);
        float* v = (float*)vi, m = (float*)mi, even = (float*)ei, odd = (float*)oi;
        for (var n0 = start; n0 < end; n0 += _l.Samples)
        {
            var s = Math.Min(_l.Samples, end - n0);
            var t = s * _l.Tiles;
            for (var i = 0; i < s; i++) TransformInputs(n0 + i, v + i * _l.Tiles, even, odd);
            for (var xi = 0; xi < Points; xi++)
                _gemm.Sgemm(false, false, k, t, c, 1f, _filters + (long)xi * k * c, c, v + (long)xi * c * ld, ld, 0f, m + (long)xi * k * ld, ld);
            for (var i = 0; i < s; i++) TransformOutputs(m + i * _l.Tiles, n0 + i, even, odd);
        }
    }

    private void InputGradRange(int part, int start, int end)
    {
        var (vi, mi, ei, oi) = Scratch(part);
        float* dv = (float*)vi, dm = (float*)mi, even = (float*)ei, odd = (float*)oi;
        for (var n0 = start; n0 < end; n0 += _l.Samples)
        {
            var s = Math.Min(_l.Samples, end - n0);
            var t = s * _l.Tiles;
            TransformOutputGrads(_x, n0, s, dm, even, odd);
            InputGradProducts(dm, dv, t);
            for (var i = 0; i < s; i++) ScatterInputGrads(dv + i * _l.Tiles, n0 + i, even, odd);
        }
    }

    /// <summary>
    /// <see cref="InputGradRange"/> and <see cref="WeightGradRange"/> for one group of samples after another: dM once, the
    /// input gradient's products into the inputs' scratch and scattered into dx, then the inputs transformed into the same
    /// scratch for the filter gradient's products.
    /// </summary>
    private void GradientsRange(int part, int start, int end)
    {
        var (vi, mi, ei, oi) = Scratch(part);
        float* v = (float*)vi, dm = (float*)mi, even = (float*)ei, odd = (float*)oi;
        var du = FilterSums(part);
        for (var n0 = start; n0 < end; n0 += _l.Samples)
        {
            var s = Math.Min(_l.Samples, end - n0);
            var t = s * _l.Tiles;
            TransformOutputGrads(_dy, n0, s, dm, even, odd);
            InputGradProducts(dm, v, t);
            for (var i = 0; i < s; i++) ScatterInputGrads(v + i * _l.Tiles, n0 + i, even, odd);
            for (var i = 0; i < s; i++) TransformInputs(n0 + i, v + i * _l.Tiles, even, odd);
            FilterGradProducts(dm, v, t, du);
        }
    }

    private void WeightGradRange(int part, int start, int end)
    {
        var (vi, mi, ei, oi) = Scratch(part);
        float* v = (float*)vi, dm = (float*)mi, even = (float*)ei, odd = (float*)oi;
        var du = FilterSums(part);
        for (var n0 = start; n0 < end; n0 += _l.Samples)
        {
            var s = Math.Min(_l.Samples, end - n0);
            var t = s * _l.Tiles;
            for (var i = 0; i < s; i++) TransformInputs(n0 + i, v + i * _l.Tiles, even, odd);
            TransformOutputGrads(_y, n0, s, dm, even, odd);
            FilterGradProducts(dm, v, t, du);
        }
    }

    /// <summary>dV[ξ] = U[ξ]ᵀ · dM[ξ] for the 16 points, over t tiles (U the transformed filters).</summary>
    private void InputGradProducts(float* dm, float* dv, int t)
    {
        var (c, k, ld) = (_g.Channels, _g.OutChannels, _l.Ld);
        for (var xi = 0; xi < Points; xi++)
            _gemm.Sgemm(true, false, c, t, k, 1f, _filters + (long)xi * k * c, c, dm + (long)xi * k * ld, ld, 0f, dv + (long)xi * c * ld, ld);
    }

    /// <summary>dU[ξ] += dM[ξ] · V[ξ]ᵀ for the 16 points, over t tiles.</summary>
    private void FilterGradProducts(float* dm, float* v, int t, float* du)
    {
        var (c, k, ld) = (_g.Channels, _g.OutChannels, _l.Ld);
        for (var xi = 0; xi < Points; xi++)
            _gemm.Sgemm(false, true, k, c, t, 1f, dm + (long)xi * k * ld, ld, v + (long)xi * c * ld, ld, 1f, du + (long)xi * k * c, c);
    }

    /// <summary>
    /// U[ξ, k, c] = (G g[k, c] Gᵀ)[ξ] for every filter: each filter's 16 points go to <paramref name="staging"/>
    /// side by side, then out point by point, so every write is sequential.
    /// </summary>
    internal static void TransformFilters(float* w, float* u, float* staging, int outChannels, int channels)
    {
        var filters = outChannels * channels;
        var r = stackalloc float[12];
        for (var f = 0; f < filters; f++)
        {
            var g = w + (long)f * 9;
            // G g: four rows of three.
            for (var j = 0; j < 3; j++)
            {
                float g0 = g[j], g1 = g[3 + j], g2 = g[6 + j];
                r[j] = g0;
                r[3 + j] = 0.5f * (g0 + g1 + g2);
                r[6 + j] = 0.5f * (g0 - g1 + g2);
                r[9 + j] = g2;
            }
            var at = staging + (long)f * Points;
            for (var i = 0; i < 4; i++)
            {
                float r0 = r[3 * i], r1 = r[3 * i + 1], r2 = r[3 * i + 2];
                at[4 * i] = r0;
                at[4 * i + 1] = 0.5f * (r0 + r1 + r2);
                at[4 * i + 2] = 0.5f * (r0 - r1 + r2);
                at[4 * i + 3] = r2;
            }
        }
        for (var xi = 0; xi < Points; xi++)
        {
            var plane = u + (long)xi * filters;
            for (var f = 0; f < filters; f++) plane[f] = staging[(long)f * Points + xi];
        }
    }

    /// <summary>dw[k, c] = Gᵀ dU[·, k, c] G for every filter (overwritten).</summary>
    internal static void FilterGradient(float* du, float* dw, int outChannels, int channels)
    {
        var plane = (long)outChannels * channels;
        var q = stackalloc float[12];
        for (var k = 0; k < outChannels; k++)
            for (var c = 0; c < channels; c++)
            {
                var at = du + (long)k * channels + c;
                // Gᵀ dU: three rows of four.
                for (var j = 0; j < 4; j++)
                {
                    float d0 = at[j * plane], d1 = at[(4 + j) * plane], d2 = at[(8 + j) * plane], d3 = at[(12 + j) * plane];
                    q[j] = d0 + 0.5f * (d1 + d2);
                    q[4 + j] = 0.5f * (d1 - d2);
                    q[8 + j] = 0.5f * (d1 + d2) + d3;
                }
                var g = dw + ((long)k * channels + c) * 9;
                for (var a = 0; a < 3; a++)
                {
                    float q0 = q[4 * a], q1 = q[4 * a + 1], q2 = q[4 * a + 2], q3 = q[4 * a + 3];
                    g[3 * a] = q0 + 0.5f * (q1 + q2);
                    g[3 * a + 1] = 0.5f * (q1 - q2);
                    g[3 * a + 2] = 0.5f * (q1 + q2) + q3;
                }
            }
    }

    /// <summary>
    /// V[ξ, c, tile] = (Bᵀ d B)[ξ] for every 4×4 window d of sample n, eight tiles at a time, into the columns
    /// from <paramref name="v"/> on. Each channel is first split into the even and odd columns of its padded plane.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void TransformInputs(int n, float* v, float* even, float* odd)
    {
        var g = _g;
        var (half, tilesW, ld) = (_l.Half, _l.TilesW, _l.Ld);
        var point = (long)g.Channels * ld;
        for (var c = 0; c < g.Channels; c++)
        {
            SplitPadded(_x + ((long)n * g.Channels + c) * g.Height * g.Width, even, odd);
            var col = v + (long)c * ld;
            for (var th = 0; th < _l.TilesH; th++)
                for (var tw = 0; tw < tilesW; tw += Lanes)
                {
                    // Row r of the windows: columns 2t, 2t+1, 2t+2, 2t+3 are even[t], odd[t], even[t+1], odd[t+1].
                    float* e = even + 2 * th * half + tw, f = odd + 2 * th * half + tw;
                    Vector256<float> d00 = Vector256.Load(e), d01 = Vector256.Load(f), d02 = Vector256.Load(e + 1), d03 = Vector256.Load(f + 1);
                    e += half;
                    f += half;
                    Vector256<float> d10 = Vector256.Load(e), d11 = Vector256.Load(f), d12 = Vector256.Load(e + 1), d13 = Vector256.Load(f + 1);
                    e += half;
                    f += half;
                    Vector256<float> d20 = Vector256.Load(e), d21 = Vector256.Load(f), d22 = Vector256.Load(e + 1), d23 = Vector256.Load(f + 1);
                    e += half;
                    f += half;
                    Vector256<float> d30 = Vector256.Load(e), d31 = Vector256.Load(f), d32 = Vector256.Load(e + 1), d33 = Vector256.Load(f + 1);
                    // Bᵀ d row by row (d0 − d2, d1 + d2, d2 − d1, d1 − d3), then · B along each row.
                    var o = col + th * tilesW + tw;
                    Vector256<float> t0 = d00 - d20, t1 = d01 - d21, t2 = d02 - d22, t3 = d03 - d23;
                    (t0 - t2).Store(o);
                    (t1 + t2).Store(o += point);
                    (t2 - t1).Store(o += point);
                    (t1 - t3).Store(o += point);
                    (t0, t1, t2, t3) = (d10 + d20, d11 + d21, d12 + d22, d13 + d23);
                    (t0 - t2).Store(o += point);
                    (t1 + t2).Store(o += point);
                    (t2 - t1).Store(o += point);
                    (t1 - t3).Store(o += point);
                    (t0, t1, t2, t3) = (d20 - d10, d21 - d11, d22 - d12, d23 - d13);
                    (t0 - t2).Store(o += point);
                    (t1 + t2).Store(o += point);
                    (t2 - t1).Store(o += point);
                    (t1 - t3).Store(o += point);
                    (t0, t1, t2, t3) = (d10 - d30, d11 - d31, d12 - d32, d13 - d33);
                    (t0 - t2).Store(o += point);
                    (t1 + t2).Store(o += point);
                    (t2 - t1).Store(o += point);
                    (t1 - t3).Store(o + point);
                }
        }
    }

    /// <summary>
    /// A channel plane, zero-padded, split into its even and odd columns (every row of both half-planes
    /// written), sixteen floats at a time: with AVX-512 read from the row under a mask, with AVX2 from the row laid
    /// into a zero-bordered line first.
    /// </summary>
    private void SplitPadded(float* source, float* even, float* odd)
    {
        var g = _g;
        var half = _l.Half;
        var line = stackalloc float[2 * half + 2 * Lanes];
        var vectors = Avx2.IsSupported;
        var width = Math.Min(g.Width, 2 * half - g.PadLeft);
        for (var r = 0; r < _l.PaddedH; r++)
        {
            var e = even + (long)r * half;
            var o = odd + (long)r * half;
            var h = r - g.PadTop;
            if ((uint)h >= (uint)g.Height)
            {
                new Span<float>(e, half).Clear();
                new Span<float>(o, half).Clear();
                continue;
            }
            var row = source + (long)h * g.Width;
            if (vectors)
            {
                SplitRow(row, width, g.PadLeft, line, e, o, half);
                continue;
            }
            for (var t = 0; t < half; t++)
            {
                var q = 2 * t - g.PadLeft;
                e[t] = (uint)q < (uint)g.Width ? row[q] : 0f;
                o[t] = (uint)(q + 1) < (uint)g.Width ? row[q + 1] : 0f;
            }
        }
    }

    /// <summary>
    /// e[t] = line[2t], o[t] = line[2t + 1] for t &lt; half, where line is <paramref name="width"/> floats of
    /// <paramref name="row"/> after <paramref name="left"/> zeros and zeros after. Writes up to a vector past
    /// <paramref name="half"/> in e and o (the next row, or the half-plane's slack).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void SplitRow(float* row, int width, int left, float* line, float* e, float* o, int half)
    {
        if (Avx512F.IsSupported)
        {
            // Sixteen floats of the line at a time straight from the row, the lanes outside it masked to zero: no zeroed
            // line to copy into first (clearing, copying and splitting the lines took about half of a 14×14 output
            // gradient's transform). With Merge likewise, fashion_cnn_small.dl's training step (batch 128, two threads),
            // in-process A/B, medians of ten: 31.5 / 25.6 / 28.4 → 28.8 / 22.3 / 25.0 ms.
            for (var t = 0; t < half; t += Lanes)
            {
                var first = 2 * t - left;
                var inside = Vector512.LessThan((Vector512.Create(first) + LineLanes).AsUInt32(), Vector512.Create((uint)width));
                var v = Avx512F.MaskLoad(row + first, inside.AsSingle(), Vector512<float>.Zero);
                Avx512F.PermuteVar16x32(v, EvenLanes).GetLower().Store(e + t);
                Avx512F.PermuteVar16x32(v, OddLanes).GetLower().Store(o + t);
            }
            return;
        }
        new Span<float>(line, 2 * half + 2 * Lanes).Clear();
        new ReadOnlySpan<float>(row, width).CopyTo(new Span<float>(line + left, width));
        for (var t = 0; t < half; t += Lanes)
        {
            var (ev, od) = EvenOdd.Split(line + 2 * t);
            ev.Store(e + t);
            od.Store(o + t);
        }
    }

    /// <summary>y[n, k] from the products: each 2×2 tile is Aᵀ M A plus the bias (then the fused ReLU), eight tiles at a time into half-planes, then merged and cut at the output's edge.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void TransformOutputs(float* m, int n, float* even, float* odd)
    {
        var g = _g;
        var (half, tilesW, ld) = (_l.Half, _l.TilesW, _l.Ld);
        var point = (long)g.OutChannels * ld;
        for (var k = 0; k < g.OutChannels; k++)
        {
            var bias = Vector256.Create(_bias is null ? 0f : _bias[k]);
            // Without a ReLU the floor is −∞, which max leaves alone.
            var floor = Vector256.Create(_relu ? 0f : float.NegativeInfinity);
            var col = m + (long)k * ld;
            for (var th = 0; th < _l.TilesH; th++)
                for (var tw = 0; tw < tilesW; tw += Lanes)
                {
                    var o = col + th * tilesW + tw;
                    // Aᵀ M: u = rows 0 + 1 + 2, w = rows 1 − 2 − 3; then · A along each.
                    Vector256<float> m0 = Vector256.Load(o), m1 = Vector256.Load(o + point), m2 = Vector256.Load(o + 2 * point), m3 = Vector256.Load(o + 3 * point);
                    Vector256<float> m4 = Vector256.Load(o + 4 * point), m5 = Vector256.Load(o + 5 * point), m6 = Vector256.Load(o + 6 * point), m7 = Vector256.Load(o + 7 * point);
                    Vector256<float> m8 = Vector256.Load(o + 8 * point), m9 = Vector256.Load(o + 9 * point), m10 = Vector256.Load(o + 10 * point), m11 = Vector256.Load(o + 11 * point);
                    Vector256<float> m12 = Vector256.Load(o + 12 * point), m13 = Vector256.Load(o + 13 * point), m14 = Vector256.Load(o + 14 * point), m15 = Vector256.Load(o + 15 * point);
                    Vector256<float> u0 = m0 + m4 + m8, u1 = m1 + m5 + m9, u2 = m2 + m6 + m10, u3 = m3 + m7 + m11;
                    Vector256<float> w0 = m4 - m8 - m12, w1 = m5 - m9 - m13, w2 = m6 - m10 - m14, w3 = m7 - m11 - m15;
                    var at = 2 * th * half + tw;
                    Vector256.Max(u0 + u1 + u2 + bias, floor).Store(even + at);
                    Vector256.Max(u1 - u2 - u3 + bias, floor).Store(odd + at);
                    Vector256.Max(w0 + w1 + w2 + bias, floor).Store(even + at + half);
                    Vector256.Max(w1 - w2 - w3 + bias, floor).Store(odd + at + half);
                }
            Merge(even, odd, _y + ((long)n * g.OutChannels + k) * g.OutHeight * g.OutWidth, g.OutHeight, g.OutWidth, 0, 0);
        }
    }

    /// <summary>plane[h, w] = (even or odd)[h + top, (w + left) / 2] for an H×W plane: the half-planes put back together.</summary>
    private void Merge(float* even, float* odd, float* plane, int height, int width, int top, int left)
    {
        var half = _l.Half;
        var line = stackalloc float[2 * half + 2 * Lanes];
        var vectors = Avx2.IsSupported;
        for (var h = 0; h < height; h++)
        {
            var row = plane + (long)h * width;
            var r = h + top;
            if (r >= 2 * _l.TilesH + 2)
            {
                new Span<float>(row, width).Clear();
                continue;
            }
            var e = even + (long)r * half;
            var o = odd + (long)r * half;
            if (Avx512F.IsSupported)
            {
                // Sixteen floats of the line at a time straight into the row, the lanes outside it masked off.
                for (var t = 0; t < half; t += Lanes)
                {
                    var first = 2 * t - left;
                    var inside = Vector512.LessThan((Vector512.Create(first) + LineLanes).AsUInt32(), Vector512.Create((uint)width));
                    var pairs = Avx512F.PermuteVar16x32(Vector512.Create(Vector256.Load(e + t), Vector256.Load(o + t)), PairLanes);
                    Avx512F.MaskStore(row + first, inside.AsSingle(), pairs);
                }
                continue;
            }
            if (vectors)
            {
                // Entries past a row's tiles are zero (gradients) or never copied (outputs).
                for (var t = 0; t < half; t += Lanes) EvenOdd.Interleave(line + 2 * t, Vector256.Load(e + t), Vector256.Load(o + t));
                new ReadOnlySpan<float>(line + left, width).CopyTo(new Span<float>(row, width));
                continue;
            }
            for (var w = 0; w < width; w++)
            {
                var q = w + left;
                row[w] = q >= 2 * _l.TilesW + 2 ? 0f : (q & 1) == 0 ? e[q >> 1] : o[q >> 1];
            }
        }
    }

    /// <summary>
    /// dM[ξ, k, tile] = (A dY Aᵀ)[ξ] for every 2×2 tile of dy[n, k] of samples n0 … n0 + samples − 1, side by side, eight
    /// tiles at a time (zero beyond the output's edge).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void TransformOutputGrads(float* dy, int n0, int samples, float* dm, float* even, float* odd)
    {
        var g = _g;
        var (half, tilesW, ld) = (_l.Half, _l.TilesW, _l.Ld);
        var (oh, ow) = (g.OutHeight, g.OutWidth);
        var point = (long)g.OutChannels * ld;
        var line = stackalloc float[2 * half + 2 * Lanes];
        // Channel by channel, each channel's samples one after another: a channel's rows of dM in each of the 16 planes
        // are then written whole, rather than a sample's part at a time with the lines at the parts' seams fetched again
        // once the next sample comes to them. fashion_cnn_small.dl's training step (batch 128, two threads), in-process
        // A/B, medians of ten, three runs: 29.3 / 37.1 / 30.3 → 28.3 / 36.2 / 29.0 ms.
        for (var k = 0; k < g.OutChannels; k++)
        for (var i = 0; i < samples; i++)
        {
            var plane = dy + ((long)(n0 + i) * g.OutChannels + k) * oh * ow;
            for (var r = 0; r < 2 * _l.TilesH; r++)
            {
                var e = even + (long)r * half;
            var o = odd + (long)r * half;
                if (r >= oh)
                {
                    new Span<float>(e, half).Clear();
                    new Span<float>(o, half).Clear();
                    continue;
                }
                var row = plane + (long)r * ow;
                if (Avx2.IsSupported)
                {
                    SplitRow(row, ow, 0, line, e, o, half);
                    continue;
                }
                for (var t = 0; t < half; t++)
                {
                    e[t] = 2 * t < ow ? row[2 * t] : 0f;
                    o[t] = 2 * t + 1 < ow ? row[2 * t + 1] : 0f;
                }
            }
            var col = dm + (long)k * ld + i * _l.Tiles;
            for (var th = 0; th < _l.TilesH; th++)
                for (var tw = 0; tw < tilesW; tw += Lanes)
                {
                    var at = 2 * th * half + tw;
                    var (y00, y01) = (Vector256.Load(even + at), Vector256.Load(odd + at));
                    var (y10, y11) = (Vector256.Load(even + at + half), Vector256.Load(odd + at + half));
                    var o = col + th * tilesW + tw;
                    // A dY: rows y0, y0 + y1, y0 − y1, −y1; then · Aᵀ along each (e0, e0 + e1, e0 − e1, −e1).
                    GradRow(o, point, 0, y00, y01);
                    GradRow(o, point, 4, y00 + y10, y01 + y11);
                    GradRow(o, point, 8, y00 - y10, y01 - y11);
                    GradRow(o, point, 12, -y10, -y11);
                }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void GradRow(float* o, long point, int first, Vector256<float> e0, Vector256<float> e1)
    {
        e0.Store(o + first * point);
        (e0 + e1).Store(o + (first + 1) * point);
        (e0 - e1).Store(o + (first + 2) * point);
        (-e1).Store(o + (first + 3) * point);
    }

    /// <summary>
    /// dx[n, c] = Σ over the windows that read it of B dV Bᵀ, eight tiles at a time added into the zeroed
    /// half-planes of the padded plane (lanes past a row's last tile masked off), then merged into dx.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ScatterInputGrads(float* dv, int n, float* even, float* odd)
    {
        var g = _g;
        var (half, tilesW, ld) = (_l.Half, _l.TilesW, _l.Ld);
        var point = (long)g.Channels * ld;
        var lane = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7);
        for (var c = 0; c < g.Channels; c++)
        {
            new Span<float>(even, _l.PaddedH * half).Clear();
            new Span<float>(odd, _l.PaddedH * half).Clear();
            var col = dv + (long)c * ld;
            for (var th = 0; th < _l.TilesH; th++)
                for (var tw = 0; tw < tilesW; tw += Lanes)
                {
                    var keep = Vector256.LessThan(lane, Vector256.Create(tilesW - tw)).AsSingle();
                    var o = col + th * tilesW + tw;
                    var (v0, v1, v2, v3) = (Vector256.Load(o) & keep, Vector256.Load(o + point) & keep, Vector256.Load(o + 2 * point) & keep, Vector256.Load(o + 3 * point) & keep);
                    var (v4, v5, v6, v7) = (Vector256.Load(o + 4 * point) & keep, Vector256.Load(o + 5 * point) & keep, Vector256.Load(o + 6 * point) & keep, Vector256.Load(o + 7 * point) & keep);
                    var (v8, v9, v10, v11) = (Vector256.Load(o + 8 * point) & keep, Vector256.Load(o + 9 * point) & keep, Vector256.Load(o + 10 * point) & keep, Vector256.Load(o + 11 * point) & keep);
                    var (v12, v13, v14, v15) = (Vector256.Load(o + 12 * point) & keep, Vector256.Load(o + 13 * point) & keep, Vector256.Load(o + 14 * point) & keep, Vector256.Load(o + 15 * point) & keep);
                    var at = 2 * th * half + tw;
                    // B dV: rows v0, v1 − v2 + v3, −v0 + v1 + v2, −v3 (of four points each); then · Bᵀ, added into the window.
                    AddRow(even, odd, at, v0, v1, v2, v3);
                    AddRow(even, odd, at + half, v4 - v8 + v12, v5 - v9 + v13, v6 - v10 + v14, v7 - v11 + v15);
                    AddRow(even, odd, at + 2 * half, v4 + v8 - v0, v5 + v9 - v1, v6 + v10 - v2, v7 + v11 - v3);
                    AddRow(even, odd, at + 3 * half, -v12, -v13, -v14, -v15);
                }
            Merge(even, odd, _y + ((long)n * g.Channels + c) * g.Height * g.Width, g.Height, g.Width, g.PadTop, g.PadLeft);
        }
    }

    /// <summary>One row h of B dV times Bᵀ added into columns 2t..2t+3 of a window row: even[t], odd[t], even[t+1], odd[t+1].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddRow(float* even, float* odd, int at, Vector256<float> h0, Vector256<float> h1, Vector256<float> h2, Vector256<float> h3)
    {
        (Vector256.Load(even + at) + h0).Store(even + at);
        (Vector256.Load(odd + at) + h1 - h2 + h3).Store(odd + at);
        (Vector256.Load(even + at + 1) - h0 + h1 + h2).Store(even + at + 1);
        (Vector256.Load(odd + at + 1) - h3).Store(odd + at + 1);
    }

}
