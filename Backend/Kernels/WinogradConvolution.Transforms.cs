using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Dlc.Backend.Kernels;

/// <summary>
/// The transforms of Winograd's F(2×2, 3×3) (see <see cref="WinogradConvolution"/>): filters into and out of the
/// transform domain, input windows (V = Bᵀ d B), output tiles (Aᵀ M A), output gradients (A dY Aᵀ) and input gradients
/// scattered back (B dV Bᵀ), each over planes split into their even and odd columns.
/// </summary>
internal sealed unsafe partial class WinogradConvolution
{
    // SplitRow's lanes: a line's sixteen positions, and where its even and odd ones go in the lower half.
    private static readonly Vector512<int> LineLanes = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    private static readonly Vector512<int> EvenLanes = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 0, 0, 0, 0, 0, 0, 0, 0);
    private static readonly Vector512<int> OddLanes = Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 0, 0, 0, 0, 0, 0, 0, 0);

    // Merge's lanes: eight even entries (lanes 0 – 7) and eight odd ones (8 – 15) put back in turn.
    private static readonly Vector512<int> PairLanes = Vector512.Create(0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15);

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
    [SkipLocalsInit]
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

    /// <summary>
    /// y[n, k] from the products: each 2×2 tile is Aᵀ M A plus the bias (then the fused ReLU), eight tiles at a time, cut at
    /// the output's edge: with AVX-512 stored into y's rows under masks, otherwise into half-planes that are then merged.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void TransformOutputs(float* m, int n, float* even, float* odd)
    {
        var g = _g;
        var (half, tilesW, ld) = (_l.Half, _l.TilesW, _l.Ld);
        var point = (long)g.OutChannels * ld;
        // With AVX-512 the outputs go straight to y rather than through half-planes and Merge. One core, batch 128, in-process
        // A/B, medians of ten, two runs: 16 channels at 28×28 8.10 / 8.80 → 7.19 / 8.07 ms, 32 at 14×14 5.61 / 5.41 → 4.47 /
        // 4.87, 64 at 7×7 7.63 / 9.48 → 6.57 / 8.89.
        var direct = Avx512F.IsSupported;
        for (var k = 0; k < g.OutChannels; k++)
        {
            var plane = _y + ((long)n * g.OutChannels + k) * g.OutHeight * g.OutWidth;
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
                    Vector256<float> e0 = Vector256.Max(u0 + u1 + u2 + bias, floor), o0 = Vector256.Max(u1 - u2 - u3 + bias, floor);
                    Vector256<float> e1 = Vector256.Max(w0 + w1 + w2 + bias, floor), o1 = Vector256.Max(w1 - w2 - w3 + bias, floor);
                    if (direct)
                    {
                        // The tiles' two output rows straight into y, each 2·8 columns put back in order under the row's mask.
                        var first = 2 * tw;
                        var inside = Vector512.LessThan((Vector512.Create(first) + LineLanes).AsUInt32(), Vector512.Create((uint)g.OutWidth)).AsSingle();
                        var row = plane + (long)2 * th * g.OutWidth + first;
                        Avx512F.MaskStore(row, inside, Avx512F.PermuteVar16x32(Vector512.Create(e0, o0), PairLanes));
                        if (2 * th + 1 < g.OutHeight) Avx512F.MaskStore(row + g.OutWidth, inside, Avx512F.PermuteVar16x32(Vector512.Create(e1, o1), PairLanes));
                        continue;
                    }
                    var at = 2 * th * half + tw;
                    e0.Store(even + at);
                    o0.Store(odd + at);
                    e1.Store(even + at + half);
                    o1.Store(odd + at + half);
                }
            if (!direct) Merge(even, odd, plane, g.OutHeight, g.OutWidth, 0, 0);
        }
    }

    /// <summary>plane[h, w] = (even or odd)[h + top, (w + left) / 2] for an H×W plane: the half-planes put back together.</summary>
    [SkipLocalsInit]
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
    [MethodImpl(MethodImplOptions.AggressiveOptimization), SkipLocalsInit]
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
