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
internal sealed unsafe partial class WinogradConvolution
{
    // The transform domain of F(2×2, 3×3): 4×4 points.
    private const int Points = 16;

    // A product aims for about this many tile columns, within the budgets below (see Layout).
    private const int TargetTiles = 256;

    // Floats of a group's transformed inputs and products (half of a 2 MB L2), and of one point's C × t of V.
    private const int GroupFloats = 256 * 1024;
    private const int PointFloats = 6400;

    // Tiles are transformed eight at a time (one Vector256 per point); rows of tiles and of half-planes
    // carry this much slack so the last, partly filled vector of a row may run past its end.
    private const int Lanes = 8;

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
            var wanted = (TargetTiles + Tiles - 1) / Tiles;
            // Within budget: the group's transformed inputs and products (Points·(C + K)·Ld floats) in half of one core's
            // L2, and, where the products have fewer rows than a tile and read V in place (K < 64), each point's C × t of V
            // within about half of L1. Two threads, batch 128, in-process A/B, medians of ten (forward, then gradients):
            // 64 channels at 7×7, 16 samples a group → 4: 5.25 → 3.83 and 8.02 → 7.21 ms (6 measured as 4 did; the budget
            // gives 7); 32 at 14×14, 6 → 3: 4.15 → 3.49 and 12.45 → 9.97 ms, 3 → 4: 3.02 → 2.44 and 8.15 → 7.52 ms (the
            // budget's 4). Training steps (batch 128, two threads, medians
            // of ten, two runs): fashion_resnet.dl 150.1 / 149.6 → 132.4 / 143.3 ms, fashion_cnn_small.dl 22.0 / 21.0 →
            // 18.8 / 18.7 ms.
            var byL2 = (GroupFloats / (Points * (g.Channels + g.OutChannels)) - Lanes) / Tiles;
            var byL1 = g.OutChannels < 64 ? PointFloats / (g.Channels * Tiles) : wanted;
            Samples = Math.Clamp(Math.Min(wanted, Math.Min(byL2, byL1)), 1, Math.Max(1, g.Batch));
            Samples = WholePanels(Samples, Tiles);
            Ld = Samples * Tiles + Lanes;
            PaddedH = 2 * TilesH + 2;
            Half = TilesW + 1 + Lanes;
            PerThread = Points * (g.Channels + g.OutChannels) * Ld + 2 * (PaddedH * Half + Lanes);
            Filters = Points * g.OutChannels * g.Channels;
        }

        /// <summary>
        /// The most samples, from <paramref name="samples"/> down to three quarters of it, whose tiles fill whole 32-column
        /// panels of the products (the forward's and the input gradient's columns); <paramref name="samples"/> when none
        /// do. A ragged last panel costs a whole panel's multiply-adds (and then cost a scalar store too): 64 channels at
        /// 7×7, 7 samples (112 columns) → 6 (96), two threads, batch 128, in-process A/B, medians of 41: forward 5.15 /
        /// 4.77 → 4.49 / 4.34 ms, gradients 8.15 / 7.02 → 7.42 / 6.61 ms.
        /// </summary>
        private static int WholePanels(int samples, int tiles)
        {
            for (var s = samples; s > 0 && 4 * s >= 3 * samples; s--)
                if (s * tiles % 32 == 0) return s;
            return samples;
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
}
