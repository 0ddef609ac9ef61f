using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Dlc.Backend.Gemm;

namespace Dlc.Backend.Kernels;

/// <summary>
/// 2-D convolution over NCHW float tensors with the batch split over threads (<see cref="SampleParallel"/>):
/// each thread takes its samples a few at a time, unrolls them side by side into one im2col matrix
/// [C/G·KH·KW, S·OH·OW] of its own, and runs single-threaded products: y = w · col, dcol = wᵀ · dy scattered
/// back by col2im, dw = Σ dy · colᵀ. So unrolling, scattering and multiplying run on every core with no
/// synchronisation inside a step; each thread's share of dw is summed at the end. Several samples per
/// product (<see cref="SamplesPerProduct"/>) keep small images' products wide enough to run near the GEMM's
/// speed; one sample's output then goes from a row scratch to its place in y. A kernel is bound once to a
/// geometry and its scratch (see <see cref="ScratchLengths"/>); calls allocate nothing. 3×3 stride-1
/// convolutions of enough channels run by Winograd's F(2×2, 3×3) instead (<see cref="WinogradConvolution"/>)
/// unless the caller asks for im2col.
/// </summary>
public sealed unsafe class Conv2dKernel
{
    // A product aims for this many columns, with the unrolled matrix within about 512 KiB (one core's L2).
    private const int TargetColumns = 512;
    private const int MaxColumnFloats = 1 << 17;

    private readonly Conv2dGeometry _g;
    private readonly IGemm _gemm;
    private readonly SampleParallel? _parallel;
    private readonly float* _scratch;
    private readonly float* _partials;
    private readonly int _samples;
    private readonly SampleParallel.RangeBody _forward, _inputGrad, _weightGrad;
    private readonly WinogradConvolution? _winograd;
    private readonly bool _fewTaps;
    private float* _x, _w, _bias, _y;
    private bool _relu;

    /// <param name="gemm">Runs the products; with several threads it is called from each at once, so it must be single-threaded.</param>
    /// <param name="parallel">The threads to split the batch over; null runs on the calling thread.</param>
    /// <param name="scratch">Scratch of <see cref="ScratchLengths"/>'s first length.</param>
    /// <param name="partials">Scratch of its second length (the other threads' shares of dw).</param>
    /// <param name="winograd">Whether a geometry Winograd's algorithm computes runs by it (scratch must be sized alike).</param>
    public Conv2dKernel(Conv2dGeometry g, IGemm gemm, SampleParallel? parallel, float* scratch, float* partials, bool winograd = true)
    {
        (_g, _gemm, _parallel) = (g, gemm, parallel);
        if (winograd && WinogradConvolution.Applies(g)) _winograd = new WinogradConvolution(g, gemm, parallel, scratch, partials);
        _scratch = scratch;
        _partials = partials;
        _samples = SamplesPerProduct(g);
        _fewTaps = FewTaps(g);
        (_forward, _inputGrad, _weightGrad) = (ForwardRange, InputGradRange, WeightGradRange);
    }

    public Conv2dGeometry Geometry => _g;

    /// <summary>How the convolution is computed: "winograd" or "im2col".</summary>
    public string Algorithm => _winograd is null ? "im2col" : "winograd";

    /// <summary>How many samples one product covers: enough for about 512 columns, within the unrolled matrix's budget.</summary>
    public static int SamplesPerProduct(Conv2dGeometry g)
    {
        var positions = Math.Max(1, g.Positions);
        var wanted = (TargetColumns + positions - 1) / positions;
        var fits = MaxColumnFloats / Math.Max(1, g.Patch * positions);
        return Math.Clamp(Math.Min(wanted, fits), 1, Math.Max(1, g.Batch));
    }

    /// <summary>
    /// Floats of scratch a kernel needs: per thread an im2col matrix and, when a product covers several
    /// samples, a matrix of their outputs side by side; and a dw per thread but the first.
    /// </summary>
    public static (int Scratch, int Partials) ScratchLengths(Conv2dGeometry g, int threads, bool winograd = true) =>
        winograd && WinogradConvolution.Applies(g)
            ? WinogradConvolution.ScratchLengths(g, threads)
            : (Math.Max(1, PerThread(g, SamplesPerProduct(g))) * threads, g.WeightSize * (threads - 1));

    private static int PerThread(Conv2dGeometry g, int samples) =>
        (g.Patch + (samples > 1 ? g.OutPerGroup : 0)) * g.Positions * samples;

    private int Threads => _parallel?.Threads ?? 1;

    /// <summary>y = conv(x, w) + bias, or max(0, that) when <paramref name="relu"/>; <paramref name="bias"/> may be null.</summary>
    public void Forward(float* x, float* w, float* bias, float* y, bool relu = false)
    {
        if (_winograd is not null)
        {
            _winograd.Forward(x, w, bias, y, relu);
            return;
        }
        _x = x;
        _w = w;
        _bias = bias;
        _y = y;
        _relu = relu;
        Run(_forward);
    }

    /// <summary>dx = the transposed convolution of dy with w (overwritten).</summary>
    public void InputGrad(float* dy, float* w, float* dx)
    {
        if (_winograd is not null)
        {
            _winograd.InputGrad(dy, w, dx);
            return;
        }
        _x = dy;
        _w = w;
        _y = dx;
        Run(_inputGrad);
    }

    /// <summary>
    /// dx and dw for one dy (both overwritten), as <see cref="InputGrad"/> and <see cref="WeightGrad"/> give them: by
    /// Winograd's algorithm in one pass over the samples (each group's dy transformed once for both), else one after the
    /// other.
    /// </summary>
    public void Gradients(float* x, float* dy, float* w, float* dx, float* dw)
    {
        if (_winograd is not null)
        {
            _winograd.Gradients(x, dy, w, dx, dw);
            return;
        }
        InputGrad(dy, w, dx);
        WeightGrad(x, dy, dw);
    }

    /// <summary>Whether a kernel of this geometry computes <see cref="Gradients"/> in one pass (by Winograd's algorithm).</summary>
    public static bool SharesGradientWork(Conv2dGeometry g, bool winograd) => winograd && WinogradConvolution.Applies(g);

    /// <summary>dw = Σ over the batch of dy · colᵀ (overwritten).</summary>
    public void WeightGrad(float* x, float* dy, float* dw)
    {
        if (_winograd is not null)
        {
            _winograd.WeightGrad(x, dy, dw);
            return;
        }
        _x = x;
        _y = dy;
        _w = dw;
        var parts = Math.Min(Threads, _g.Batch);
        if (_g.Batch == 0) new Span<float>(dw, _g.WeightSize).Clear();
        Run(_weightGrad);
        var total = new Span<float>(dw, _g.WeightSize);
        for (var part = 1; part < parts; part++)
            System.Numerics.Tensors.TensorPrimitives.Add(total, new ReadOnlySpan<float>(_partials + (long)(part - 1) * _g.WeightSize, _g.WeightSize), total);
    }

    private void Run(SampleParallel.RangeBody body)
    {
        if (_parallel is null) body(0, 0, _g.Batch);
        else _parallel.For(_g.Batch, body);
    }

    /// <summary>A thread's im2col matrix, and after it the matrix of its samples' outputs side by side.</summary>
    private (IntPtr Columns, IntPtr Rows) Scratch(int part)
    {
        var columns = _scratch + (long)part * PerThread(_g, _samples);
        return ((IntPtr)columns, (IntPtr)(columns + (long)_g.Patch * _g.Positions * _samples));
    }

    /// <summary>
    /// A window of at most 16 taps over one group (a 3×3 convolution of a grey image, say): a product with so
    /// short an inner dimension is all packing and stores, so the forward pass and the weight gradient loop
    /// over the unrolled rows directly, eight positions at a time.
    /// </summary>
    private static bool FewTaps(Conv2dGeometry g) =>
        g.Groups == 1 && g.Patch <= 16 && g.Positions >= 8 && Vector256.IsHardwareAccelerated;

    private void ForwardRange(int part, int start, int end)
    {
        var g = _g;
        var (c, r) = Scratch(part);
        float* col = (float*)c, rows = (float*)r;
        if (_fewTaps)
        {
            for (var n = start; n < end; n++)
            {
                Convolution.Unroll(_x, col, g.Positions, g, n, 0);
                ForwardFewTaps(col, _y + (long)n * g.OutChannels * g.Positions);
            }
            return;
        }
        var (patch, positions, kg) = (g.Patch, g.Positions, g.OutPerGroup);
        for (var n0 = start; n0 < end; n0 += _samples)
        {
            var s = Math.Min(_samples, end - n0);
            var ld = s * positions;
            for (var group = 0; group < g.Groups; group++)
            {
                for (var i = 0; i < s; i++) Convolution.Unroll(_x, col + (long)i * positions, ld, g, n0 + i, group);
                var w = _w + (long)group * kg * patch;
                if (s == 1)
                {
                    // One sample: the product writes its place in y directly.
                    var y = _y + ((long)n0 * g.OutChannels + group * kg) * positions;
                    _gemm.Sgemm(false, false, kg, positions, patch, 1f, w, patch, col, positions, 0f, y, positions);
                    if (_bias is not null)
                        Convolution.AddChannelBias(new Span<float>(y, kg * positions), new ReadOnlySpan<float>(_bias + group * kg, kg), 1, kg, positions);
                    if (_relu) Relu(y, kg * positions);
                    continue;
                }
                _gemm.Sgemm(false, false, kg, ld, patch, 1f, w, patch, col, ld, 0f, rows, ld);
                for (var i = 0; i < s; i++)
                    for (var k = 0; k < kg; k++)
                    {
                        var channel = group * kg + k;
                        var from = new ReadOnlySpan<float>(rows + (long)k * ld + i * positions, positions);
                        var to = new Span<float>(_y + ((long)(n0 + i) * g.OutChannels + channel) * positions, positions);
                        if (_bias is null) from.CopyTo(to);
                        else System.Numerics.Tensors.TensorPrimitives.Add(from, _bias[channel], to);
                        if (_relu) System.Numerics.Tensors.TensorPrimitives.Max(to, 0f, to);
                    }
            }
        }
    }

    private static void Relu(float* y, int length)
    {
        var span = new Span<float>(y, length);
        System.Numerics.Tensors.TensorPrimitives.Max(span, 0f, span);
    }

    private void InputGradRange(int part, int start, int end)
    {
        var g = _g;
        var (c, r) = Scratch(part);
        float* col = (float*)c, rows = (float*)r;
        var (patch, positions, kg) = (g.Patch, g.Positions, g.OutPerGroup);
        var plane = g.Height * g.Width;
        new Span<float>(_y + (long)start * g.Channels * plane, (end - start) * g.Channels * plane).Clear();
        for (var n0 = start; n0 < end; n0 += _samples)
        {
            var s = Math.Min(_samples, end - n0);
            var ld = s * positions;
            for (var group = 0; group < g.Groups; group++)
            {
                // One sample's dy is already a [K/G, positions] matrix; several are gathered side by side.
                var dy = s == 1 ? _x + ((long)n0 * g.OutChannels + group * kg) * positions : rows;
                if (s > 1) Gather(_x, rows, g, n0, s, group);
                _gemm.Sgemm(true, false, patch, ld, kg, 1f, _w + (long)group * kg * patch, patch, dy, ld, 0f, col, ld);
                for (var i = 0; i < s; i++)
                    Convolution.Roll(col + (long)i * positions, ld, _y + ((long)(n0 + i) * g.Channels + group * g.ChannelsPerGroup) * plane, g);
            }
        }
    }

    private void WeightGradRange(int part, int start, int end)
    {
        var g = _g;
        var (c, r) = Scratch(part);
        float* col = (float*)c, rows = (float*)r;
        var (patch, positions, kg) = (g.Patch, g.Positions, g.OutPerGroup);
        var dw = part == 0 ? _w : _partials + (long)(part - 1) * g.WeightSize;
        if (_fewTaps)
        {
            new Span<float>(dw, g.WeightSize).Clear();
            for (var n = start; n < end; n++)
            {
                Convolution.Unroll(_x, col, positions, g, n, 0);
                WeightGradFewTaps(col, _y + (long)n * g.OutChannels * positions, dw);
            }
            return;
        }
        for (var n0 = start; n0 < end; n0 += _samples)
        {
            var s = Math.Min(_samples, end - n0);
            var ld = s * positions;
            for (var group = 0; group < g.Groups; group++)
            {
                for (var i = 0; i < s; i++) Convolution.Unroll(_x, col + (long)i * positions, ld, g, n0 + i, group);
                var dy = s == 1 ? _y + ((long)n0 * g.OutChannels + group * kg) * positions : rows;
                if (s > 1) Gather(_y, rows, g, n0, s, group);
                _gemm.Sgemm(false, true, kg, patch, ld, 1f, dy, ld, col, ld, n0 == start ? 0f : 1f,
                    dw + (long)group * kg * patch, patch);
            }
        }
    }

    /// <summary>
    /// y[k, p] = bias[k] + Σ over taps t of w[k, t]·col[t, p] for one sample (then the fused ReLU): a channel at a time,
    /// its taps' weights in registers, four vectors of positions at a time (four FMA chains: one chain a vector waited
    /// on each FMA); the last vector of eight overlaps the one before it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ForwardFewTaps(float* col, float* y)
    {
        var (patch, positions) = (_g.Patch, _g.Positions);
        var floor = Vector256.Create(_relu ? 0f : float.NegativeInfinity);
        var w = stackalloc Vector256<float>[16];
        for (var k = 0; k < _g.OutChannels; k++)
        {
            var bias = Vector256.Create(_bias is null ? 0f : _bias[k]);
            for (var t = 0; t < patch; t++) w[t] = Vector256.Create(_w[k * patch + t]);
            var yk = y + (long)k * positions;
            var p = 0;
            for (; p + 32 <= positions; p += 32)
            {
                var (a0, a1, a2, a3) = (bias, bias, bias, bias);
                var c = col + p;
                for (var t = 0; t < patch; t++, c += positions)
                {
                    var wt = w[t];
                    a0 = Vector256.FusedMultiplyAdd(wt, Vector256.Load(c), a0);
                    a1 = Vector256.FusedMultiplyAdd(wt, Vector256.Load(c + 8), a1);
                    a2 = Vector256.FusedMultiplyAdd(wt, Vector256.Load(c + 16), a2);
                    a3 = Vector256.FusedMultiplyAdd(wt, Vector256.Load(c + 24), a3);
                }
                Vector256.Max(a0, floor).Store(yk + p);
                Vector256.Max(a1, floor).Store(yk + p + 8);
                Vector256.Max(a2, floor).Store(yk + p + 16);
                Vector256.Max(a3, floor).Store(yk + p + 24);
            }
            for (; p < positions; p += 8)
            {
                var q = Math.Min(p, positions - 8);
                var acc = bias;
                for (var t = 0; t < patch; t++) acc = Vector256.FusedMultiplyAdd(w[t], Vector256.Load(col + t * positions + q), acc);
                Vector256.Max(acc, floor).Store(yk + q);
            }
        }
    }

    /// <summary>
    /// dw[k, t] += Σ over positions p of dy[k, p]·col[t, p] for one sample, eight positions at a time: four taps a pass
    /// over the channel's dy, their sums in registers (in an array on the stack, each FMA waited on the store of the one
    /// before: the first layer's weight gradient took 3.4 ms a step of the small CNN). A last pass of fewer taps reads
    /// the last tap's row for the rest and drops their sums.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void WeightGradFewTaps(float* col, float* dy, float* dw)
    {
        var (patch, positions) = (_g.Patch, _g.Positions);
        var whole = positions / 8 * 8;
        for (var k = 0; k < _g.OutChannels; k++)
        {
            var dyk = dy + (long)k * positions;
            var dwk = dw + k * patch;
            for (var t0 = 0; t0 < patch; t0 += 4)
            {
                float* c0 = col + (long)t0 * positions, c1 = col + (long)Math.Min(t0 + 1, patch - 1) * positions;
                float* c2 = col + (long)Math.Min(t0 + 2, patch - 1) * positions, c3 = col + (long)Math.Min(t0 + 3, patch - 1) * positions;
                Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
                for (var p = 0; p < whole; p += 8)
                {
                    var d = Vector256.Load(dyk + p);
                    a0 = Vector256.FusedMultiplyAdd(d, Vector256.Load(c0 + p), a0);
                    a1 = Vector256.FusedMultiplyAdd(d, Vector256.Load(c1 + p), a1);
                    a2 = Vector256.FusedMultiplyAdd(d, Vector256.Load(c2 + p), a2);
                    a3 = Vector256.FusedMultiplyAdd(d, Vector256.Load(c3 + p), a3);
                }
                AddTap(dwk, t0, patch, Vector256.Sum(a0), dyk, c0, whole, positions);
                AddTap(dwk, t0 + 1, patch, Vector256.Sum(a1), dyk, c1, whole, positions);
                AddTap(dwk, t0 + 2, patch, Vector256.Sum(a2), dyk, c2, whole, positions);
                AddTap(dwk, t0 + 3, patch, Vector256.Sum(a3), dyk, c3, whole, positions);
            }
        }
    }

    /// <summary>dw[t] += sum + the positions past the last whole vector, for a tap t below patch.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddTap(float* dw, int t, int patch, float sum, float* dy, float* row, int whole, int positions)
    {
        if (t >= patch) return;
        for (var p = whole; p < positions; p++) sum += dy[p] * row[p];
        dw[t] += sum;
    }

    /// <summary>The group's channels of dy for samples n0..n0+s, side by side: rows[k, i·P + p] = dy[n0 + i, g·K/G + k, p].</summary>
    private static void Gather(float* dy, float* rows, Conv2dGeometry g, int n0, int s, int group)
    {
        var (positions, kg) = (g.Positions, g.OutPerGroup);
        for (var i = 0; i < s; i++)
            for (var k = 0; k < kg; k++)
                new ReadOnlySpan<float>(dy + ((long)(n0 + i) * g.OutChannels + group * kg + k) * positions, positions)
                    .CopyTo(new Span<float>(rows + (long)k * s * positions + i * positions, positions));
    }
}

/// <summary>The parts of a convolution that need no product: the bias gradient, im2col and col2im.</summary>
public static unsafe class Convolution
{
    /// <summary>y[n, k, ·] += bias[k] over [batch, channels, positions].</summary>
    public static void AddChannelBias(Span<float> y, ReadOnlySpan<float> bias, int batch, int channels, int positions)
    {
        Shapes.Same(batch * channels * positions, y.Length, nameof(y));
        Shapes.Same(channels, bias.Length, nameof(bias));
        for (var n = 0; n < batch; n++)
            for (var k = 0; k < channels; k++)
            {
                var plane = y.Slice((n * channels + k) * positions, positions);
                System.Numerics.Tensors.TensorPrimitives.Add(plane, bias[k], plane);
            }
    }

    /// <summary>db[k] = Σ over N and positions of dy[n, k] (overwritten).</summary>
    public static void Conv2dBiasGrad(ReadOnlySpan<float> dy, Span<float> db, int batch, int channels, int positions)
    {
        Shapes.Same(batch * channels * positions, dy.Length, nameof(dy));
        Shapes.Same(channels, db.Length, nameof(db));
        for (var k = 0; k < channels; k++)
        {
            var sum = 0f;
            for (var n = 0; n < batch; n++) sum += System.Numerics.Tensors.TensorPrimitives.Sum(dy.Slice((n * channels + k) * positions, positions));
            db[k] = sum;
        }
    }

    /// <summary>im2col of sample n, group g into the columns of one sample; rows are <paramref name="ld"/> apart.</summary>
    internal static void Unroll(float* x, float* col, int ld, Conv2dGeometry g, int n, int group)
    {
        var image = x + ((long)n * g.Channels + group * g.ChannelsPerGroup) * g.Height * g.Width;
        var row = col;
        for (var c = 0; c < g.ChannelsPerGroup; c++)
            for (var p = 0; p < g.KernelH; p++)
                for (var q = 0; q < g.KernelW; q++, row += ld)
                    Columns(image + (long)c * g.Height * g.Width, row, g, p, q, scatter: false);
    }

    /// <summary>col2im: every tap's row of one sample's columns added back into the image it was read from.</summary>
    internal static void Roll(float* col, int ld, float* image, Conv2dGeometry g)
    {
        var row = col;
        for (var c = 0; c < g.ChannelsPerGroup; c++)
            for (var p = 0; p < g.KernelH; p++)
                for (var q = 0; q < g.KernelW; q++, row += ld)
                    Columns(image + (long)c * g.Height * g.Width, row, g, p, q, scatter: true);
    }

    /// <summary>
    /// One tap (p, q) of one channel plane: gathers the plane into a row of OH·OW (zeros in the padding) or
    /// scatters the row back by adding. Only the output columns whose tap lands inside the image are touched.
    /// </summary>
    private static void Columns(float* plane, float* row, Conv2dGeometry g, int p, int q, bool scatter)
    {
        var offset = q * g.DilationW - g.PadLeft;
        // Output columns j with 0 ≤ j·SW + offset < W.
        var first = offset >= 0 ? 0 : (-offset + g.StrideW - 1) / g.StrideW;
        var last = Math.Min(g.OutWidth, g.Width - offset <= 0 ? 0 : (g.Width - offset - 1) / g.StrideW + 1);
        for (var i = 0; i < g.OutHeight; i++)
        {
            var r = row + (long)i * g.OutWidth;
            var h = i * g.StrideH - g.PadTop + p * g.DilationH;
            if (h < 0 || h >= g.Height || first >= last)
            {
                if (!scatter) new Span<float>(r, g.OutWidth).Clear();
                continue;
            }
            var src = plane + (long)h * g.Width + offset;
            if (scatter)
            {
                if (g.StrideW == 1)
                {
                    var to = new Span<float>(src + first, last - first);
                    System.Numerics.Tensors.TensorPrimitives.Add(to, new ReadOnlySpan<float>(r + first, last - first), to);
                }
                else if (g.StrideW == 2 && Avx512F.IsSupported)
                {
                    for (var j = first; j < last; j += 16)
                    {
                        var lanes = Math.Min(16, last - j);
                        EvenOdd.AddToEvens16(src + 2 * j, Avx512F.MaskLoad(r + j, EvenOdd.FirstLanes16(lanes), Vector512<float>.Zero), lanes);
                    }
                }
                else
                {
                    for (var j = first; j < last; j++) src[j * g.StrideW] += r[j];
                }
                continue;
            }
            for (var j = 0; j < first; j++) r[j] = 0f;
            if (g.StrideW == 1) new ReadOnlySpan<float>(src + first, last - first).CopyTo(new Span<float>(r + first, last - first));
            else if (g.StrideW == 2 && Avx512F.IsSupported)
            {
                // Sixteen outputs from 31 floats of the row, the even ones picked out (a stride-2 convolution's unrolling
                // and scattering, one float at a time, took about 40% of its time on one core).
                for (var j = first; j < last; j += 16)
                {
                    var lanes = Math.Min(16, last - j);
                    Avx512F.MaskStore(r + j, EvenOdd.FirstLanes16(lanes), EvenOdd.Evens16(src + 2 * j, lanes));
                }
            }
            else for (var j = first; j < last; j++) r[j] = src[j * g.StrideW];
            for (var j = last; j < g.OutWidth; j++) r[j] = 0f;
        }
    }
}
