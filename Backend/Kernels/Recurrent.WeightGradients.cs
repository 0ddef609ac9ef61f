namespace Dlc.Backend.Kernels;

/// <summary>The weights' gradients after back-propagation through time: each part's share, then their sum.</summary>
public sealed unsafe partial class RecurrentKernel
{
    /// <summary>
    /// One part's share of direction <see cref="_weightDirection"/>'s weight gradients, over its samples' rows:
    /// dGhᵀ·(each step's previous h); where dGx and dGh are one (RNN, LSTM) and x is multiplied, dGᵀ·[x, previous h, 1]
    /// in one product, w_ih's, w_hh's and the biases' together; GRU's dGxᵀ·x and column sums apart; reading an
    /// embedding, dGx summed by token.
    /// </summary>
    private void WeightPart(int part, int n0, int n1)
    {
        var g = _g;
        var d = _weightDirection;
        int T = g.Steps, H = g.Hidden, G = g.GateWidth, F = g.Features, D = g.Input, width = _width;
        float* dGx = _dGx![d].Pointer, dGh = _dGh![d].Pointer, previous = _previous!.Pointer;
        // Where the previous h goes in each row of the right-hand side.
        var hAt = Joint ? D : 0;
        for (var n = n0; n < n1; n++)
        {
            // A packed sequence's padding rows have no gate gradients, so what stands there does not matter: zeros.
            var length = g.Packed ? _lengths[n] : T;
            for (var t = length; t < T; t++) new Span<float>(previous + ((long)n * T + t) * width + hAt, H).Clear();
            for (var s = 0; s < length; s++)
            {
                var t = g.Packed ? RecurrentGeometry.PackedStep(d, s, length) : g.StepAt(d, s);
                var target = new Span<float>(previous + ((long)n * T + t) * width + hAt, H);
                if (s == 0) target.Clear();
                else
                {
                    var tp = g.Packed ? RecurrentGeometry.PackedStep(d, s - 1, length) : g.StepAt(d, s - 1);
                    new ReadOnlySpan<float>(_seq + ((long)n * T + tp) * F + d * H, H).CopyTo(target);
                }
            }
        }
        long r0 = (long)n0 * T, r1 = (long)n1 * T;
        var rows = (int)(r1 - r0);
        if (Joint)
        {
            for (var r = r0; r < r1; r++)
            {
                new ReadOnlySpan<float>(_x + r * D, D).CopyTo(new Span<float>(previous + r * width, D));
                if (g.Bias) previous[r * width + D + H] = 1f;
            }
            _perPart.Sgemm(true, false, G, width, rows, 1f, dGx + r0 * G, G, previous + r0 * width, width, 0f, _partH[part].Pointer, width);
            return;
        }
        _perPart.Sgemm(true, false, G, H, rows, 1f, dGh + r0 * G, G, previous + r0 * width, width, 0f, _partH[part].Pointer, H);
        var bias = _partBias[part].Span;
        if (_vocabulary > 0)
        {
            var byToken = _partS[part].Span;
            byToken.Clear();
            for (var r = r0; r < r1; r++)
            {
                var sum = byToken.Slice(Shapes.Label(_embedded.Indices[r], (int)r, _vocabulary) * G, G);
                System.Numerics.Tensors.TensorPrimitives.Add(sum, new ReadOnlySpan<float>(dGx + r * G, G), sum);
            }
            if (g.Bias && dGh != dGx) Linear.BiasBackward(new ReadOnlySpan<float>(dGh + r0 * G, rows * G), bias[G..], rows, G);
            return;
        }
        _perPart.Sgemm(true, false, G, D, rows, 1f, dGx + r0 * G, G, _x + r0 * D, D, 0f, _partX[part].Pointer, D);
        if (!g.Bias) return;
        Linear.BiasBackward(new ReadOnlySpan<float>(dGx + r0 * G, rows * G), bias[..G], rows, G);
        Linear.BiasBackward(new ReadOnlySpan<float>(dGh + r0 * G, rows * G), bias[G..], rows, G);
    }

    /// <summary>
    /// Direction d's weight gradients from the parts' shares (<see cref="WeightPart"/>), summed. Reading an embedding,
    /// with S the gate gradients summed by token: dw_ih = Sᵀ·table, the biases' the column sums of S, and the table's
    /// gradient Σ over directions of S·w_ih.
    /// </summary>
    private void WeightGradients(int d, RecurrentWeights dw)
    {
        var g = _g;
        int H = g.Hidden, G = g.GateWidth, D = g.Input, width = _width, parts = Math.Min(_parallel.Threads, g.Batch);
        if (parts == 0) return;
        // Part 0's buffers receive the sum.
        static void Sum(NativeBuffer[] shares, int parts)
        {
            for (var p = 1; p < parts; p++) System.Numerics.Tensors.TensorPrimitives.Add(shares[0].Span, shares[p].Span, shares[0].Span);
        }
        Sum(_partH, parts);
        var product = _partH[0].Pointer;
        if (Joint)
        {
            for (long i = 0; i < G; i++)
            {
                var row = product + i * width;
                new ReadOnlySpan<float>(row, D).CopyTo(new Span<float>(dw.InputWeight + i * D, D));
                new ReadOnlySpan<float>(row + D, H).CopyTo(new Span<float>(dw.HiddenWeight + i * H, H));
                if (!g.Bias) continue;
                // b_ih and b_hh enter each gate as one sum, so both receive its whole gradient.
                dw.InputBias[i] = row[D + H];
                dw.HiddenBias[i] = row[D + H];
            }
            return;
        }
        new ReadOnlySpan<float>(product, G * H).CopyTo(new Span<float>(dw.HiddenWeight, G * H));
        if (g.Bias && g.Cell == RecurrentCell.Gru) Sum(_partBias, parts);
        var bias = _partBias[0].Span;
        if (_vocabulary > 0)
        {
            Sum(_partS, parts);
            var s = _partS[0].Pointer;
            _whole.Sgemm(true, false, G, D, _vocabulary, 1f, s, G, _embedded.Table, D, 0f, dw.InputWeight, D);
            if (_dTableTarget != null)
                _whole.Sgemm(false, false, _vocabulary, D, G, 1f, s, G, _w[d].InputWeight, D, d == 0 ? 0f : 1f, _dTableTarget, D);
            if (dw.InputBias == null) return;
            Linear.BiasBackward(_partS[0].Span, new Span<float>(dw.InputBias, G), _vocabulary, G);
            if (g.Cell == RecurrentCell.Gru) bias[G..].CopyTo(new Span<float>(dw.HiddenBias, G));
            else new ReadOnlySpan<float>(dw.InputBias, G).CopyTo(new Span<float>(dw.HiddenBias, G));
            return;
        }
        Sum(_partX, parts);
        _partX[0].Span[..(G * D)].CopyTo(new Span<float>(dw.InputWeight, G * D));
        if (dw.InputBias == null) return;
        bias[..G].CopyTo(new Span<float>(dw.InputBias, G));
        bias[G..].CopyTo(new Span<float>(dw.HiddenBias, G));
    }
}
