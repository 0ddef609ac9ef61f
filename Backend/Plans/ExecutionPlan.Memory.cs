namespace Dlc.Backend.Plans;

/// <summary>One buffer a plan owns: its size and the span of steps (node ids, in execution order) it must live over.</summary>
public sealed record BufferLife(string What, long Bytes, int First, int Last, bool Pinned);

/// <summary>
/// The memory of a plan's activation and gradient buffers (parameters and their gradients excluded):
/// what it allocates today, one buffer per value, against the peak an assignment by liveness would
/// need, where buffers whose lives do not overlap share memory.
/// </summary>
/// <param name="AllocatedBytes">What the plan allocates: a buffer of its own for every value.</param>
/// <param name="PlannedBytes">The arena a greedy-by-size offset assignment of the same buffers needs.</param>
/// <param name="LowerBoundBytes">The most bytes alive at any one step: no assignment can do with less.</param>
public sealed record MemoryReport(long AllocatedBytes, long PlannedBytes, long LowerBoundBytes, IReadOnlyList<BufferLife> Buffers);

public sealed partial class ExecutionPlan
{
    /// <summary>
    /// Each owned buffer lives from the first node that writes it to the last node that reads it; inputs
    /// and outputs live across the whole step (they are filled before it and read after). The assignment
    /// is computed and reported; the plan itself still gives every value its own buffer.
    /// </summary>
    public MemoryReport Memory()
    {
        var end = _graph.Nodes.Count;
        var lives = new Dictionary<NativeBuffer, (int First, int Last, bool Pinned, string What)>();
        var owned = _owned.ToHashSet();
        void Touch(NativeBuffer buffer, int at, bool pinned, string what)
        {
            if (!owned.Contains(buffer)) return;
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
            Touch(_buffers[node.Id].Buffer, pinned ? 0 : node.Id, pinned, what);
            if (pinned) Touch(_buffers[node.Id].Buffer, end, true, what);
            foreach (var input in node.Inputs)
            {
                if (_buffers[input].Buffer is { } read) Touch(read, node.Id, false, what);
            }
        }
        foreach (var (buffer, node) in _scratchOf) Touch(buffer, node, false, $"scratch of %{node}");

        var buffers = lives.Select(l => new BufferLife(l.Value.What, (long)l.Key.Length * sizeof(float), l.Value.First, l.Value.Last, l.Value.Pinned))
            .ToList();
        return new MemoryReport(BufferBytes, GreedyBySize(buffers), LowerBound(buffers, end), buffers);
    }

    /// <summary>
    /// Largest buffers first, each at the lowest offset where it overlaps no placed buffer whose life overlaps
    /// its own (the "greedy by size" assignment TensorFlow Lite's arena planner uses). Offsets are 64-byte aligned.
    /// </summary>
    public static long GreedyBySize(IReadOnlyList<BufferLife> buffers)
    {
        var placed = new List<(long Offset, long Size, int First, int Last)>();
        long peak = 0;
        foreach (var b in buffers.OrderByDescending(b => b.Bytes).ThenBy(b => b.First))
        {
            var size = (b.Bytes + 63) & ~63L;
            var conflicts = placed.Where(p => p.First <= b.Last && b.First <= p.Last).OrderBy(p => p.Offset);
            long offset = 0;
            foreach (var p in conflicts)
            {
                if (offset + size <= p.Offset) break;
                offset = Math.Max(offset, p.Offset + p.Size);
            }
            placed.Add((offset, size, b.First, b.Last));
            peak = Math.Max(peak, offset + size);
        }
        return peak;
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
