using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Dlc.Backend.Kernels;

/// <summary>
/// One step of one sample of each recurrent cell, forward and backward, fused: the pre-activations of the
/// stacked gates come in (the input and hidden products), and the gate non-linearities, the state update and
/// (backward) every gate's gradient are one pass over the H features, eight at a time. Shapes per call: gate
/// rows [G·H] with PyTorch's gate order, state rows [H]. A null pointer stands for zeros (the first step's
/// previous state, a layer without bias).
/// </summary>
internal static unsafe class RecurrentCells
{
    /// <summary>a = σ/tanh(a + r + bias) per gate (i, f, g, o); c = f·cPrev + i·g; h = o·tanh c.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void LstmForward(float* a, float* r, float* bias, float* c, float* cPrev, float* h, int hidden)
    {
        AddInto(a, r, bias, 4 * hidden);
        float* ai = a, af = a + hidden, ag = a + 2 * hidden, ao = a + 3 * hidden;
        var j = 0;
        for (; j <= hidden - 8; j += 8)
        {
            var i = Sigmoid(Vector256.Load(ai + j));
            var f = Sigmoid(Vector256.Load(af + j));
            var g = Tanh(Vector256.Load(ag + j));
            var o = Sigmoid(Vector256.Load(ao + j));
            i.Store(ai + j);
            f.Store(af + j);
            g.Store(ag + j);
            o.Store(ao + j);
            var cc = i * g;
            if (cPrev != null) cc += f * Vector256.Load(cPrev + j);
            cc.Store(c + j);
            (o * Tanh(cc)).Store(h + j);
        }
        for (; j < hidden; j++)
        {
            float i = Sigmoid(ai[j]), f = Sigmoid(af[j]), g = Tanh(ag[j]), o = Sigmoid(ao[j]);
            (ai[j], af[j], ag[j], ao[j]) = (i, f, g, o);
            var cc = i * g + (cPrev != null ? f * cPrev[j] : 0f);
            c[j] = cc;
            h[j] = o * Tanh(cc);
        }
    }

    /// <summary>
    /// From dh (the whole gradient of h at this step) and dc (of c, from the step after), the gradient of every
    /// gate's pre-activation into dGates; dc becomes the gradient of the previous step's c.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void LstmBackward(float* a, float* c, float* cPrev, float* dh, float* dc, float* dGates, int hidden)
    {
        float* ai = a, af = a + hidden, ag = a + 2 * hidden, ao = a + 3 * hidden;
        float* di = dGates, df = dGates + hidden, dg = dGates + 2 * hidden, dO = dGates + 3 * hidden;
        var one = Vector256<float>.One;
        var j = 0;
        for (; j <= hidden - 8; j += 8)
        {
            var (i, f, g, o) = (Vector256.Load(ai + j), Vector256.Load(af + j), Vector256.Load(ag + j), Vector256.Load(ao + j));
            var tc = Tanh(Vector256.Load(c + j));
            var dhj = Vector256.Load(dh + j);
            var dcj = Vector256.Load(dc + j) + dhj * o * (one - tc * tc);
            var cp = cPrev != null ? Vector256.Load(cPrev + j) : Vector256<float>.Zero;
            (dcj * g * i * (one - i)).Store(di + j);
            (dcj * cp * f * (one - f)).Store(df + j);
            (dcj * i * (one - g * g)).Store(dg + j);
            (dhj * tc * o * (one - o)).Store(dO + j);
            (dcj * f).Store(dc + j);
        }
        for (; j < hidden; j++)
        {
            float i = ai[j], f = af[j], g = ag[j], o = ao[j], tc = Tanh(c[j]);
            var dcj = dc[j] + dh[j] * o * (1 - tc * tc);
            di[j] = dcj * g * i * (1 - i);
            df[j] = dcj * (cPrev != null ? cPrev[j] : 0f) * f * (1 - f);
            dg[j] = dcj * i * (1 - g * g);
            dO[j] = dh[j] * tc * o * (1 - o);
            dc[j] = dcj * f;
        }
    }

    /// <summary>
    /// r, z = σ(a + r + bias); hn = W_hn·h + b_hn (kept for the backward pass); n = tanh(a_n + b_in + r·hn);
    /// h = (1 − z)·n + z·hPrev. <paramref name="bias"/> holds b_ih + b_hh for r and z, b_in for n.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void GruForward(float* a, float* r, float* bias, float* hiddenBiasN, float* hn, float* h, float* hPrev, int hidden)
    {
        AddInto(a, r, bias, 2 * hidden);
        float* ar = a, az = a + hidden, an = a + 2 * hidden, bn = bias + 2 * hidden;
        float* rn = r != null ? r + 2 * hidden : null;
        var one = Vector256<float>.One;
        var j = 0;
        for (; j <= hidden - 8; j += 8)
        {
            var rg = Sigmoid(Vector256.Load(ar + j));
            var z = Sigmoid(Vector256.Load(az + j));
            var hnj = (rn != null ? Vector256.Load(rn + j) : Vector256<float>.Zero)
                + (hiddenBiasN != null ? Vector256.Load(hiddenBiasN + j) : Vector256<float>.Zero);
            var n = Tanh(Vector256.Load(an + j) + Vector256.Load(bn + j) + rg * hnj);
            rg.Store(ar + j);
            z.Store(az + j);
            n.Store(an + j);
            hnj.Store(hn + j);
            var hp = hPrev != null ? Vector256.Load(hPrev + j) : Vector256<float>.Zero;
            ((one - z) * n + z * hp).Store(h + j);
        }
        for (; j < hidden; j++)
        {
            float rg = Sigmoid(ar[j]), z = Sigmoid(az[j]);
            var hnj = (rn != null ? rn[j] : 0f) + (hiddenBiasN != null ? hiddenBiasN[j] : 0f);
            var n = Tanh(an[j] + bn[j] + rg * hnj);
            (ar[j], az[j], an[j], hn[j]) = (rg, z, n, hnj);
            h[j] = (1 - z) * n + z * (hPrev != null ? hPrev[j] : 0f);
        }
    }

    /// <summary>
    /// The gradients of the input-side pre-activations (dGx) and hidden-side ones (dGh, which differ in n: the
    /// hidden part is scaled by r); dh becomes dh·z, the part of the previous h's gradient that skips the gates.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void GruBackward(float* a, float* hn, float* hPrev, float* dh, float* dGx, float* dGh, int hidden)
    {
        float* ar = a, az = a + hidden, an = a + 2 * hidden;
        var one = Vector256<float>.One;
        var j = 0;
        for (; j <= hidden - 8; j += 8)
        {
            var (rg, z, n) = (Vector256.Load(ar + j), Vector256.Load(az + j), Vector256.Load(an + j));
            var dhj = Vector256.Load(dh + j);
            var hp = hPrev != null ? Vector256.Load(hPrev + j) : Vector256<float>.Zero;
            var dan = dhj * (one - z) * (one - n * n);
            var dr = dan * Vector256.Load(hn + j) * rg * (one - rg);
            var dz = dhj * (hp - n) * z * (one - z);
            dr.Store(dGx + j);
            dz.Store(dGx + hidden + j);
            dan.Store(dGx + 2 * hidden + j);
            dr.Store(dGh + j);
            dz.Store(dGh + hidden + j);
            (dan * rg).Store(dGh + 2 * hidden + j);
            (dhj * z).Store(dh + j);
        }
        for (; j < hidden; j++)
        {
            float rg = ar[j], z = az[j], n = an[j], hp = hPrev != null ? hPrev[j] : 0f;
            var dan = dh[j] * (1 - z) * (1 - n * n);
            var dr = dan * hn[j] * rg * (1 - rg);
            var dz = dh[j] * (hp - n) * z * (1 - z);
            (dGx[j], dGx[hidden + j], dGx[2 * hidden + j]) = (dr, dz, dan);
            (dGh[j], dGh[hidden + j], dGh[2 * hidden + j]) = (dr, dz, dan * rg);
            dh[j] *= z;
        }
    }

    /// <summary>h = tanh or relu of (a + r + bias); a keeps h for the backward pass.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SimpleForward(float* a, float* r, float* bias, float* h, int hidden, bool relu)
    {
        AddInto(a, r, bias, hidden);
        var j = 0;
        for (; j <= hidden - 8; j += 8)
        {
            var v = Vector256.Load(a + j);
            v = relu ? Vector256.Max(v, Vector256<float>.Zero) : Tanh(v);
            v.Store(a + j);
            v.Store(h + j);
        }
        for (; j < hidden; j++) h[j] = a[j] = relu ? MathF.Max(a[j], 0f) : Tanh(a[j]);
    }

    /// <summary>dGates = dh·(1 − h²) (tanh) or dh where h &gt; 0 (relu), from h kept in a.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SimpleBackward(float* a, float* dh, float* dGates, int hidden, bool relu)
    {
        var j = 0;
        for (; j <= hidden - 8; j += 8)
        {
            var (h, d) = (Vector256.Load(a + j), Vector256.Load(dh + j));
            var g = relu ? Vector256.ConditionalSelect(Vector256.GreaterThan(h, Vector256<float>.Zero), d, Vector256<float>.Zero)
                : d * (Vector256<float>.One - h * h);
            g.Store(dGates + j);
        }
        for (; j < hidden; j++) dGates[j] = relu ? (a[j] > 0f ? dh[j] : 0f) : dh[j] * (1 - a[j] * a[j]);
    }

    /// <summary>a += r + bias over <paramref name="count"/> values (r may be null).</summary>
    private static void AddInto(float* a, float* r, float* bias, int count)
    {
        var j = 0;
        for (; j <= count - 8; j += 8)
        {
            var v = Vector256.Load(a + j) + Vector256.Load(bias + j);
            if (r != null) v += Vector256.Load(r + j);
            v.Store(a + j);
        }
        for (; j < count; j++) a[j] += bias[j] + (r != null ? r[j] : 0f);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Sigmoid(Vector256<float> v) => Vector256<float>.One / (Vector256<float>.One + FloatExp.Exp8(-v));

    // tanh x = 2σ(2x) − 1: ±1 at the extremes without overflow, within ~1e-7 of tanh near 0.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Tanh(Vector256<float> v) => Vector256.Create(2f) * Sigmoid(v + v) - Vector256<float>.One;

    private static float Sigmoid(float v) => 1f / (1f + MathF.Exp(-v));

    private static float Tanh(float v) => 2f * Sigmoid(v + v) - 1f;
}
