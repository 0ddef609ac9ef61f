using Dlc.Backend.Gemm;

namespace Dlc.Backend.Tests.Gemm;

/// <summary>
/// The fork-join pool: every part of every run runs exactly once and has finished when Run returns, whether the
/// worker was spinning, asleep or just woken without work when the run started and whether it finished before or after
/// the caller; a wake-up without work gets a sleeping worker up; a run started from inside a part runs inline; a failing
/// part's exception reaches the caller.
/// </summary>
public class WorkerPoolTests
{
    private sealed class Counting(int parts) : WorkerPool.IBody
    {
        public readonly int[] Runs = new int[parts];
        public int Running;
        public Func<int, int> PauseMicroseconds = _ => 0;

        public void Run(int part, int parts)
        {
            Interlocked.Increment(ref Running);
            var pause = PauseMicroseconds(part);
            if (pause > 0)
            {
                var until = System.Diagnostics.Stopwatch.GetTimestamp() + pause * System.Diagnostics.Stopwatch.Frequency / 1_000_000;
                while (System.Diagnostics.Stopwatch.GetTimestamp() < until) Thread.SpinWait(10);
            }
            Interlocked.Increment(ref Runs[part]);
            Interlocked.Decrement(ref Running);
        }
    }

    [Fact]
    public void Workers_count_as_spinning_just_after_a_run_with_them_and_not_once_they_have_slept()
    {
        using var pool = new WorkerPool(1, "test");
        pool.WorkersSpinning.ShouldBeFalse("no run yet");
        pool.Run(new Counting(1), 1);
        pool.WorkersSpinning.ShouldBeFalse("a run on the caller alone leaves the workers as they were");
        // A run that has to wake the worker may find it asleep again by the time the caller is back (both wake-ups take
        // longer than the spin on a busy machine): runs one after another, until one starts and ends within a spin.
        var seen = false;
        var until = System.Diagnostics.Stopwatch.GetTimestamp() + 5 * System.Diagnostics.Stopwatch.Frequency;
        while (!seen && System.Diagnostics.Stopwatch.GetTimestamp() < until)
        {
            pool.Run(new Counting(2), 2);
            seen = pool.WorkersSpinning;
        }
        seen.ShouldBeTrue();
        SleepsAfterItsSpin(pool);
    }

    [Fact]
    public void Wake_gets_a_sleeping_worker_up_without_work_and_runs_go_on_as_before()
    {
        using var pool = new WorkerPool(1, "test");
        pool.WorkersSpinning.ShouldBeFalse("a new worker sleeps");
        pool.IdleWakeUps.ShouldBe(0);
        pool.Wake();
        // The wake-up takes about 0.2 ms here, and far longer while other tests load both cores.
        var until = System.Diagnostics.Stopwatch.GetTimestamp() + 10 * System.Diagnostics.Stopwatch.Frequency;
        while (pool.IdleWakeUps == 0 && System.Diagnostics.Stopwatch.GetTimestamp() < until) Thread.Sleep(1);
        pool.IdleWakeUps.ShouldBeGreaterThan(0);
        var body = new Counting(2);
        pool.Run(body, 2);
        body.Runs.ShouldBe([1, 1]);
        SleepsAfterItsSpin(pool);
    }

    [Fact]
    public void Every_part_runs_once_and_is_done_when_run_returns_across_spinning_and_sleeping_workers()
    {
        using var pool = new WorkerPool(1, "test");
        var rng = new Random(5);
        for (var run = 0; run < 3000; run++)
        {
            var body = new Counting(2);
            // Either side may be the slow one, by less or more than the spin before sleeping.
            var (slow, pause) = (rng.Next(2), rng.Next(4) switch { 0 => 0, 1 => 20, 2 => 150, _ => 400 });
            body.PauseMicroseconds = part => part == slow ? pause : 0;
            if (run % 500 == 499) Thread.Sleep(2);
            // A wake-up without work may come just before a run, or while the worker is still up from the last one.
            if (run % 7 == 3) pool.Wake();
            pool.Run(body, 2);
            body.Running.ShouldBe(0, $"run {run}");
            body.Runs.ShouldBe([1, 1], $"run {run}");
        }
    }

    [Fact]
    public void A_run_started_inside_a_part_runs_inline()
    {
        using var pool = new WorkerPool(1, "test");
        var inner = new[] { new Counting(2), new Counting(2) };
        var outer = new Nesting(pool, inner);
        pool.Run(outer, 2);
        inner[0].Runs.ShouldBe([1, 1]);
        inner[1].Runs.ShouldBe([1, 1]);
    }

    [Fact]
    public void An_exception_in_a_worker_part_reaches_the_caller_and_the_pool_keeps_working()
    {
        using var pool = new WorkerPool(1, "test");
        Should.Throw<InvalidOperationException>(() => pool.Run(new Failing(), 2)).Message.ShouldBe("part 1");
        var body = new Counting(2);
        pool.Run(body, 2);
        body.Runs.ShouldBe([1, 1]);
    }

    [Fact]
    public void The_shared_pool_is_one_per_worker_count()
    {
        WorkerPool.Shared(1).ShouldBeSameAs(WorkerPool.Shared(1));
        WorkerPool.Shared(2).Workers.ShouldBe(2);
    }

    /// <summary>The workers go back to sleep once their spin is over (however long a loaded machine takes to let them).</summary>
    private static void SleepsAfterItsSpin(WorkerPool pool)
    {
        Thread.Sleep(WorkerPool.SpinTime * 20);
        var until = System.Diagnostics.Stopwatch.GetTimestamp() + 10 * System.Diagnostics.Stopwatch.Frequency;
        while (pool.WorkersSpinning && System.Diagnostics.Stopwatch.GetTimestamp() < until) Thread.Sleep(1);
        pool.WorkersSpinning.ShouldBeFalse("the workers sleep after their spin");
    }

    private sealed class Nesting(WorkerPool pool, Counting[] inner) : WorkerPool.IBody
    {
        public void Run(int part, int parts) => pool.Run(inner[part], 2);
    }

    private sealed class Failing : WorkerPool.IBody
    {
        public void Run(int part, int parts)
        {
            if (part == 1) throw new InvalidOperationException("part 1");
        }
    }
}
