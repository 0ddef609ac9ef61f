using Dlc.Backend.Plans;

namespace Dlc.Backend.Tests.Plans;

/// <summary>The liveness-based assignment a plan's memory report computes.</summary>
public class MemoryPlanTests
{
    [Fact]
    public void Buffers_whose_lives_do_not_overlap_share_memory_and_overlapping_ones_do_not()
    {
        BufferLife B(long bytes, int first, int last) => new("b", bytes, first, last, Pinned: false);
        // 1 KiB from step 0 to 2, 1 KiB from 3 to 5: one KiB is enough. A third alive at 2 to 3 overlaps both.
        ExecutionPlan.GreedyBySize([B(1024, 0, 2), B(1024, 3, 5)]).ShouldBe(1024);
        ExecutionPlan.GreedyBySize([B(1024, 0, 2), B(1024, 3, 5), B(512, 2, 3)]).ShouldBe(1536);
        // The larger buffer is placed first; the small ones fill around it by their lives.
        ExecutionPlan.GreedyBySize([B(100, 0, 0), B(4096, 1, 1), B(100, 2, 2)]).ShouldBe(4096);
    }

    [Fact]
    public void Sizes_are_rounded_up_to_64_bytes_so_every_buffer_starts_aligned() =>
        ExecutionPlan.GreedyBySize([new BufferLife("a", 4, 0, 1, false), new BufferLife("b", 4, 1, 2, false)]).ShouldBe(128);
}
