namespace Dlc.Backend.Plans;

/// <summary>One buffer a plan owns: its size and the span of steps (node ids, in execution order) it must live over.</summary>
public sealed record BufferLife(string What, long Bytes, int First, int Last, bool Pinned);

/// <summary>
/// The memory of a plan's activation and gradient buffers (parameters and their gradients excluded).
/// </summary>
/// <param name="NaiveBytes">A buffer of its own for every value and every kernel's scratch.</param>
/// <param name="PlannedBytes">The arena a greedy-by-size offset assignment of the same buffers by their lives needs.</param>
/// <param name="LowerBoundBytes">The most bytes alive at any one step: no assignment can do with less.</param>
/// <param name="AllocatedBytes">What the plan holds: values share one arena by liveness (the `share-memory` pass);
/// inputs, outputs and kernels' scratch keep their own.</param>
public sealed record MemoryReport(long NaiveBytes, long PlannedBytes, long LowerBoundBytes, long AllocatedBytes, IReadOnlyList<BufferLife> Buffers);

public sealed partial class ExecutionPlan
{
    // The values' buffers and their lives, from before they were placed in the shared arena (one buffer per value).
    private List<BufferLife>? _valueLives;

    /// <summary>
    /// Each value lives from the node that writes it to the last node that reads it; inputs and outputs live
    /// across the whole step (they are filled before it and read after). Fused steps write the buffer of the
    /// value they end in, so a value's life starts at its producer's step; a recurrent layer's backward step
    /// writes its weight gradients, so those start there.
    /// </summary>
    private Dictionary<NativeBuffer, (int First, int Last, bool Pinned, string What)> ValueLives()
    {
        var end = _graph.Nodes.Count;
        var lives = new Dictionary<NativeBuffer, (int First, int Last, bool Pinned, string What)>();
        var owned = _owned.ToHashSet();
        void Touch(NativeBuffer? buffer, int at, bool pinned, string what)
        {
            if (buffer is null || !owned.Contains(buffer)) return;
            lives[buffer] = lives.TryGetValue(buffer, out var l)
                ? (Math.Min(l.First, at), Math.Max(l.Last, at), l.Pinned || pinned, l.What)
                : (at, at, pinned, what);
        }
        var outputs = _graph.Outputs.Select(o => o.Node).ToHashSet();
        foreach (var node in _graph.Nodes)
        {
            if (!_live[node.Id] || _buffers[node.Id].Buffer is null) continue;
            var what = $"%{node.Id} {Compiler.Ir.OpTable.Info(node.Op).Name}";
            var pinned = node.Op == Compiler.Ir.Op.Input || outputs.Contains(node.Id);
            var written = node.Op == Compiler.Ir.Op.RecurrentWeightGrad ? node.Inputs[0] : node.Id;
            // A node run inside another's step writes nothing of its own: its producer writes the buffer it ends in.
            if (pinned || !_absorbedBy.ContainsKey(node.Id))
            {
                Touch(_buffers[node.Id].Buffer, pinned ? 0 : written, pinned, what);
                Touch(_buffers[node.Id].Buffer, pinned ? end : node.Id, pinned, what);
            }
            // Values passed inside a fused step (a product's result to its bias add) never reach memory.
            var root = _absorbedBy.GetValueOrDefault(node.Id, -1);
            // An absorbed node's inputs are read when its root's step runs, which may come after the node (an elementwise chain).
            foreach (var input in node.Inputs.Where(i => root < 0 || i != root && _absorbedBy.GetValueOrDefault(i, -1) != root))
                Touch(_buffers[input].Buffer, Math.Max(node.Id, root), false, what);
        }
        // A norm's weight (and bias) gradient is written by its input gradient's step; so is a convolution's.
        foreach (var (inputGrad, weightGrad) in _normWeightOf)
            Touch(_buffers[weightGrad].Buffer, inputGrad, false, $"%{weightGrad} {Compiler.Ir.OpTable.Info(_graph[weightGrad].Op).Name}");
        foreach (var (inputGrad, weightGrad) in _convWeightGradOf)
            Touch(_buffers[weightGrad].Buffer, inputGrad, false, $"%{weightGrad} conv2d_weight_grad");
        foreach (var (inputGrad, biasGrad) in _normBiasOf)
            Touch(_buffers[biasGrad].Buffer, inputGrad, false, $"%{biasGrad} {Compiler.Ir.OpTable.Info(_graph[biasGrad].Op).Name}");
        // A bias gradient is written by its weight gradient's product.
        foreach (var (product, biasGradient) in _biasGradientOf)
            Touch(_buffers[biasGradient].Buffer, product, false, $"%{biasGradient} bias_grad");
        // A forward product that keeps GELU's derivative writes it, at its own step, into its pre-activation's buffer.
        foreach (var group in _gemmGroups.Values.Where(g => g.KeepsDerivative && !g.Derivative))
            Touch(_buffers[group.Saved].Buffer, group.MatMul, false, $"%{group.Saved} gelu′");
        // A product chained after another writes its result at the first one's step.
        foreach (var (second, first) in _chainedFirst)
            Touch(_buffers[second].Buffer, first, false, $"%{second} matmul");
        return lives;
    }

    /// <summary>
    /// Values whose lives do not overlap share one arena: each gets the offset a greedy-by-size assignment gives
    /// it. Inputs and outputs keep buffers of their own (callers fill and read them around <see cref="Run"/>),
    /// and so does each kernel's scratch (a recurrent layer keeps its gates there from forward to backward).
    /// Buffers no step reads or writes any more (fused away) are freed.
    /// </summary>
    private void ShareByLiveness()
    {
        var lives = ValueLives();
        _valueLives = lives.Select(l => new BufferLife(l.Value.What, (long)l.Key.Length * sizeof(float), l.Value.First, l.Value.Last, l.Value.Pinned)).ToList();
        var shared = lives.Where(l => !l.Value.Pinned).Select(l => l.Key).ToList();
        var offsets = Place(shared.Select(b => ((long)b.Length, lives[b].First, lives[b].Last)).ToList(), out var floats);
        var arena = new NativeBuffer(checked((int)Math.Max(floats, 1)));
        var at = shared.Select((b, i) => (b, i)).ToDictionary(x => x.b, x => offsets[x.i]);
        for (var id = 0; id < _buffers.Length; id++)
        {
            var b = _buffers[id];
            if (b.Buffer is not null && at.TryGetValue(b.Buffer, out var offset)) _buffers[id] = new BufferRef(arena, checked((int)offset + b.Offset), b.Length);
        }
        foreach (var buffer in _owned.Where(b => !lives.TryGetValue(b, out var l) || !l.Pinned).ToList())
        {
            _owned.Remove(buffer);
            buffer.Dispose();
        }
        _owned.Add(arena);
        _arena = arena;
    }

    // The shared arena of values (null when every value has its own buffer).
    private NativeBuffer? _arena;

    /// <summary>Whether the plan's values share one arena by liveness.</summary>
    public bool SharesMemory => _arena is not null;

    /// <summary>
    /// The liveness assignment: the plan's buffers, their lives and sizes, what one buffer each would take
    /// against the arena a liveness assignment needs and the plan holds.
    /// </summary>
    public MemoryReport Memory()
    {
        var end = _graph.Nodes.Count;
        var buffers = _valueLives?.ToList()
                      ?? ValueLives().Select(l => new BufferLife(l.Value.What, (long)l.Key.Length * sizeof(float), l.Value.First, l.Value.Last, l.Value.Pinned)).ToList();
        foreach (var (buffer, node) in _scratchOf) buffers.Add(new BufferLife($"scratch of %{node}", (long)buffer.Length * sizeof(float), node, node, false));
        return new MemoryReport(buffers.Sum(b => b.Bytes), GreedyBySize(buffers), LowerBound(buffers, end), BufferBytes, buffers);
    }

    /// <summary>
    /// Largest buffers first, each at the lowest offset where it overlaps no placed buffer whose life overlaps
    /// its own (the "greedy by size" assignment TensorFlow Lite's arena planner uses). Offsets are 64-byte aligned.
    /// </summary>
    public static long GreedyBySize(IReadOnlyList<BufferLife> buffers)
    {
        Place(buffers.Select(b => ((b.Bytes + sizeof(float) - 1) / sizeof(float), b.First, b.Last)).ToList(), out var floats);
        return floats * sizeof(float);
    }

    /// <summary>
    /// The greedy-by-size placement of buffers of the given lengths (floats) and lives: each one's offset, in
    /// floats, aligned to 64 bytes, and the arena's length.
    /// </summary>
    private static long[] Place(IReadOnlyList<(long Length, int First, int Last)> buffers, out long length)
    {
        var offsets = new long[buffers.Count];
        var placed = new List<(long Offset, long Size, int First, int Last)>();
        long peak = 0;
        foreach (var i in Enumerable.Range(0, buffers.Count).OrderByDescending(i => buffers[i].Length).ThenBy(i => buffers[i].First))
        {
            var b = buffers[i];
            var size = (b.Length + 15) & ~15L;
            var conflicts = placed.Where(p => p.First <= b.Last && b.First <= p.Last).OrderBy(p => p.Offset);
            long offset = 0;
            foreach (var p in conflicts)
            {
                if (offset + size <= p.Offset) break;
                offset = Math.Max(offset, p.Offset + p.Size);
            }
            placed.Add((offset, size, b.First, b.Last));
            offsets[i] = offset;
            peak = Math.Max(peak, offset + size);
        }
        length = peak;
        return offsets;
    }

    private static long LowerBound(IReadOnlyList<BufferLife> buffers, int end)
    {
        var delta = new long[end + 2];
        foreach (var b in buffers)
        {
            delta[b.First] += b.Bytes;
            delta[b.Last + 1] -= b.Bytes;
        }
        long live = 0, peak = 0;
        foreach (var d in delta)
        {
            live += d;
            peak = Math.Max(peak, live);
        }
        return peak;
    }
}
