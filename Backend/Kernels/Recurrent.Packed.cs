using System.Runtime.CompilerServices;

namespace Dlc.Backend.Kernels;

/// <summary>
/// The packed layer: each sample runs over its own length, the samples of a part ordered by decreasing length so
/// that those still running at a step are a prefix (as pack_padded_sequence sorts them).
/// </summary>
public sealed unsafe partial class RecurrentKernel
{
    /// <summary>Samples n0 … n1 − 1 into _order[n0 .. n1) by decreasing length (ties keep their order).</summary>
    private void SortPart(int n0, int n1)
    {
        for (var i = n0; i < n1; i++)
        {
            var n = i;
            var j = i;
            for (; j > n0 && _lengths[_order[j - 1]] < _lengths[n]; j--) _order[j] = _order[j - 1];
            _order[j] = n;
        }
    }

    /// <summary>
    /// One direction over samples n0 … n1 − 1 of a packed layer: each sample runs over its own length, the reverse
    /// direction from its last real step. At step s the samples longer than s are a prefix of the part's order, so
    /// the recurrent product covers just them, reading h of the step before from a buffer of their rows side by side.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ForwardPacked(int part, int d, int n0, int n1)
    {
        var g = _g;
        int T = g.Steps, H = g.Hidden, G = g.GateWidth, F = g.Features, D = g.Input, nb = n1 - n0;
        var w = _w[d];
        float* gates = _gates[d].Pointer, state = _state[d].Pointer, bias = _bias[d].Pointer, product = _product[part].Pointer;
        float* hiddenBiasN = w.HiddenBias != null ? w.HiddenBias + 2 * H : null;
        float* hPrevious = _hPrevious[part].Pointer;
        if (nb == 0) return;
        InputSide(d, n0, n1, gates);
        var active = nb;
        for (var s = 0; s < _lengths[_order[n0]]; s++)
        {
            while (_lengths[_order[n0 + active - 1]] <= s) active--;
            if (s > 0) HiddenProduct(d, active, hPrevious, H, product);
            for (var p = 0; p < active; p++)
            {
                var n = _order[n0 + p];
                var length = _lengths[n];
                var t = RecurrentGeometry.PackedStep(d, s, length);
                var row = (long)n * T + t;
                var a = gates + row * G;
                var r = s > 0 ? product + (long)p * G : null;
                var h = _seq + row * F + d * H;
                var hPrev = s > 0 ? hPrevious + (long)p * H : null;
                var cPrev = s > 0 ? state + ((long)n * T + RecurrentGeometry.PackedStep(d, s - 1, length)) * H : null;
                CellForward(g.Cell, a, r, bias, hiddenBiasN, state + row * H, cPrev, h, hPrev, H);
                new ReadOnlySpan<float>(h, H).CopyTo(new Span<float>(hPrevious + (long)p * H, H));
            }
        }
        // The result is zero past each sequence's end, as pad_packed_sequence pads it.
        for (var n = n0; n < n1; n++)
        {
            for (var t = _lengths[n]; t < T; t++) new Span<float>(_seq + ((long)n * T + t) * F + d * H, H).Clear();
        }
    }

    /// <summary>
    /// Back-propagation through time for samples n0 … n1 − 1 of a packed layer, each over its own steps. dh and dc
    /// are kept per position of the part's order; the gate gradients of the padding rows are zero, so the weight
    /// gradients, summed over every row, and dx see nothing of the padding.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void BackwardPacked(int part, int d, int n0, int n1)
    {
        var g = _g;
        int T = g.Steps, H = g.Hidden, G = g.GateWidth, F = g.Features, D = g.Input, nb = n1 - n0;
        var w = _w[d];
        float* gates = _gates[d].Pointer, state = _state[d].Pointer, dGx = _dGx![d].Pointer, dGh = _dGh![d].Pointer;
        float* dh = _dh[part].Pointer, dc = _dc[part].Pointer, rows = _product[part].Pointer;
        if (nb == 0) return;
        new Span<float>(dh, nb * H).Clear();
        new Span<float>(dc, nb * H).Clear();
        new Span<float>(dGx + (long)n0 * T * G, nb * T * G).Clear();
        if (dGh != dGx) new Span<float>(dGh + (long)n0 * T * G, nb * T * G).Clear();
        for (var s = _lengths[_order[n0]] - 1; s >= 0; s--)
        {
            var active = 0;
            while (active < nb && _lengths[_order[n0 + active]] > s) active++;
            for (var p = 0; p < active; p++)
            {
                var n = _order[n0 + p];
                var length = _lengths[n];
                var t = RecurrentGeometry.PackedStep(d, s, length);
                var tp = s > 0 ? RecurrentGeometry.PackedStep(d, s - 1, length) : -1;
                var row = (long)n * T + t;
                var dhRow = dh + (long)p * H;
                System.Numerics.Tensors.TensorPrimitives.Add(new ReadOnlySpan<float>(dhRow, H),
                    new ReadOnlySpan<float>(_dSeq + row * F + d * H, H), new Span<float>(dhRow, H));
                CellBackward(g.Cell, gates + row * G, state + row * H, s > 0 ? state + ((long)n * T + tp) * H : null,
                    s > 0 ? _seq + ((long)n * T + tp) * F + d * H : null, dhRow, dc + (long)p * H, dGx + row * G, dGh + row * G, H);
                if (s > 0) new ReadOnlySpan<float>(dGh + row * G, G).CopyTo(new Span<float>(rows + (long)p * G, G));
            }
            if (s == 0) continue;
            // dh of the step before, for the samples still running: their gate gradients through w_hh (GRU adds onto dh·z).
            var beta = g.Cell == RecurrentCell.Gru ? 1f : 0f;
            HiddenGradient(d, active, rows, G, beta, dh);
        }
        if (_dx != null)
            _perPart.Sgemm(false, false, nb * T, D, G, 1f, dGx + (long)n0 * T * G, G, w.InputWeight, D, d == 0 ? 0f : 1f, _dx + (long)n0 * T * D, D);
    }
}
