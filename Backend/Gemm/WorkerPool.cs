using System.Runtime.ExceptionServices;

namespace Dlc.Backend.Gemm;

/// <summary>
/// A fixed set of worker threads for fork-join work, so a parallel GEMM neither allocates nor queues behind
/// unrelated work on the shared ThreadPool. Part 0 of every run executes on the calling thread.
/// One run at a time: callers serialise with their own lock.
/// </summary>
internal sealed class WorkerPool : IDisposable
{
    /// <summary>A unit of fork-join work; part is in [0, parts).</summary>
    internal interface IBody
    {
        void Run(int part, int parts);
    }

    private readonly Thread[] _threads;
    private readonly ManualResetEventSlim[] _start;
    private readonly ManualResetEventSlim _done = new(false);
    private IBody? _body;
    private int _parts;
    private int _pending;
    private ExceptionDispatchInfo? _error;
    private volatile bool _stopping;

    /// <param name="workers">Threads besides the caller's.</param>
    internal WorkerPool(int workers, string name)
    {
        _threads = new Thread[workers];
        _start = new ManualResetEventSlim[workers];
        for (var w = 0; w < workers; w++)
        {
            _start[w] = new ManualResetEventSlim(false);
            var index = w;
            // Background threads: an undisposed pool must not keep the process alive.
            _threads[w] = new Thread(() => Loop(index)) { IsBackground = true, Name = $"{name} {w + 1}" };
            _threads[w].Start();
        }
    }

    internal int Workers => _threads.Length;

    /// <summary>Runs body for parts 0..parts-1 (parts ≤ Workers + 1) and returns when all are done.</summary>
    internal void Run(IBody body, int parts)
    {
        ObjectDisposedException.ThrowIf(_stopping, this);
        if (parts < 1 || parts > _threads.Length + 1) throw new ArgumentOutOfRangeException(nameof(parts));
        _body = body;
        _parts = parts;
        _error = null;
        _pending = parts - 1;
        _done.Reset();
        for (var w = 0; w < parts - 1; w++) _start[w].Set();
        try
        {
            body.Run(0, parts);
        }
        finally
        {
            // Wait even when part 0 failed: the workers still read the shared arguments.
            if (parts > 1) _done.Wait();
            _body = null;
        }
        _error?.Throw();
    }

    private void Loop(int index)
    {
        while (true)
        {
            _start[index].Wait();
            _start[index].Reset();
            if (_stopping) return;
            try
            {
                _body!.Run(index + 1, _parts);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _error, ExceptionDispatchInfo.Capture(e), null);
            }
            if (Interlocked.Decrement(ref _pending) == 0) _done.Set();
        }
    }

    public void Dispose()
    {
        if (_stopping) return;
        _stopping = true;
        foreach (var start in _start) start.Set();
        foreach (var thread in _threads) thread.Join();
        foreach (var start in _start) start.Dispose();
        _done.Dispose();
    }
}
