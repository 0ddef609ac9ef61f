using System.Runtime.CompilerServices;
using Dlc.Backend.Gemm;

namespace Dlc.Backend.Kernels;

/// <summary>One direction's weights as PyTorch stores them: w_ih [G·H, D], w_hh [G·H, H], b_ih, b_hh [G·H] (null without bias).</summary>
public readonly unsafe struct RecurrentWeights(float* inputWeight, float* hiddenWeight, float* inputBias, float* hiddenBias)
{
    public float* InputWeight { get; } = inputWeight;
    public float* HiddenWeight { get; } = hiddenWeight;
    public float* InputBias { get; } = inputBias;
    public float* HiddenBias { get; } = hiddenBias;
}

/// <summary>
/// The token indices [N, T] (whole numbers as floats) and the table [V, D] of the embedding a recurrent layer reads,
/// for a layer compiled to take its input side from them (see <see cref="RecurrentKernel.Vocabulary"/>).
/// </summary>
public readonly unsafe struct EmbeddedInput(float* indices, float* table)
{
    public float* Indices { get; } = indices;
    public float* Table { get; } = table;
}

/// <summary>
/// A recurrent layer (RNN, LSTM, GRU; batch-first, one or two directions) compiled for one geometry, with the
/// state it keeps between the forward and backward pass of a step. The samples of the batch are independent, so
/// they are split over the plan's threads, and each thread runs its samples through the whole sequence with no
/// synchronisation: first the input projection of all its steps as ONE product ([n·T, D]·w_ihᵀ), then per step
/// the recurrent product ([n, H]·w_hhᵀ, reading h of the step before straight out of the output) and the fused
/// cell. The backward pass runs the steps in reverse the same way, writing each step's gate gradients; the
/// weights' gradients are then three large products over every sample and step, on all threads.
/// </summary>
public sealed unsafe partial class RecurrentKernel
{
    private readonly RecurrentGeometry _g;
    private readonly SampleParallel _parallel;
    private readonly IGemm _perPart;
    private readonly IGemm _whole;

    // Every step's h, when the result keeps only the last; otherwise the result itself holds them.
    private readonly NativeBuffer? _sequence;

    // Per direction: the gate activations of every step [N, T, G·H]; c (LSTM) or W_hn·h + b_hn (GRU) [N, T, H];
    // the bias added in the cell [G·H].
    private readonly NativeBuffer[] _gates, _state, _bias;

    // Backward: the gate gradients of the input side [N, T, G·H] and, for GRU, of the hidden side; dy spread
    // over every step; each step's previous h, the right-hand side of w_hh's gradient. Where both sides share
    // their gate gradients (RNN, LSTM) and x is not an embedding's, each row of _previous holds x, the previous h
    // and a 1 side by side [N·T, D + H (+ 1)], so one product gives w_ih's, w_hh's and the biases' gradients
    // together [G·H, D + H (+ 1)] (the row width is _width).
    private readonly NativeBuffer[]? _dGx, _dGh;
    private readonly NativeBuffer? _dSequence, _previous;
    private readonly int _width;

    // An input that is an embedding of V tokens: per direction the table's rows through w_ih [V, G·H], which the
    // input side of each step picks by token; backward, the table's gradient [V, D].
    private readonly int _vocabulary;
    private readonly NativeBuffer[] _projected = [];
    private readonly NativeBuffer? _dTable;
    private EmbeddedInput _embedded;
    private float* _dTableTarget;

    // Per part of the batch, its samples' share of the weight gradients, summed after: the product over its rows
    // with the previous h (and x and the 1 when joint) [G·H, width]; GRU's x side [G·H, D] and bias sums [2·G·H];
    // the gate gradients summed by token [V, G·H]. Each thread multiplies its own rows, so no operand is packed twice.
    private readonly NativeBuffer[] _partH = [], _partX = [], _partBias = [], _partS = [];
    private int _weightDirection;

    // Per part of the batch: the recurrent product [n, G·H], dh and dc [n, H].
    private readonly NativeBuffer[] _product, _dh, _dc;

    // Per direction, w_hh packed once per pass for the managed GEMM's micro-kernels (w_hhᵀ forward, w_hh backward),
    // so the products of the steps do not pack it again each; null with another provider.
    private readonly ManagedGemm? _packing;
    private readonly NativeBuffer[]? _packedForward, _packedBackward;

    // Packed sequences: each sample's length, and per part the samples in order of decreasing length, so the samples
    // still running at a step are a prefix (as pack_padded_sequence sorts them); per part, h of the step before of
    // those samples, side by side [n, H], the left-hand side of the recurrent product.
    private readonly int[] _lengths, _order;
    private readonly NativeBuffer[] _hPrevious;

    // Generation: each sample's last h (and c) per direction [N, H], where the next run starts instead of at zeros.
    private readonly NativeBuffer[] _lastH, _lastC;
    private bool _carry;

    private readonly SampleParallel.RangeBody _forwardBody, _backwardBody, _weightBody;
    private float* _x, _seq, _dSeq, _dx;
    private RecurrentWeights[] _w = [];

    /// <param name="perPart">The products inside one thread's samples (single-threaded when the batch is split).</param>
    /// <param name="whole">The weight-gradient products over the whole batch.</param>
    /// <param name="allocate">Buffers, owned by the caller.</param>
    /// <param name="backward">Whether <see cref="Backward"/> will run (a training plan).</param>
    /// <param name="vocabulary">
    /// V &gt; 0: x is the embedding of V tokens, and the layer reads the tokens and table (<see cref="EmbeddedInput"/>)
    /// instead: the input side of every step is a row of table·w_ihᵀ, computed once per pass (V·D·G·H multiply-adds
    /// instead of N·T·D·G·H), and w_ih's gradient is (the gate gradients summed by token)ᵀ·table, as is the table's
    /// own gradient through w_ih. Worth it when V is well below N·T.
    /// </param>
    public RecurrentKernel(RecurrentGeometry g, SampleParallel parallel, IGemm perPart, IGemm whole, Func<int, NativeBuffer> allocate, bool backward,
        int vocabulary = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(vocabulary);
        _g = g;
        _vocabulary = vocabulary;
        _parallel = parallel;
        _perPart = perPart;
        _whole = whole;
        var (rows, steps) = (g.Batch * g.Steps, g.Batch * g.Steps);
        NativeBuffer[] PerDirection(int size) => Enumerable.Range(0, g.Directions).Select(_ => allocate(size)).ToArray();
        if (!g.ReturnSequences) _sequence = allocate(rows * g.Features);
        _gates = PerDirection(rows * g.GateWidth);
        _state = PerDirection(g.Cell is RecurrentCell.Lstm or RecurrentCell.Gru ? steps * g.Hidden : 1);
        _bias = PerDirection(g.GateWidth);
        var parts = Math.Min(parallel.Threads, Math.Max(1, g.Batch));
        var partRows = (g.Batch + parts - 1) / parts;
        _product = Enumerable.Range(0, parts).Select(_ => allocate(partRows * g.GateWidth)).ToArray();
        _dh = Enumerable.Range(0, parts).Select(_ => allocate(backward ? partRows * g.Hidden : 1)).ToArray();
        _dc = Enumerable.Range(0, parts).Select(_ => allocate(backward ? partRows * g.Hidden : 1)).ToArray();
        if (backward)
        {
            _dGx = PerDirection(rows * g.GateWidth);
            _dGh = g.Cell == RecurrentCell.Gru ? PerDirection(rows * g.GateWidth) : _dGx;
            if (!g.ReturnSequences) _dSequence = allocate(rows * g.Features);
            _width = Joint ? g.Input + g.Hidden + (g.Bias ? 1 : 0) : g.Hidden;
            _previous = allocate(rows * _width);
            if (vocabulary > 0) _dTable = allocate(vocabulary * g.Input);
            var gru = g.Cell == RecurrentCell.Gru;
            NativeBuffer[] PerPart(int size) => Enumerable.Range(0, parts).Select(_ => allocate(size)).ToArray();
            _partH = PerPart(g.GateWidth * _width);
            _partX = PerPart(gru && vocabulary == 0 ? g.GateWidth * g.Input : 1);
            _partBias = PerPart(gru ? 2 * g.GateWidth : 1);
            _partS = PerPart(vocabulary > 0 ? vocabulary * g.GateWidth : 1);
        }
        if (perPart is ManagedGemm managed)
        {
            _packing = managed;
            _packedForward = PerDirection(managed.PackedSize(g.Hidden, g.GateWidth));
            if (backward) _packedBackward = PerDirection(managed.PackedSize(g.GateWidth, g.Hidden));
        }
        _lengths = new int[g.Packed ? g.Batch : 0];
        _order = new int[g.Packed ? g.Batch : 0];
        _hPrevious = Enumerable.Range(0, parts).Select(_ => allocate(g.Packed ? partRows * g.Hidden : 1)).ToArray();
        if (vocabulary > 0) _projected = PerDirection(vocabulary * g.GateWidth);
        _lastH = PerDirection(g.Batch * g.Hidden);
        _lastC = PerDirection(g.Cell == RecurrentCell.Lstm ? g.Batch * g.Hidden : 1);
        _forwardBody = ForwardPart;
        _backwardBody = BackwardPart;
        _weightBody = WeightPart;
    }

    public RecurrentGeometry Geometry => _g;

    /// <summary>The tokens of the embedding the layer reads its input side from; 0 when it multiplies x.</summary>
    public int Vocabulary => _vocabulary;

    /// <summary>The table's gradient through w_ih from the last <see cref="Backward"/> given a target for it.</summary>
    public ReadOnlySpan<float> TableGradient => _dTable is null ? default : _dTable.Span;

    // w_ih's, w_hh's and the biases' gradients as one product: shared gate gradients and an x to multiply.
    private bool Joint => _g.Cell != RecurrentCell.Gru && _vocabulary == 0;

    /// <summary>
    /// Whether each forward run starts from the state the previous one ended in (generating a sequence step by step,
    /// without running its prefix again) rather than from zeros. Turning it on starts from zeros once.
    /// </summary>
    public bool CarryState
    {
        get => _carry;
        set
        {
            if (value && _g.Directions != 1) throw new InvalidOperationException("a bidirectional layer reads the whole sequence, so it cannot carry its state");
            if (value && _g.Packed) throw new InvalidOperationException("a packed layer starts every sequence afresh, so it cannot carry its state");
            if (value && !_carry) ResetState();
            _carry = value;
        }
    }

    /// <summary>The carried state back to zeros.</summary>
    public void ResetState()
    {
        foreach (var b in _lastH) b.Span.Clear();
        foreach (var b in _lastC) b.Span.Clear();
    }

    /// <summary>
    /// y = the layer applied to x [N, T, D]: [N, T, F], or [N, F] of each direction's last step. A packed layer
    /// also takes each sample's length [N] (whole numbers from 0 to T, as floats).
    /// </summary>
    public void Forward(float* x, RecurrentWeights[] weights, float* y, float* lengths = null, EmbeddedInput embedded = default)
    {
        var g = _g;
        _x = x;
        _w = weights;
        ReadEmbedded(embedded);
        ReadLengths(lengths);
        _seq = g.ReturnSequences ? y : _sequence!.Pointer;
        for (var d = 0; d < g.Directions; d++)
        {
            PrepareBias(d);
            if (_vocabulary > 0)
                _whole.Sgemm(false, true, _vocabulary, g.GateWidth, g.Input, 1f, embedded.Table, g.Input, weights[d].InputWeight, g.Input, 0f,
                    _projected[d].Pointer, g.GateWidth);
            _packing?.PackB(true, g.Hidden, g.GateWidth, weights[d].HiddenWeight, g.Hidden, _packedForward![d].Pointer);
        }
        _parallel.For(g.Batch, _forwardBody);
        if (g.ReturnSequences) return;
        for (var n = 0; n < g.Batch; n++)
        {
            for (var d = 0; d < g.Directions; d++)
            {
                var target = new Span<float>(y + (long)n * g.Features + d * g.Hidden, g.Hidden);
                var last = LastStep(d, n);
                if (last < 0)
                {
                    target.Clear();
                    continue;
                }
                new Span<float>(_seq + ((long)n * g.Steps + last) * g.Features + d * g.Hidden, g.Hidden).CopyTo(target);
            }
        }
    }

    private void ReadEmbedded(EmbeddedInput embedded)
    {
        if (_vocabulary == 0) return;
        if (embedded.Indices == null || embedded.Table == null)
            throw new ArgumentException("this recurrent layer was compiled to read its embedding's tokens and table", nameof(embedded));
        _embedded = embedded;
    }

    /// <summary>
    /// The input side of every step of samples n0 … n1 − 1: [rows, D]·w_ihᵀ in one product, or, reading an embedding,
    /// each token's row of table·w_ihᵀ.
    /// </summary>
    private void InputSide(int d, int n0, int n1, float* gates)
    {
        var g = _g;
        int T = g.Steps, G = g.GateWidth, D = g.Input;
        if (_vocabulary == 0)
        {
            _perPart.Sgemm(false, true, (n1 - n0) * T, G, D, 1f, _x + (long)n0 * T * D, D, _w[d].InputWeight, D, 0f, gates + (long)n0 * T * G, G);
            return;
        }
        var projected = _projected[d].Pointer;
        for (var row = (long)n0 * T; row < (long)n1 * T; row++)
        {
            var v = Shapes.Label(_embedded.Indices[row], (int)row, _vocabulary);
            new ReadOnlySpan<float>(projected + (long)v * G, G).CopyTo(new Span<float>(gates + row * G, G));
        }
    }

    /// <summary>The step direction d of sample n ends at; −1 for an empty packed sequence.</summary>
    private int LastStep(int d, int n) => _g.Packed ? RecurrentGeometry.PackedLast(d, _lengths[n]) : _g.Last(d);

    private void ReadLengths(float* lengths)
    {
        if (!_g.Packed) return;
        if (lengths == null) throw new ArgumentException("a packed recurrent layer needs the lengths of its sequences", nameof(lengths));
        for (var n = 0; n < _g.Batch; n++)
        {
            var length = lengths[n];
            if (!(length >= 0 && length <= _g.Steps) || length != MathF.Floor(length))
                throw new ArgumentException($"sample {n} has length {length}; the lengths of a packed layer are whole numbers from 0 to {_g.Steps}", nameof(lengths));
            _lengths[n] = (int)length;
        }
    }

    /// <summary>
    /// After <see cref="Forward"/> on the same x and weights: dx (when not null; overwritten) and every weight's
    /// gradient (overwritten) from dy, the gradient of the result.
    /// </summary>
    /// <param name="dTable">
    /// A layer reading an embedding (<see cref="Vocabulary"/>): whether to compute the table's gradient through w_ih
    /// (<see cref="TableGradient"/>), which then stands in for dx.
    /// </param>
    public void Backward(float* x, RecurrentWeights[] weights, float* dy, float* dx, RecurrentWeights[] gradients, float* lengths = null,
        EmbeddedInput embedded = default, bool dTable = false)
    {
        var g = _g;
        if (_dGx is null) throw new InvalidOperationException("this recurrent kernel was compiled for inference only");
        if (dTable && _vocabulary == 0) throw new InvalidOperationException("this recurrent layer does not read an embedding");
        ReadEmbedded(embedded);
        _dTableTarget = dTable ? _dTable!.Pointer : null;
        ReadLengths(lengths);
        _x = x;
        _w = weights;
        _dx = dx;
        if (g.ReturnSequences)
        {
            _dSeq = dy;
        }
        else
        {
            // Only each direction's last step receives a gradient from outside.
            _dSeq = _dSequence!.Pointer;
            _dSequence.Span.Clear();
            for (var n = 0; n < g.Batch; n++)
            {
                for (var d = 0; d < g.Directions; d++)
                {
                    var last = LastStep(d, n);
                    if (last < 0) continue;
                    new Span<float>(dy + (long)n * g.Features + d * g.Hidden, g.Hidden)
                        .CopyTo(new Span<float>(_dSeq + ((long)n * g.Steps + last) * g.Features + d * g.Hidden, g.Hidden));
                }
            }
        }
        for (var d = 0; d < g.Directions; d++)
            _packing?.PackB(false, g.GateWidth, g.Hidden, weights[d].HiddenWeight, g.Hidden, _packedBackward![d].Pointer);
        _parallel.For(g.Batch, _backwardBody);
        for (var d = 0; d < g.Directions; d++)
        {
            _weightDirection = d;
            _parallel.For(g.Batch, _weightBody);
            WeightGradients(d, gradients[d]);
        }
    }

    private void PrepareBias(int d)
    {
        var (g, w) = (_g, _w[d]);
        var bias = _bias[d].Span;
        bias.Clear();
        if (w.InputBias == null) return;
        var bih = new ReadOnlySpan<float>(w.InputBias, g.GateWidth);
        var bhh = new ReadOnlySpan<float>(w.HiddenBias, g.GateWidth);
        // GRU's hidden bias of n sits inside r·(W_hn h + b_hn), so the cell adds it there, not here.
        var both = g.Cell == RecurrentCell.Gru ? 2 * g.Hidden : g.GateWidth;
        System.Numerics.Tensors.TensorPrimitives.Add(bih[..both], bhh[..both], bias[..both]);
        bih[both..].CopyTo(bias[both..]);
    }

    /// <summary>The hidden side of one step's gates for <paramref name="rows"/> samples: h of the step before · w_hhᵀ.</summary>
    private void HiddenProduct(int d, int rows, float* previous, int ldPrevious, float* product)
    {
        int G = _g.GateWidth, H = _g.Hidden;
        if (_packing is not null) _packing.SgemmPacked(rows, G, H, 1f, previous, ldPrevious, _packedForward![d].Pointer, 0f, product, G);
        else _perPart.Sgemm(false, true, rows, G, H, 1f, previous, ldPrevious, _w[d].HiddenWeight, H, 0f, product, G);
    }

    /// <summary>dh of the step before for <paramref name="rows"/> samples: their hidden gates' gradients · w_hh, added to β·dh.</summary>
    private void HiddenGradient(int d, int rows, float* dGates, int ldGates, float beta, float* dh)
    {
        int G = _g.GateWidth, H = _g.Hidden;
        if (_packing is not null) _packing.SgemmPacked(rows, H, G, 1f, dGates, ldGates, _packedBackward![d].Pointer, beta, dh, H);
        else _perPart.Sgemm(false, false, rows, H, G, 1f, dGates, ldGates, _w[d].HiddenWeight, H, beta, dh, H);
    }

    /// <summary>One sample's step of the cell: gates a (input side) and r (hidden side, null at the first step) to c and h.</summary>
    private static void CellForward(RecurrentCell cell, float* a, float* r, float* bias, float* hiddenBiasN, float* c, float* cPrevious,
        float* h, float* hPrevious, int H)
    {
        switch (cell)
        {
            case RecurrentCell.Lstm:
                RecurrentCells.LstmForward(a, r, bias, c, cPrevious, h, H);
                break;
            case RecurrentCell.Gru:
                RecurrentCells.GruForward(a, r, bias, hiddenBiasN, c, h, hPrevious, H);
                break;
            default:
                RecurrentCells.SimpleForward(a, r, bias, h, H, cell == RecurrentCell.Relu);
                break;
        }
    }

    /// <summary>One sample's step of the cell backward: dh (and the LSTM's dc) to the gates' gradients.</summary>
    private static void CellBackward(RecurrentCell cell, float* gates, float* c, float* cPrevious, float* hPrevious, float* dh, float* dc,
        float* dGx, float* dGh, int H)
    {
        switch (cell)
        {
            case RecurrentCell.Lstm:
                RecurrentCells.LstmBackward(gates, c, cPrevious, dh, dc, dGx, H);
                break;
            case RecurrentCell.Gru:
                RecurrentCells.GruBackward(gates, c, hPrevious, dh, dGx, dGh, H);
                break;
            default:
                RecurrentCells.SimpleBackward(gates, dh, dGx, H, cell == RecurrentCell.Relu);
                break;
        }
    }

    private void ForwardPart(int part, int n0, int n1)
    {
        if (_g.Packed) SortPart(n0, n1);
        for (var d = 0; d < _g.Directions; d++)
        {
            if (_g.Packed) ForwardPacked(part, d, n0, n1);
            else ForwardDirection(part, d, n0, n1);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ForwardDirection(int part, int d, int n0, int n1)
    {
        var g = _g;
        int T = g.Steps, H = g.Hidden, G = g.GateWidth, F = g.Features, D = g.Input, nb = n1 - n0;
        var w = _w[d];
        float* gates = _gates[d].Pointer, state = _state[d].Pointer, bias = _bias[d].Pointer, product = _product[part].Pointer;
        float* hiddenBiasN = w.HiddenBias != null ? w.HiddenBias + 2 * H : null;
        float* lastH = _lastH[d].Pointer, lastC = _lastC[d].Pointer;
        var carry = _carry;
        InputSide(d, n0, n1, gates);
        for (var s = 0; s < T; s++)
        {
            var t = g.StepAt(d, s);
            var tp = s > 0 ? g.StepAt(d, s - 1) : -1;
            // The hidden side: h of the previous step of each sample, read in place (rows T·F apart).
            // A carried state stands in for the step before the first.
            var previous = s > 0 ? _seq + ((long)n0 * T + tp) * F + d * H : lastH + (long)n0 * H;
            var ldPrevious = s > 0 ? T * F : H;
            var recurrent = s > 0 || carry;
            if (recurrent) HiddenProduct(d, nb, previous, ldPrevious, product);
            for (var n = n0; n < n1; n++)
            {
                var row = (long)n * T + t;
                var a = gates + row * G;
                var r = recurrent ? product + (long)(n - n0) * G : null;
                var h = _seq + row * F + d * H;
                var hPrev = s > 0 ? _seq + ((long)n * T + tp) * F + d * H : carry ? lastH + (long)n * H : null;
                var cPrev = s > 0 ? state + ((long)n * T + tp) * H : carry ? lastC + (long)n * H : null;
                CellForward(g.Cell, a, r, bias, hiddenBiasN, state + row * H, cPrev, h, hPrev, H);
            }
        }
        if (!carry) return;
        for (var n = n0; n < n1; n++)
        {
            var row = (long)n * T + g.StepAt(d, T - 1);
            new Span<float>(_seq + row * F + d * H, H).CopyTo(new Span<float>(lastH + (long)n * H, H));
            if (g.Cell == RecurrentCell.Lstm) new Span<float>(state + row * H, H).CopyTo(new Span<float>(lastC + (long)n * H, H));
        }
    }

    private void BackwardPart(int part, int n0, int n1)
    {
        if (_g.Packed) SortPart(n0, n1);
        for (var d = 0; d < _g.Directions; d++)
        {
            if (_g.Packed) BackwardPacked(part, d, n0, n1);
            else BackwardDirection(part, d, n0, n1);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void BackwardDirection(int part, int d, int n0, int n1)
    {
        var g = _g;
        int T = g.Steps, H = g.Hidden, G = g.GateWidth, F = g.Features, D = g.Input, nb = n1 - n0;
        var w = _w[d];
        float* gates = _gates[d].Pointer, state = _state[d].Pointer, dGx = _dGx![d].Pointer, dGh = _dGh![d].Pointer;
        float* dh = _dh[part].Pointer, dc = _dc[part].Pointer;
        new Span<float>(dh, nb * H).Clear();
        new Span<float>(dc, nb * H).Clear();
        for (var s = T - 1; s >= 0; s--)
        {
            var t = g.StepAt(d, s);
            var tp = s > 0 ? g.StepAt(d, s - 1) : -1;
            for (var n = n0; n < n1; n++)
            {
                var row = (long)n * T + t;
                var dhRow = dh + (long)(n - n0) * H;
                System.Numerics.Tensors.TensorPrimitives.Add(new ReadOnlySpan<float>(dhRow, H),
                    new ReadOnlySpan<float>(_dSeq + row * F + d * H, H), new Span<float>(dhRow, H));
                CellBackward(g.Cell, gates + row * G, state + row * H, s > 0 ? state + ((long)n * T + tp) * H : null,
                    s > 0 ? _seq + ((long)n * T + tp) * F + d * H : null, dhRow, dc + (long)(n - n0) * H, dGx + row * G, dGh + row * G, H);
            }
            // dh of the previous step = its gates' gradients through w_hh (GRU adds onto dh·z, left by its cell).
            var beta = g.Cell == RecurrentCell.Gru ? 1f : 0f;
            if (s > 0) HiddenGradient(d, nb, dGh + ((long)n0 * T + t) * G, T * G, beta, dh);
        }
        if (_dx != null)
            _perPart.Sgemm(false, false, nb * T, D, G, 1f, dGx + (long)n0 * T * G, G, w.InputWeight, D, d == 0 ? 0f : 1f, _dx + (long)n0 * T * D, D);
    }
}
