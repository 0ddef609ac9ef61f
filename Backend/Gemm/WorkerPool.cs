using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace Dlc.Backend.Gemm;

/// <summary>
/// A fixed set of worker threads for fork-join work, so a parallel GEMM neither allocates nor queues behind
/// unrelated work on the shared ThreadPool. Part 0 of every run executes on the calling thread.
/// <para>
/// The process has one pool per worker count (<see cref="Shared"/>): the GEMM and a plan's sample-parallel kernels
/// take turns on the same threads, so a step that moves from a product to a layer norm finds its worker awake. A
/// worker spins for <see cref="SpinTime"/> after its part before it sleeps, and so does the caller waiting for the
/// workers: waking a sleeping thread costs about 0.2 ms on a virtual machine, longer than most gaps between a
/// step's parallel kernels.
/// </para>
/// Runs are serialised by the pool. A run started from inside a part of another run of the same pool (which the
/// kernels avoid) executes all its parts on the calling thread, one after another, rather than wait for itself.
/// </summary>
internal sealed class WorkerPool : IDisposable
{
    /// <summary>A unit of fork-join work; part is in [0, parts).</summary>
    internal interface IBody
    {
        void Run(int part, int parts);
    }

    /// <summary>How long an idle worker (or a caller waiting for the workers) spins before it blocks.</summary>
    internal static readonly TimeSpan SpinTime = TimeSpan.FromMicroseconds(100);

    private static readonly long SpinTicks = Math.Max(1, (long)(SpinTime.TotalSeconds * Stopwatch.Frequency));
    private static readonly Dictionary<int, WorkerPool> Pools = [];

    [ThreadStatic]
    private static WorkerPool? t_inside;

    private readonly Thread[] _threads;
    private readonly ManualResetEventSlim[] _start;
    private readonly ManualResetEventSlim _done = new(false);
    private readonly Lock _runs = new();
    private IBody? _body;
    private int _parts;
    private int _pending;
    private ExceptionDispatchInfo? _error;
    private volatile bool _stopping;

    // When the last run with workers ended (a Stopwatch timestamp): they spin for SpinTime after it.
    private long _lastRunEnd = long.MinValue / 2;

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

    /// <summary>The process's pool of <paramref name="workers"/> threads, made on first use and kept for the process.</summary>
    internal static WorkerPool Shared(int workers)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(workers, 1);
        lock (Pools)
        {
            if (!Pools.TryGetValue(workers, out var pool)) Pools[workers] = pool = new WorkerPool(workers, "dlc worker");
            return pool;
        }
    }

    internal int Workers => _threads.Length;

    /// <summary>
    /// Whether the workers are most likely still spinning from the last run, so a run now starts at once rather than
    /// waking them (about 0.2 ms here): a run with workers ended less than <see cref="SpinTime"/> ago.
    /// </summary>
    internal bool WorkersSpinning => Stopwatch.GetTimestamp() - Volatile.Read(ref _lastRunEnd) < SpinTicks;

    /// <summary>Runs body for parts 0..parts-1 (parts ≤ Workers + 1) and returns when all are done.</summary>
    internal void Run(IBody body, int parts)
    {
        ObjectDisposedException.ThrowIf(_stopping, this);
        if (parts < 1 || parts > _threads.Length + 1) throw new ArgumentOutOfRangeException(nameof(parts));
        if (t_inside == this)
        {
            for (var part = 0; part < parts; part++) body.Run(part, parts);
            return;
        }
        lock (_runs)
        {
            _body = body;
            _parts = parts;
            _error = null;
            _pending = parts - 1;
            _done.Reset();
            for (var w = 0; w < parts - 1; w++) _start[w].Set();
            var outer = t_inside;
            t_inside = this;
            try
            {
                body.Run(0, parts);
            }
            finally
            {
                t_inside = outer;
                // Wait even when part 0 failed: the workers still read the shared arguments.
                if (parts > 1)
                {
                    WaitForWorkers();
                    Volatile.Write(ref _lastRunEnd, Stopwatch.GetTimestamp());
                }
                _body = null;
            }
            _error?.Throw();
        }
    }

    private void Loop(int index)
    {
        t_inside = this;
        var start = _start[index];
        while (true)
        {
            WaitForSignal(start);
            start.Reset();
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

    /// <summary>
    /// Until the last worker of this run has set the done event. Waiting on the event, not the count of parts left,
    /// means each run consumes exactly the one signal its last worker gives, so none is left over for the next run.
    /// </summary>
    private void WaitForWorkers() => WaitForSignal(_done);

    /// <summary>Spins for at most <see cref="SpinTime"/> until <paramref name="signal"/> is set, then blocks on it.</summary>
    private static void WaitForSignal(ManualResetEventSlim signal)
    {
        var deadline = Stopwatch.GetTimestamp() + SpinTicks;
        while (!signal.IsSet)
        {
            if (Stopwatch.GetTimestamp() > deadline)
            {
                signal.Wait();
                return;
            }
            Thread.SpinWait(20);
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
