using Dlc.Backend.Gemm;

namespace Dlc.Backend.Kernels;

/// <summary>
/// Splits work over the samples of a batch across a fixed set of threads: part p of <see cref="Threads"/> gets
/// a contiguous range of samples, and part 0 runs on the calling thread. Batch-parallel convolution and
/// pooling need no synchronisation inside a step (each sample's output is its own) and let every thread run
/// single-threaded products on its own samples. The threads are the process's (<see cref="WorkerPool.Shared"/>),
/// shared with the GEMM. A plan owns one; it runs one job at a time.
/// </summary>
public sealed class SampleParallel : IDisposable, WorkerPool.IBody
{
    /// <summary>Work on samples [start, end) by part <c>part</c>.</summary>
    public delegate void RangeBody(int part, int start, int end);

    private readonly WorkerPool? _pool;
    private RangeBody? _body;
    private int _count;

    public SampleParallel(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        Threads = threads;
        if (threads > 1) _pool = WorkerPool.Shared(threads - 1);
    }

    public int Threads { get; }

    /// <summary>Runs <paramref name="body"/> over [0, count) split into at most <see cref="Threads"/> ranges.</summary>
    public void For(int count, RangeBody body)
    {
        var parts = Math.Min(Threads, count);
        if (parts <= 1 || _pool is null)
        {
            if (count > 0) body(0, 0, count);
            return;
        }
        _body = body;
        _count = count;
        try
        {
            _pool.Run(this, parts);
        }
        finally
        {
            _body = null;
        }
    }

    /// <summary>The range of part <paramref name="part"/> of <paramref name="parts"/> over <paramref name="count"/> items.</summary>
    public static (int Start, int End) Range(int part, int parts, int count)
    {
        var (size, extra) = (count / parts, count % parts);
        var start = part * size + Math.Min(part, extra);
        return (start, start + size + (part < extra ? 1 : 0));
    }

    void WorkerPool.IBody.Run(int part, int parts)
    {
        var (start, end) = Range(part, parts, _count);
        if (start < end) _body!(part, start, end);
    }

    /// <summary>Nothing to free: the worker threads belong to the process.</summary>
    public void Dispose()
    {
    }
}
