using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

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
/// <para>
/// A run hands each worker its part through the worker's own cache line (<see cref="Slot"/>: the run's number and
/// body, written by the caller), and each worker reports back through another (<see cref="Done"/>), so a hand-off moves
/// two lines between the cores. Events are only set for a thread that has gone to sleep, which each side announces
/// before it blocks and then checks once more (a fence on both sides, so no signal is missed). An empty run of two
/// parts takes about 0.35 µs here, against 0.7 µs with an event each way, shared counters and a coarser spin (two cores
/// passing one line back and forth take 0.14 µs); batch-1 products split over both cores hand off at every layer.
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

    internal static readonly long SpinTicks = Math.Max(1, (long)(SpinTime.TotalSeconds * Stopwatch.Frequency));
    private static readonly Dictionary<int, WorkerPool> Pools = [];

    // Spins read the clock (about 23 ns here) once every this many + 1 pauses.
    private const int ClockEvery = 15;

    [ThreadStatic]
    private static WorkerPool? t_inside;

    /// <summary>
    /// What the caller writes for one worker (its run's number, body and part count) and whether the worker sleeps (the
    /// worker's write), apart from the other workers' slots.
    /// </summary>
    [StructLayout(LayoutKind.Sequential, Size = 128)]
    private struct Slot
    {
        public IBody? Body;
        public int Run;
        public int Parts;
        public int Sleeping;
    }

    /// <summary>The last run one worker finished, in a line of its own.</summary>
    [StructLayout(LayoutKind.Sequential, Size = 128)]
    private struct Done
    {
        public int Run;
    }

    private readonly Thread[] _threads;
    private readonly ManualResetEventSlim[] _start;
    private readonly ManualResetEventSlim _done = new(false);
    private readonly Lock _runs = new();
    private readonly Slot[] _slots;
    private readonly Done[] _finished;
    private int _callerSleeping;
    private int _idleWakeUps;
    private ExceptionDispatchInfo? _error;
    private volatile bool _stopping;

    /// <param name="workers">Threads besides the caller's.</param>
    internal WorkerPool(int workers, string name)
    {
        _threads = new Thread[workers];
        _start = new ManualResetEventSlim[workers];
        _slots = new Slot[workers];
        _finished = new Done[workers];
        for (var w = 0; w < workers; w++)
        {
            // A new worker counts as asleep: it blocks until its first run or wake-up.
            _slots[w].Sleeping = 1;
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

    /// <summary>How many times a worker has been woken with no part to run (by <see cref="Wake"/>, or by a run it had seen).</summary>
    internal int IdleWakeUps => Volatile.Read(ref _idleWakeUps);

    /// <summary>
    /// Whether every worker is awake, spinning for its next part, so a run now starts at once rather than waking them
    /// (about 0.2 ms here). A worker that is just giving up its spin may still have to be woken.
    /// </summary>
    internal bool WorkersSpinning
    {
        get
        {
            for (var w = 0; w < _slots.Length; w++)
                if (Volatile.Read(ref _slots[w].Sleeping) != 0) return false;
            return true;
        }
    }

    /// <summary>
    /// Wakes the sleeping workers without work, so they spin for <see cref="SpinTime"/> from when they are up (their wake-up
    /// takes about 0.2 ms): for a caller whose products gain from the workers only when they need no waking, and that will
    /// make more soon. Costs the caller a few microseconds when a worker sleeps, nothing otherwise.
    /// </summary>
    internal void Wake()
    {
        for (var w = 0; w < _slots.Length; w++)
            if (Volatile.Read(ref _slots[w].Sleeping) != 0) _start[w].Set();
    }

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
            // Fields the spinning workers read are written only when they change, so their lines stay in both caches.
            if (_error != null) _error = null;
            for (var w = 0; w < parts - 1; w++)
            {
                ref var slot = ref _slots[w];
                slot.Body = body;
                slot.Parts = parts;
                // The fence orders the run's number before the read of Sleeping (the worker's side does the reverse). Numbers
                // are only compared for equality, so they may wrap.
                Interlocked.Exchange(ref slot.Run, unchecked(slot.Run + 1));
                if (Volatile.Read(ref slot.Sleeping) != 0) _start[w].Set();
            }
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
                if (parts > 1) WaitForWorkers(parts - 1);
            }
            _error?.Throw();
        }
    }

    private void Loop(int index)
    {
        t_inside = this;
        var seen = 0;
        while (true)
        {
            seen = WaitForPart(index, seen);
            if (_stopping) return;
            try
            {
                _slots[index].Body!.Run(index + 1, _slots[index].Parts);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _error, ExceptionDispatchInfo.Capture(e), null);
            }
            Interlocked.Exchange(ref _finished[index].Run, seen);
            if (Volatile.Read(ref _callerSleeping) != 0) _done.Set();
        }
    }

    /// <summary>
    /// Until worker <paramref name="index"/> is given a run after <paramref name="seen"/> (or the pool stops), whose number it
    /// returns: spinning for <see cref="SpinTime"/>, then asleep on its start event, and spinning again after each wake-up
    /// (a run's, or <see cref="Wake"/>'s).
    /// </summary>
    private int WaitForPart(int index, int seen)
    {
        ref var slot = ref _slots[index];
        var asleep = Volatile.Read(ref slot.Sleeping) != 0;
        var deadline = asleep ? 0 : Stopwatch.GetTimestamp() + SpinTicks;
        // Dispose moves Run on to stop the workers: the spin reads nothing but this slot.
        for (var spins = 0; Volatile.Read(ref slot.Run) == seen; spins++)
        {
            if (!asleep && (spins & ClockEvery) != ClockEvery || Stopwatch.GetTimestamp() <= deadline)
            {
                Pause();
                continue;
            }
            // Announced before the last look: a run either sees it and sets the event, or is seen here.
            if (!asleep) Interlocked.Exchange(ref slot.Sleeping, 1);
            if (Volatile.Read(ref slot.Run) == seen)
            {
                _start[index].Wait();
                if (Volatile.Read(ref slot.Run) == seen) Interlocked.Increment(ref _idleWakeUps);
            }
            _start[index].Reset();
            Volatile.Write(ref slot.Sleeping, 0);
            asleep = false;
            deadline = Stopwatch.GetTimestamp() + SpinTicks;
        }
        if (asleep) Volatile.Write(ref slot.Sleeping, 0);
        return Volatile.Read(ref slot.Run);
    }

    /// <summary>
    /// Until workers [0, <paramref name="workers"/>) have finished their runs: checked at every pause for
    /// <see cref="SpinTime"/> (a coarser spin, about 0.55 µs, added its half to every hand-off), then asleep on the done
    /// event, which the workers set once they see <see cref="_callerSleeping"/>. A set left over from an earlier run
    /// only wakes this loop to look again.
    /// </summary>
    private void WaitForWorkers(int workers)
    {
        var deadline = Stopwatch.GetTimestamp() + SpinTicks;
        for (var spins = 0; !Finished(workers); spins++)
        {
            if ((spins & ClockEvery) != ClockEvery || Stopwatch.GetTimestamp() <= deadline)
            {
                Pause();
                continue;
            }
            _done.Reset();
            Interlocked.Exchange(ref _callerSleeping, 1);
            if (!Finished(workers)) _done.Wait();
            Volatile.Write(ref _callerSleeping, 0);
        }
    }

    /// <summary>One short wait of a spin: the x86 pause (about 13 ns here), or the runtime's shortest spin elsewhere.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Pause()
    {
        if (X86Base.IsSupported) X86Base.Pause();
        else Thread.SpinWait(1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Finished(int workers)
    {
        for (var w = 0; w < workers; w++)
            if (Volatile.Read(ref _finished[w].Run) != _slots[w].Run) return false;
        return true;
    }

    public void Dispose()
    {
        if (_stopping) return;
        _stopping = true;
        for (var w = 0; w < _slots.Length; w++)
        {
            Interlocked.Increment(ref _slots[w].Run);
            _start[w].Set();
        }
        foreach (var thread in _threads) thread.Join();
        foreach (var start in _start) start.Dispose();
        _done.Dispose();
    }
}
