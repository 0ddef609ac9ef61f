using Dlc.Runtime.Data;

namespace Dlc.Runtime.Tests.Data;

/// <summary>Random crops with zero padding and horizontal flips, as torchvision's RandomCrop and RandomHorizontalFlip.</summary>
public class ImageAugmentationTests
{
    // One channel, 3×3: 1 2 3 / 4 5 6 / 7 8 9.
    private static float[] Image() => Enumerable.Range(1, 9).Select(i => (float)i).ToArray();

    private static float[] Transform(int top, int left, bool flip, int channels = 1)
    {
        var image = Enumerable.Range(0, channels).SelectMany(c => Image().Select(v => v + 10 * c)).ToArray();
        ImageAugmentation.Transform(image, channels, 3, 3, top, left, flip, new float[9]);
        return image;
    }

    [Fact]
    public void A_crop_window_below_and_left_of_the_image_shifts_it_up_and_right_filling_with_zeros()
    {
        // The window starts one row down and one column left of the image, in the zero-padded picture.
        Transform(top: 1, left: -1, flip: false).ShouldBe([0, 4, 5, 0, 7, 8, 0, 0, 0]);
    }

    [Fact]
    public void A_flip_mirrors_each_row_after_the_crop()
    {
        Transform(top: 0, left: 0, flip: true).ShouldBe([3, 2, 1, 6, 5, 4, 9, 8, 7]);
        Transform(top: -1, left: 1, flip: true).ShouldBe([0, 0, 0, 0, 3, 2, 0, 6, 5]);
    }

    [Fact]
    public void Every_channel_gets_the_same_crop_and_flip()
    {
        Transform(top: 1, left: 0, flip: true, channels: 2).ShouldBe([6, 5, 4, 9, 8, 7, 0, 0, 0, 16, 15, 14, 19, 18, 17, 0, 0, 0]);
    }

    [Fact]
    public void The_same_seed_and_epoch_give_the_same_images_and_another_epoch_others()
    {
        float[] Run(ulong seed, int epoch)
        {
            var augment = new ImageAugmentation(2, true, [1, 3, 3], seed);
            augment.StartEpoch(epoch);
            var batch = new float[9 * 16];
            for (var i = 0; i < 16; i++)
            {
                var sample = batch.AsSpan(9 * i, 9);
                Image().CopyTo(sample);
                augment.Apply(sample);
            }
            return batch;
        }
        Run(7, 3).ShouldBe(Run(7, 3));
        Run(7, 3).ShouldNotBe(Run(7, 4));
        Run(7, 3).ShouldNotBe(Run(8, 3));
        Run(7, 3).Chunk(9).Count(s => !s.SequenceEqual(Image())).ShouldBeGreaterThan(8, "most samples change");
    }

    [Fact]
    public void Gathering_pads_with_black_before_normalising()
    {
        // Bytes 255 scaled to 1; a crop shifted by the whole padding leaves zeros, which normalise to -mean/std.
        var data = Dataset.FromBytes("img", Enumerable.Repeat((byte)255, 9).ToArray(), 1f / 255, [1, 3, 3], [0f], 1)
            .Normalized(new Normalization([0.5], [0.25]));
        var x = new float[9];
        data.Gather([0], x, new float[1]);
        x.ShouldAllBe(v => v == 2f);

        var augment = new ImageAugmentation(3, false, [1, 3, 3], 1);
        var seen = new HashSet<float>();
        for (var i = 0; i < 20; i++)
        {
            data.Gather([0], x, new float[1], augment);
            foreach (var v in x) seen.Add(v);
        }
        seen.ShouldBe([2f, -2f], ignoreOrder: true);
    }
}
