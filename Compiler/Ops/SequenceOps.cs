using Dlc.Compiler.Ir;

namespace Dlc.Compiler.Ops;

/// <summary>
/// Embeddings and recurrent layers over batch-first sequences [N, T, features], with PyTorch's weight
/// layouts: one recurrent op is one layer, its inputs x, then per direction weight_ih [G·H, in],
/// weight_hh [G·H, H] and optionally bias_ih, bias_hh [G·H], where G is 1 (rnn), 4 (lstm) or 3 (gru); a packed
/// layer takes each sample's length [N] last.
/// </summary>
internal static class SequenceOps
{
    public static IEnumerable<OpInfo> All =>
    [
        new(Op.Embedding, "embedding", 2, EmbeddingShape, "y[..., D] = w[index] for each integer index (indices, w [V, D])")
        {
            Cost = (node, s, batch) => Count.Zero,
            NonDifferentiableInputs = [0],
            Backward = (c, node, dy) =>
            {
                var (indices, w) = (node.Inputs[0], node.Inputs[1]);
                if (c.NeedsGradient(w)) c.Accumulate(w, c.Emit(Op.EmbeddingGrad, indices, w, dy));
            },
        },
        new(Op.EmbeddingGrad, "embedding_grad", 3, (s, a, d) => s[1],
            "dw[V, D] = Σ of the rows of dy whose index is V: a scatter-add (indices, w for its shape, dy)"),
        Recurrent(Op.Rnn, "rnn", 1, "h' = tanh(W_ih x + b_ih + W_hh h + b_hh)"),
        Recurrent(Op.Lstm, "lstm", 4, "gates i, f, g, o from W_ih x + W_hh h; c' = f·c + i·g; h' = o·tanh c'"),
        Recurrent(Op.Gru, "gru", 3, "gates r, z, n from W_ih x + W_hh h; h' = (1 − z)·n + z·h"),
        new(Op.RecurrentGrad, "recurrent_grad", -1, (s, a, d) => s[2],
            "dx of a recurrent layer by back-propagation through time; the same pass computes every weight's gradient (y, dy, then the layer's inputs)")
        {
            Cost = (node, s, batch) => RecurrentCost(node, s[2..], batch, s[3][0].Size / s[4][1].Size) * 2,
        },
        new(Op.RecurrentWeightGrad, "recurrent_weight_grad", 2, (s, a, d) => s[1],
            "the gradient of the recurrent layer's input number axis, computed by recurrent_grad (its gradient op, the weight for its shape)")
        {
            Cost = (node, s, batch) => Count.Zero,
        },
        new(Op.PositionalEncoding, "positional_encoding", 1, OpTable.SameAsFirst, "y = x + the sinusoidal encoding of each position (Vaswani et al.)")
        {
            // The encoding is a constant added to x: the gradient passes through.
            Backward = (c, node, dy) =>
            {
                if (c.NeedsGradient(node.Inputs[0])) c.Accumulate(node.Inputs[0], dy);
            },
        },
        new(Op.SequenceLengths, "sequence_lengths", 1, LengthsShape,
            "y[N] = 1 + the last position of each row of indices [N, T] that is not 0 (padding), or 0 for a row of padding only")
        {
            Cost = (node, s, batch) => Count.Elements(s[0], batch),
        },
        new(Op.SequenceMean, "sequence_mean", -1, SequenceMeanShape,
            "y[N, D] = the mean of x [N, T, D] over the time axis; when packed, over each sample's first lengths[n] steps (0 for a length of 0)")
        {
            Cost = (node, s, batch) => Count.Elements(s[0], batch),
            // The lengths come from the indices and take no gradient.
            NonDifferentiableInputs = [1],
            Backward = (c, node, dy) =>
            {
                if (c.NeedsGradient(node.Inputs[0])) c.Accumulate(node.Inputs[0], c.Emit(Op.SequenceMeanGrad, node.Attributes, [dy, .. node.Inputs]));
            },
        },
        new(Op.SequenceMeanGrad, "sequence_mean_grad", -1, (s, a, d) => s[1],
            "dx [N, T, D] = dy[n] / length at each of a sample's steps, 0 past its length (dy, x for its shape, and the lengths when packed)")
        {
            Cost = (node, s, batch) => Count.Elements(s[1], batch),
        },
    ];

    private static Shape SequenceMeanShape(Shape[] s, OpAttributes a, Shape? declared)
    {
        var x = s[0];
        if (x.Rank != 3) throw new ShapeException($"a mean over time takes Tensor[N, T, features], got {x}");
        if (s.Length != (a.Packed ? 2 : 1)) throw new ShapeException($"a mean over time takes x{(a.Packed ? " and the lengths" : "")}, got {s.Length} inputs");
        if (a.Packed && s[1] != new Shape(x[0])) throw new ShapeException($"a packed mean over time takes the lengths [{x[0]}] second, got {s[1]}");
        return new Shape(x[0], x[2]);
    }

    private static Shape LengthsShape(Shape[] s, OpAttributes a, Shape? declared) =>
        s[0].Rank == 2 ? new Shape(s[0][0]) : throw new ShapeException($"sequence lengths are read from indices [N, T], got {s[0]}");

    /// <summary>How many gate blocks a cell's weights stack: 1 for rnn, 4 for lstm, 3 for gru.</summary>
    public static int Gates(Op op) => op switch { Op.Lstm => 4, Op.Gru => 3, _ => 1 };

    private static OpInfo Recurrent(Op op, string name, int gates, string summary) =>
        new(op, name, -1, (s, a, d) => RecurrentShape(s, a, gates, name), summary + " (x, then per direction w_ih, w_hh [, b_ih, b_hh])")
        {
            Cost = (node, s, batch) => RecurrentCost(node, s, batch, gates),
            Backward = RecurrentBackward,
        };

    // One gradient op runs the whole backward pass of the layer (the time steps depend on each other, and the
    // weights' gradients come from the gate gradients it finds); each weight's gradient is a view of its result.
    private static void RecurrentBackward(BackwardContext c, Node node, int dy)
    {
        var grad = c.Emit(Op.RecurrentGrad, node.Attributes, [node.Id, dy, .. node.Inputs]);
        if (c.NeedsGradient(node.Inputs[0])) c.Accumulate(node.Inputs[0], grad);
        // A packed layer's lengths come from the indices and take no gradient.
        var weights = node.Inputs.Count - (node.Attributes.Packed ? 1 : 0);
        for (var k = 1; k < weights; k++)
        {
            if (c.NeedsGradient(node.Inputs[k]))
                c.Accumulate(node.Inputs[k], c.Emit(Op.RecurrentWeightGrad, new OpAttributes { Axis = k }, grad, node.Inputs[k]));
        }
    }

    private static Shape EmbeddingShape(Shape[] s, OpAttributes a, Shape? declared)
    {
        if (s[1].Rank != 2) throw new ShapeException($"an embedding table is [vocabulary, dim], got {s[1]}");
        return new Shape(s[0].Dims.Append(s[1][1]));
    }

    private static Shape RecurrentShape(Shape[] s, OpAttributes a, int gates, string name)
    {
        var x = s[0];
        if (x.Rank != 3) throw new ShapeException($"{name} takes Tensor[N, T, features], got {x}");
        if (a.Packed && s[^1] != new Shape(x[0])) throw new ShapeException($"a packed {name} takes the lengths [{x[0]}] last, got {s[^1]}");
        var directions = a.Bidirectional ? 2 : 1;
        var weights = s.Length - 1 - (a.Packed ? 1 : 0);
        var perDirection = weights / directions;
        if (weights % directions != 0 || perDirection is not (2 or 4))
            throw new ShapeException($"{name} takes 2 or 4 weights per direction, got {weights} inputs after x");
        var hidden = s[2].Rank == 2 ? s[2][1] : throw new ShapeException($"{name} weight_hh must be a matrix, got {s[2]}");
        var rows = Dim.Of(gates * hidden.Size);
        for (var d = 0; d < directions; d++)
        {
            var at = 1 + d * perDirection;
            if (s[at] != new Shape(rows, x[2])) throw new ShapeException($"{name} weight_ih {s[at]} does not fit [{rows}, {x[2]}]");
            if (s[at + 1] != new Shape(rows, hidden)) throw new ShapeException($"{name} weight_hh {s[at + 1]} does not fit [{rows}, {hidden}]");
            if (perDirection == 4 && (s[at + 2] != new Shape(rows) || s[at + 3] != new Shape(rows)))
                throw new ShapeException($"{name} biases {s[at + 2]}, {s[at + 3]} do not fit [{rows}]");
        }
        var features = Dim.Of(directions * hidden.Size);
        return a.ReturnSequences ? new Shape(x[0], x[1], features) : new Shape(x[0], features);
    }

    // Per step and direction: the two products of the stacked gates, plus about four operations per
    // gate element for the biases, the nonlinearities and the state update.
    private static Count RecurrentCost(Node node, Shape[] s, string? batch, int gates)
    {
        var (input, hidden) = (s[0][2].Size, s[2][1].Size);
        var directions = node.Attributes.Bidirectional ? 2 : 1;
        var perStep = 2L * gates * hidden * (input + hidden) + 4L * gates * hidden;
        return Count.Elements(new Shape(s[0][1]), batch) * (perStep * directions);
    }
}
