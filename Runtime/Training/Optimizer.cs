using Dlc.Backend;
using Dlc.Backend.Kernels;
using Dlc.Backend.Plans;
using Dlc.Compiler.Jobs;
using Dlc.Runtime.Checkpoints;

namespace Dlc.Runtime.Training;

/// <summary>
/// Updates every parameter from its gradient in one fused pass over the parameter store (torch.optim's
/// update rules), keeping its own state (moments, velocity) in buffers laid out the same way. With more than one
/// thread, a large store is split over them in whole blocks of <see cref="Block"/> floats: the rules are element by
/// element, and each block's vectors are the single thread's, so the result has the same bits for any thread count.
/// </summary>
public sealed class Optimizer : IDisposable
{
    /// <summary>Floats per unit of the split (a multiple of every vector width).</summary>
    internal const int Block = 8192;

    // Below this many parameters one thread is quicker than waking another.
    private const int ParallelFloats = 1 << 16;

    private readonly ParameterStore _store;
    private readonly NativeBuffer _first;
    private readonly NativeBuffer _second;
    private readonly SampleParallel? _parallel;
    private readonly SampleParallel.RangeBody _blocks;
    private float _lr;

    /// <param name="threads">Threads to split the update over (the calling thread included): the plans' own.</param>
    public Optimizer(OptimizerSpec spec, ParameterStore store, int threads = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        Spec = spec;
        _store = store;
        _first = new NativeBuffer(store.Values.Length);
        _second = new NativeBuffer(store.Values.Length);
        if (threads > 1 && store.TrainableLength >= ParallelFloats) _parallel = new SampleParallel(threads);
        _blocks = (_, b0, b1) => UpdateRange(b0 * Block, Math.Min(_store.TrainableLength, b1 * Block));
    }

    public OptimizerSpec Spec { get; }

    /// <summary>Updates applied so far (Adam's bias correction uses it).</summary>
    public long Step { get; private set; }

    /// <summary>The learning rate of the next update, set by a schedule; null uses the spec's.</summary>
    public double? LearningRate { get; set; }

    public void Update()
    {
        Step++;
        _lr = (float)(LearningRate ?? Spec.LearningRate);
        // Only the trainable prefix of the arena: running statistics after it are not the optimiser's.
        var length = _store.TrainableLength;
        if (_parallel is null) UpdateRange(0, length);
        else _parallel.For((length + Block - 1) / Block, _blocks);
        // A pruned weight stays zero through fine-tuning: the update may have moved it, the mask puts it back.
        _store.ApplyMask();
    }

    /// <summary>The update of the trainable floats [start, end).</summary>
    private void UpdateRange(int start, int end)
    {
        var (lr, count) = (_lr, end - start);
        var w = _store.Values.Span.Slice(start, count);
        var g = _store.Gradients.Span.Slice(start, count);
        var m = _first.Span.Slice(start, count);
        var v = _second.Span.Slice(start, count);
        switch (Spec.Kind)
        {
            case OptimizerKind.Sgd:
                Optimizers.Sgd(w, g, m, lr, (float)Spec.Momentum, (float)Spec.Dampening, Spec.Nesterov, (float)Spec.WeightDecay, Step == 1);
                break;
            default:
                Optimizers.Adam(w, g, m, v, lr, (float)Spec.Beta1, (float)Spec.Beta2, (float)Spec.Epsilon,
                    (float)Spec.WeightDecay, (int)Step, Spec.Kind == OptimizerKind.AdamW);
                break;
        }
    }

    private string Prefix => Spec.Kind == OptimizerKind.Sgd ? "sgd" : "adam";

    /// <summary>The state to checkpoint, one tensor per parameter and moment.</summary>
    public IReadOnlyList<NamedTensor> State()
    {
        var tensors = new List<NamedTensor>();
        foreach (var p in _store.Parameters.Where(p => p.Trainable))
        {
            var (offset, length) = _store.Slot(p.Name);
            var shape = p.Shape.Bind(new Dictionary<string, int>());
            tensors.Add(new NamedTensor($"{Prefix}.m.{p.Name}", shape, _first.Span.Slice(offset, length).ToArray()));
            if (Spec.Kind != OptimizerKind.Sgd)
                tensors.Add(new NamedTensor($"{Prefix}.v.{p.Name}", shape, _second.Span.Slice(offset, length).ToArray()));
        }
        return tensors;
    }

    public void Restore(IReadOnlyList<NamedTensor> state, long step)
    {
        var byName = state.ToDictionary(t => t.Name);
        foreach (var p in _store.Parameters)
        {
            var (offset, length) = _store.Slot(p.Name);
            if (byName.TryGetValue($"{Prefix}.m.{p.Name}", out var m)) m.Data.Span.CopyTo(_first.Span.Slice(offset, length));
            if (byName.TryGetValue($"{Prefix}.v.{p.Name}", out var v)) v.Data.Span.CopyTo(_second.Span.Slice(offset, length));
        }
        Step = step;
    }

    public void Dispose()
    {
        _first.Dispose();
        _second.Dispose();
        _parallel?.Dispose();
    }
}
