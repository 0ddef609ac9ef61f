using System.Numerics;

namespace Dlc.Backend.Kernels.Reference;

/// <summary>
/// The definition of the recurrent layers (torch.nn.RNN, LSTM, GRU, batch-first) in plain loops, generic over T:
/// every step of every sample one after another, and back-propagation through time written out gate by gate.
/// <paramref name="weights"/> lists each direction's w_ih [G·H, D], w_hh [G·H, H] and, with a bias, b_ih and
/// b_hh [G·H]; gates are stacked in PyTorch's order (i, f, g, o for LSTM; r, z, n for GRU). A packed geometry
/// takes <c>lengths</c> [N]: sample n runs over its first L steps only (the reverse direction from L − 1 down to 0),
/// its result is zero at t ≥ L, and its last state is that of step L − 1 (forward) and 0 (reverse), as
/// torch.nn.utils.rnn.pack_padded_sequence gives.
/// </summary>
public static class RecurrentReference
{
    /// <summary>y = [N, T, F] of every step, or [N, F] of each direction's last step; F = directions · H.</summary>
    public static void Forward<T>(RecurrentGeometry g, ReadOnlySpan<T> x, IReadOnlyList<T[]> weights, Span<T> y, int[]? lengths = null)
        where T : IFloatingPointIeee754<T>
    {
        var states = Run(g, x, weights, lengths);
        if (!g.ReturnSequences) y.Clear();
        for (var d = 0; d < g.Directions; d++)
        {
            for (var n = 0; n < g.Batch; n++)
            {
                for (var t = 0; t < g.Steps; t++)
                {
                    if (!g.ReturnSequences && t != Last(g, d, lengths, n)) continue;
                    var row = g.ReturnSequences ? (n * g.Steps + t) * g.Features : n * g.Features;
                    for (var j = 0; j < g.Hidden; j++) y[row + d * g.Hidden + j] = states[d].H[(n * g.Steps + t) * g.Hidden + j];
                }
            }
        }
    }

    /// <summary>dx [N, T, D] and each weight's gradient (overwritten), given dy of the layer's output.</summary>
    public static void Backward<T>(RecurrentGeometry g, ReadOnlySpan<T> x, IReadOnlyList<T[]> weights, ReadOnlySpan<T> dy,
        Span<T> dx, IReadOnlyList<T[]> dweights, int[]? lengths = null) where T : IFloatingPointIeee754<T>
    {
        var (H, G, D, per) = (g.Hidden, g.GateWidth, g.Input, g.WeightsPerDirection);
        var states = Run(g, x, weights, lengths);
        dx.Clear();
        foreach (var dw in dweights) Array.Clear(dw);
        for (var d = 0; d < g.Directions; d++)
        {
            var (wih, whh) = (weights[d * per], weights[d * per + 1]);
            var (dwih, dwhh) = (dweights[d * per], dweights[d * per + 1]);
            var (dbih, dbhh) = per == 4 ? (dweights[d * per + 2], dweights[d * per + 3]) : (new T[G], new T[G]);
            var s = states[d];
            for (var n = 0; n < g.Batch; n++)
            {
                var dhNext = new T[H];
                var dcNext = new T[H];
                var length = Length(g, lengths, n);
                for (var step = length - 1; step >= 0; step--)
                {
                    var t = StepAt(g, d, step, lengths, n);
                    var tp = step > 0 ? StepAt(g, d, step - 1, lengths, n) : -1;
                    T Prev(T[] a, int j) => tp < 0 ? T.Zero : a[(n * g.Steps + tp) * H + j];
                    var (at, st) = ((n * g.Steps + t) * G, (n * g.Steps + t) * H);
                    var dh = new T[H];
                    for (var j = 0; j < H; j++)
                    {
                        var fromOutput = g.ReturnSequences ? dy[(n * g.Steps + t) * g.Features + d * H + j]
                            : t == Last(g, d, lengths, n) ? dy[n * g.Features + d * H + j] : T.Zero;
                        dh[j] = fromOutput + dhNext[j];
                    }
                    var dax = new T[G];
                    var dah = new T[G];
                    var direct = new T[H];
                    for (var j = 0; j < H; j++)
                    {
                        switch (g.Cell)
                        {
                            case RecurrentCell.Lstm:
                            {
                                T i = s.Gates[at + j], f = s.Gates[at + H + j], gg = s.Gates[at + 2 * H + j], o = s.Gates[at + 3 * H + j];
                                var tc = T.Tanh(s.C[st + j]);
                                var dc = dcNext[j] + dh[j] * o * (T.One - tc * tc);
                                dax[j] = dc * gg * i * (T.One - i);
                                dax[H + j] = dc * Prev(s.C, j) * f * (T.One - f);
                                dax[2 * H + j] = dc * i * (T.One - gg * gg);
                                dax[3 * H + j] = dh[j] * tc * o * (T.One - o);
                                dcNext[j] = dc * f;
                                break;
                            }
                            case RecurrentCell.Gru:
                            {
                                T r = s.Gates[at + j], z = s.Gates[at + H + j], nn = s.Gates[at + 2 * H + j];
                                var dan = dh[j] * (T.One - z) * (T.One - nn * nn);
                                dax[j] = dan * s.C[st + j] * r * (T.One - r);
                                dax[H + j] = dh[j] * (Prev(s.H, j) - nn) * z * (T.One - z);
                                dax[2 * H + j] = dan;
                                direct[j] = dh[j] * z;
                                break;
                            }
                            case RecurrentCell.Relu:
                                dax[j] = s.H[st + j] > T.Zero ? dh[j] : T.Zero;
                                break;
                            default:
                                dax[j] = dh[j] * (T.One - s.H[st + j] * s.H[st + j]);
                                break;
                        }
                    }
                    dax.CopyTo(dah, 0);
                    if (g.Cell == RecurrentCell.Gru)
                    {
                        for (var j = 0; j < H; j++) dah[2 * H + j] = dax[2 * H + j] * s.Gates[at + j];
                    }
                    for (var k = 0; k < G; k++)
                    {
                        dbih[k] += dax[k];
                        dbhh[k] += dah[k];
                        for (var i = 0; i < D; i++)
                        {
                            dwih[k * D + i] += dax[k] * x[(n * g.Steps + t) * D + i];
                            dx[(n * g.Steps + t) * D + i] += dax[k] * wih[k * D + i];
                        }
                        for (var j = 0; j < H; j++) dwhh[k * H + j] += dah[k] * Prev(s.H, j);
                    }
                    for (var j = 0; j < H; j++)
                    {
                        var sum = direct[j];
                        for (var k = 0; k < G; k++) sum += dah[k] * whh[k * H + j];
                        dhNext[j] = sum;
                    }
                }
            }
        }
    }

    /// <summary>What a direction keeps of every step: h, the gate activations, and c (LSTM) or W_hn·h + b_hn (GRU).</summary>
    private sealed record States<T>(T[] H, T[] Gates, T[] C);

    private static States<T>[] Run<T>(RecurrentGeometry g, ReadOnlySpan<T> x, IReadOnlyList<T[]> weights, int[]? lengths) where T : IFloatingPointIeee754<T>
    {
        if (g.Packed != lengths is not null) throw new ArgumentException("a packed layer takes lengths, and only a packed layer", nameof(lengths));
        var (H, G, D, per) = (g.Hidden, g.GateWidth, g.Input, g.WeightsPerDirection);
        var result = new States<T>[g.Directions];
        for (var d = 0; d < g.Directions; d++)
        {
            var (wih, whh) = (weights[d * per], weights[d * per + 1]);
            var (bih, bhh) = per == 4 ? (weights[d * per + 2], weights[d * per + 3]) : (new T[G], new T[G]);
            var s = new States<T>(new T[g.Batch * g.Steps * H], new T[g.Batch * g.Steps * G], new T[g.Batch * g.Steps * H]);
            for (var n = 0; n < g.Batch; n++)
            {
                for (var step = 0; step < Length(g, lengths, n); step++)
                {
                    var t = StepAt(g, d, step, lengths, n);
                    var tp = step > 0 ? StepAt(g, d, step - 1, lengths, n) : -1;
                    T Prev(T[] a, int j) => tp < 0 ? T.Zero : a[(n * g.Steps + tp) * H + j];
                    var (at, st) = ((n * g.Steps + t) * G, (n * g.Steps + t) * H);
                    var gx = new T[G];
                    var gh = new T[G];
                    for (var k = 0; k < G; k++)
                    {
                        var (sx, sh) = (bih[k], bhh[k]);
                        for (var i = 0; i < D; i++) sx += wih[k * D + i] * x[(n * g.Steps + t) * D + i];
                        for (var j = 0; j < H; j++) sh += whh[k * H + j] * Prev(s.H, j);
                        (gx[k], gh[k]) = (sx, sh);
                    }
                    for (var j = 0; j < H; j++)
                    {
                        switch (g.Cell)
                        {
                            case RecurrentCell.Lstm:
                            {
                                var i = Sigmoid(gx[j] + gh[j]);
                                var f = Sigmoid(gx[H + j] + gh[H + j]);
                                var gg = T.Tanh(gx[2 * H + j] + gh[2 * H + j]);
                                var o = Sigmoid(gx[3 * H + j] + gh[3 * H + j]);
                                (s.Gates[at + j], s.Gates[at + H + j], s.Gates[at + 2 * H + j], s.Gates[at + 3 * H + j]) = (i, f, gg, o);
                                s.C[st + j] = f * Prev(s.C, j) + i * gg;
                                s.H[st + j] = o * T.Tanh(s.C[st + j]);
                                break;
                            }
                            case RecurrentCell.Gru:
                            {
                                var r = Sigmoid(gx[j] + gh[j]);
                                var z = Sigmoid(gx[H + j] + gh[H + j]);
                                var nn = T.Tanh(gx[2 * H + j] + r * gh[2 * H + j]);
                                (s.Gates[at + j], s.Gates[at + H + j], s.Gates[at + 2 * H + j]) = (r, z, nn);
                                s.C[st + j] = gh[2 * H + j];
                                s.H[st + j] = (T.One - z) * nn + z * Prev(s.H, j);
                                break;
                            }
                            case RecurrentCell.Relu:
                                s.H[st + j] = T.Max(gx[j] + gh[j], T.Zero);
                                break;
                            default:
                                s.H[st + j] = T.Tanh(gx[j] + gh[j]);
                                break;
                        }
                    }
                }
            }
            result[d] = s;
        }
        return result;
    }

    /// <summary>Sample n's steps: its length when packed (between 0 and T), else T.</summary>
    private static int Length(RecurrentGeometry g, int[]? lengths, int n) =>
        lengths is null ? g.Steps : lengths[n] >= 0 && lengths[n] <= g.Steps ? lengths[n]
            : throw new ArgumentException($"sample {n} has length {lengths[n]}, outside 0 to {g.Steps}", nameof(lengths));

    private static int StepAt(RecurrentGeometry g, int d, int step, int[]? lengths, int n) =>
        lengths is null ? g.StepAt(d, step) : RecurrentGeometry.PackedStep(d, step, Length(g, lengths, n));

    private static int Last(RecurrentGeometry g, int d, int[]? lengths, int n) =>
        lengths is null ? g.Last(d) : RecurrentGeometry.PackedLast(d, Length(g, lengths, n));

    private static T Sigmoid<T>(T v) where T : IFloatingPointIeee754<T> => T.One / (T.One + T.Exp(-v));
}
