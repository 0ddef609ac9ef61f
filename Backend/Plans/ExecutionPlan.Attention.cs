using Dlc.Backend.Gemm;
using Dlc.Backend.Kernels;
using Dlc.Compiler.Ir;

namespace Dlc.Backend.Plans;

public sealed partial class ExecutionPlan
{
    // Each attention op's kernel, by its forward node: the gradient op reads the probabilities the forward step kept.
    private readonly Dictionary<int, AttentionKernel> _attention = [];

    // Each cross-attention op's kernel, by its forward node: the gradient ops read the probabilities it kept.
    private readonly Dictionary<int, CrossAttentionKernel> _crossAttention = [];

    // Each positional encoding's table, by node; generation may need a longer one than the plan's T.
    private readonly Dictionary<int, PositionalEncoding> _encodings = [];

    // While generating: where the sequence has got to, and how many positions each run adds (the plan's T).
    private SequenceCursor? _position;
    private int _positionsPerRun;

    /// <summary>Whether the model can only look back so far when generating: it has attention or positional encodings.</summary>
    public bool LimitsContext => _attention.Count > 0 || _encodings.Count > 0;

    /// <summary>The position the next run starts at while generating (see <see cref="StartSequence"/>), else null.</summary>
    public int? SequencePosition => _position?.Next;

    /// <summary>
    /// Continue one sequence from run to run, from position 0: recurrent layers start where the last run ended,
    /// attention layers keep every position's keys and values (up to <paramref name="context"/> positions) and
    /// positional encodings count on, so each run adds its T positions to the sequence without reading the earlier
    /// ones again. Calling it again starts a new sequence.
    /// </summary>
    public void StartSequence(int context)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(context, 1);
        // A run of one position would see one position of the memory, not the whole sequence it encodes.
        if (_crossAttention.Count > 0)
            throw new InvalidOperationException("cross-attention reads the whole memory, so a model with it cannot generate one step at a time");
        _position = new SequenceCursor(context);
        foreach (var kernel in _attention.Values) kernel.UseCache(_position);
        foreach (var (id, table) in _encodings.Where(e => e.Value.Positions < context).ToList())
            _encodings[id] = new PositionalEncoding(context, table.Features);
        foreach (var kernel in _recurrent.Values) kernel.CarryState = false;
        foreach (var kernel in _recurrent.Values) kernel.CarryState = true;
    }

    /// <summary>Back to whole sequences: each run reads its input from position 0 with no state from the last one.</summary>
    public void EndSequence()
    {
        _position = null;
        foreach (var kernel in _attention.Values) kernel.UseCache(null);
        foreach (var kernel in _recurrent.Values) kernel.CarryState = false;
    }

    /// <summary>Attention and its gradient, and positional encodings.</summary>
    private unsafe Action AttentionStep(Node node, IGemm provider)
    {
        var y = _buffers[node.Id];
        BufferRef In(int i) => _buffers[node.Inputs[i]];
        switch (node.Op)
        {
            case Op.Attention:
            {
                var g = AttentionGeometry.Of(_shapes[node.Inputs[0]], node.Attributes.Heads, node.Attributes.Causal);
                var backward = _graph.Nodes.Any(n => n.Op == Op.AttentionGrad && n.Inputs[0] == node.Id);
                // The pairs are split over the threads, each running single-threaded products.
                var perPart = _samples.Threads > 1 ? SingleThreaded : provider.Choose(false, true, g.Steps, g.Steps, g.HeadSize);
                var kernel = new AttentionKernel(g, _samples, perPart, length => Allocate(length).Buffer, backward);
                _attention[node.Id] = kernel;
                _positionsPerRun = g.Steps;
                var x = In(0);
                if (node.Attributes.Packed)
                {
                    var lengths = In(1);
                    return () => kernel.Forward(x.Pointer, y.Pointer, lengths.Pointer);
                }
                return () => kernel.Forward(x.Pointer, y.Pointer);
            }
            case Op.AttentionGrad:
            {
                // Inputs: the forward node, dy, x, and the lengths when packed.
                var kernel = _attention[node.Inputs[0]];
                var (dy, x) = (In(1), In(2));
                if (node.Attributes.Packed)
                {
                    var lengths = In(3);
                    return () => kernel.Backward(x.Pointer, dy.Pointer, y.Pointer, lengths.Pointer);
                }
                return () => kernel.Backward(x.Pointer, dy.Pointer, y.Pointer);
            }
            case Op.CrossAttention:
            {
                var g = CrossAttentionGeometry.Of(_shapes[node.Inputs[0]], _shapes[node.Inputs[1]], node.Attributes.Heads);
                var backward = _graph.Nodes.Any(n => n.Op == Op.CrossAttentionGrad && n.Inputs[0] == node.Id);
                var perPart = _samples.Threads > 1 ? SingleThreaded : provider.Choose(false, true, g.QuerySteps, g.KeySteps, g.HeadSize);
                var kernel = new CrossAttentionKernel(g, _samples, perPart, length => Allocate(length).Buffer, backward);
                _crossAttention[node.Id] = kernel;
                var (q, k, v) = (In(0), In(1), In(2));
                var lengths = node.Attributes.Packed ? In(3) : default;
                var packed = node.Attributes.Packed;
                return () => kernel.Forward(q.Pointer, k.Pointer, v.Pointer, y.Pointer, packed ? lengths.Pointer : null);
            }
            case Op.CrossAttentionGrad:
            {
                // Inputs: the forward node, dy, q, k, v, and the lengths when packed; the axis names the input.
                var kernel = _crossAttention[node.Inputs[0]];
                var (dy, q, k, v) = (In(1), In(2), In(3), In(4));
                var lengths = node.Attributes.Packed ? In(5) : default;
                var (packed, wrt) = (node.Attributes.Packed, node.Attributes.Axis);
                return () => kernel.Backward(wrt, q.Pointer, k.Pointer, v.Pointer, dy.Pointer, y.Pointer, packed ? lengths.Pointer : null);
            }
            case Op.PositionalEncoding:
            {
                var shape = _shapes[node.Id];
                var (batch, steps) = (shape[0], shape[1]);
                var id = node.Id;
                _encodings[id] = new PositionalEncoding(steps, shape[2]);
                _positionsPerRun = steps;
                var x = In(0);
                return () => _encodings[id].Forward(x.Span, y.Span, batch, steps, _position?.Next ?? 0);
            }
            default:
                throw new NotSupportedException($"`{OpTable.Info(node.Op).Name}` is not an attention op");
        }
    }
}
