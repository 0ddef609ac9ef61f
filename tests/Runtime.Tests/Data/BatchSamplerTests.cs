using Dlc.Runtime.Data;

namespace Dlc.Runtime.Tests.Data;

public class BatchSamplerTests
{
    private static List<int[]> Epoch(BatchSampler sampler, int epoch)
    {
        sampler.StartEpoch(epoch);
        return Enumerable.Range(0, sampler.BatchesPerEpoch).Select(i => sampler.Batch(i).ToArray()).ToList();
    }

    [Fact]
    public void Without_shuffling_batches_are_consecutive_and_the_last_one_is_short()
    {
        var sampler = new BatchSampler(10, 4, shuffle: false, dropLast: false, seed: 1);
        sampler.BatchesPerEpoch.ShouldBe(3);
        Epoch(sampler, 0).ShouldBe([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
    }

    [Fact]
    public void Drop_last_leaves_out_the_short_batch()
    {
        var sampler = new BatchSampler(10, 4, shuffle: true, dropLast: true, seed: 1);
        sampler.BatchesPerEpoch.ShouldBe(2);
        Epoch(sampler, 0).ShouldAllBe(b => b.Length == 4);
    }

    [Fact]
    public void A_shuffled_epoch_is_a_permutation_of_all_samples()
    {
        var sampler = new BatchSampler(1000, 32, shuffle: true, dropLast: false, seed: 5);
        var all = Epoch(sampler, 3).SelectMany(b => b).ToArray();
        all.Order().ShouldBe(Enumerable.Range(0, 1000));
        all.ShouldNotBe(Enumerable.Range(0, 1000));
    }

    [Fact]
    public void The_order_of_an_epoch_depends_only_on_the_seed_and_the_epoch()
    {
        var first = new BatchSampler(500, 16, shuffle: true, dropLast: false, seed: 99);
        var epoch0 = Epoch(first, 0);
        var epoch1 = Epoch(first, 1);
        var epoch2 = Epoch(first, 2);
        epoch1.ShouldNotBe(epoch0);

        // A resumed run jumps straight to epoch 2 and must see the same batches.
        var resumed = new BatchSampler(500, 16, shuffle: true, dropLast: false, seed: 99);
        Epoch(resumed, 2).ShouldBe(epoch2);
        Epoch(resumed, 0).ShouldBe(epoch0);
        Epoch(new BatchSampler(500, 16, shuffle: true, dropLast: false, seed: 100), 0).ShouldNotBe(epoch0);
    }

    [Fact]
    public void Batches_do_not_allocate()
    {
        var sampler = new BatchSampler(10_000, 64, shuffle: true, dropLast: false, seed: 3);
        var sum = 0L;
        for (var i = 0; i < sampler.BatchesPerEpoch; i++) sum += sampler.Batch(i)[0];
        // Laying out an epoch makes one small generator; taking its batches allocates nothing.
        sampler.StartEpoch(1);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < sampler.BatchesPerEpoch; i++) sum += sampler.Batch(i)[0];
        (GC.GetAllocatedBytesForCurrentThread() - before).ShouldBe(0);
        sum.ShouldBeGreaterThan(0);
    }

    [Fact]
    public void Asking_for_a_batch_past_the_end_of_the_epoch_is_an_error()
    {
        var sampler = new BatchSampler(10, 4, shuffle: false, dropLast: true, seed: 0);
        Should.Throw<ArgumentOutOfRangeException>(() => sampler.Batch(2));
    }
}
