namespace Dlc.Backend.Kernels;

/// <summary>The cell a recurrent layer runs at every step.</summary>
public enum RecurrentCell
{
    /// <summary>nn.RNN: h' = tanh(W_ih x + b_ih + W_hh h + b_hh).</summary>
    Tanh,

    /// <summary>nn.RNN(nonlinearity='relu').</summary>
    Relu,

    /// <summary>nn.LSTM: gates i, f, g, o; c' = f·c + i·g, h' = o·tanh c'.</summary>
    Lstm,

    /// <summary>nn.GRU: gates r, z, n; n = tanh(W_in x + b_in + r·(W_hn h + b_hn)), h' = (1 − z)·n + z·h.</summary>
    Gru,
}

/// <summary>
/// The sizes of one recurrent layer over batch-first sequences: x [N, T, D] (N = <see cref="Batch"/>,
/// T = <see cref="Steps"/>, D = <see cref="Input"/>), hidden size H, one or two directions. The result is
/// [N, T, F] of every step or [N, F] of each direction's last step, F = directions · H. A packed layer takes each
/// sample's length L ≤ T as well and runs it over its own steps, as PyTorch's packed sequences: forward over
/// t = 0 … L − 1, backward from t = L − 1 down to 0, with zeros in the result at t ≥ L.
/// </summary>
public readonly record struct RecurrentGeometry(RecurrentCell Cell, int Batch, int Steps, int Input, int Hidden, int Directions,
    bool ReturnSequences, bool Bias, bool Packed = false)
{
    /// <summary>Gate blocks stacked in the weights: 1 (rnn), 4 (lstm), 3 (gru).</summary>
    public int Gates => Cell switch { RecurrentCell.Lstm => 4, RecurrentCell.Gru => 3, _ => 1 };

    /// <summary>G·H: the rows of w_ih and w_hh.</summary>
    public int GateWidth => Gates * Hidden;

    public int Features => Directions * Hidden;

    /// <summary>w_ih, w_hh and, with a bias, b_ih and b_hh.</summary>
    public int WeightsPerDirection => Bias ? 4 : 2;

    /// <summary>The step a direction ends at: T − 1 running forward, 0 running backward.</summary>
    public int Last(int direction) => direction == 0 ? Steps - 1 : 0;

    /// <summary>The time index a direction visits <paramref name="step"/>-th (the reverse direction runs from T − 1 down).</summary>
    public int StepAt(int direction, int step) => direction == 0 ? step : Steps - 1 - step;

    /// <summary>A packed sequence of <paramref name="length"/> steps: the step a direction ends at (−1 for an empty one).</summary>
    public static int PackedLast(int direction, int length) => length == 0 ? -1 : direction == 0 ? length - 1 : 0;

    /// <summary>A packed sequence of <paramref name="length"/> steps: the time index a direction visits <paramref name="step"/>-th.</summary>
    public static int PackedStep(int direction, int step, int length) => direction == 0 ? step : length - 1 - step;

    public int OutputSize => Batch * (ReturnSequences ? Steps : 1) * Features;
}
