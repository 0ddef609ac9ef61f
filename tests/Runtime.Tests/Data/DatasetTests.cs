using Dlc.Runtime.Data;

namespace Dlc.Runtime.Tests.Data;

public class DatasetTests
{
    private static Dataset Bytes(int count = 10, int size = 3)
    {
        var features = new byte[count * size];
        for (var i = 0; i < features.Length; i++) features[i] = (byte)(i % 256);
        var labels = Enumerable.Range(0, count).Select(i => (float)(i % 2)).ToArray();
        return Dataset.FromBytes("bytes", features, 0.5f, [size], labels, 2);
    }

    [Fact]
    public void Feature_names_stay_with_splits_normalised_and_reshaped_views_and_must_name_every_value()
    {
        var data = Bytes().WithFeatureNames(["r", "g", "b"]);
        var (train, validation) = data.Split(0.3, 1);
        train.FeatureNames.ShouldBe(["r", "g", "b"]);
        validation.FeatureNames.ShouldBe(["r", "g", "b"]);
        data.Normalized(new Normalization([0.5], [0.2])).FeatureNames.ShouldBe(["r", "g", "b"]);
        data.Reshape([3, 1]).FeatureNames.ShouldBe(["r", "g", "b"]);
        Bytes().FeatureNames.ShouldBeNull();
        Should.Throw<ArgumentException>(() => Bytes().WithFeatureNames(["r", "g"])).Message.ShouldStartWith("2 feature names for samples of 3 values");
    }

    [Fact]
    public void Gather_scales_byte_features_and_copies_labels_in_index_order()
    {
        var data = Bytes();
        var x = new float[2 * 3];
        var y = new float[2];
        data.Gather([4, 1], x, y);
        x.ShouldBe([6f, 6.5f, 7f, 1.5f, 2f, 2.5f]);
        y.ShouldBe([0f, 1f]);
    }

    [Fact]
    public void Gather_of_byte_data_matches_division_by_255_for_every_byte_value()
    {
        var features = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();
        var data = Dataset.FromBytes("all", features, 1f / 255f, [256], [0f], 1);
        var x = new float[256];
        data.Gather([0], x, new float[1]);
        for (var i = 0; i < 256; i++) x[i].ShouldBe(i / 255f, 1e-7f);
        x[255].ShouldBe(1f);
        x[0].ShouldBe(0f);
    }

    [Fact]
    public void Gather_handles_samples_longer_than_one_vector_with_a_ragged_tail()
    {
        var features = Enumerable.Range(0, 2 * 101).Select(i => (byte)(i * 7)).ToArray();
        var data = Dataset.FromBytes("odd", features, 2f, [101], [0f, 1f], 2);
        var x = new float[202];
        data.Gather([1, 0], x, new float[2]);
        for (var i = 0; i < 101; i++)
        {
            x[i].ShouldBe(features[101 + i] * 2f);
            x[101 + i].ShouldBe(features[i] * 2f);
        }
    }

    [Fact]
    public void Gather_of_float_data_copies_rows()
    {
        var data = Dataset.FromFloats("f", [1, 2, 3, 4, 5, 6], [2], [0.5f, 1.5f, 2.5f], 0);
        var x = new float[4];
        var y = new float[2];
        data.Gather([2, 0], x, y);
        x.ShouldBe([5f, 6f, 1f, 2f]);
        y.ShouldBe([2.5f, 0.5f]);
        data.IsClassification.ShouldBeFalse();
    }

    [Fact]
    public void Gather_rejects_an_index_outside_the_set_and_a_batch_buffer_that_is_too_small()
    {
        var data = Bytes();
        Should.Throw<ArgumentOutOfRangeException>(() => data.Gather([10], new float[3], new float[1]));
        Should.Throw<ArgumentException>(() => data.Gather([0, 1], new float[5], new float[2]));
    }

    [Fact]
    public void Gather_does_not_allocate()
    {
        var data = Bytes(1000, 784);
        var x = new float[64 * 784];
        var y = new float[64];
        var indices = Enumerable.Range(0, 64).Select(i => i * 13 % 1000).ToArray();
        data.Gather(indices, x, y);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10; i++) data.Gather(indices, x, y);
        (GC.GetAllocatedBytesForCurrentThread() - before).ShouldBe(0);
    }

    [Fact]
    public void Subset_is_a_view_in_the_given_order_and_subsets_compose()
    {
        var data = Bytes();
        var sub = data.Subset([7, 3, 5]);
        sub.Count.ShouldBe(3);
        sub.Labels.ShouldBe([1f, 1f, 1f]);
        var subsub = sub.Subset([2, 0]);
        var x = new float[6];
        var y = new float[2];
        subsub.Gather([0, 1], x, y);
        x.ShouldBe([7.5f, 8f, 8.5f, 10.5f, 11f, 11.5f]);
    }

    [Fact]
    public void Split_partitions_the_samples_deterministically_by_seed()
    {
        var labels = Enumerable.Range(0, 1000).Select(i => (float)i).ToArray();
        var data = Dataset.FromFloats("ids", labels.ToArray(), [1], labels, 0);
        var (train, validation) = data.Split(0.1, 42);
        train.Count.ShouldBe(900);
        validation.Count.ShouldBe(100);
        train.Labels.Concat(validation.Labels).Order().ShouldBe(labels);
        train.Labels.ShouldBe(train.Labels.Order());

        var (train2, validation2) = data.Split(0.1, 42);
        validation2.Labels.ShouldBe(validation.Labels);
        train2.Labels.ShouldBe(train.Labels);
        data.Split(0.1, 43).validation.Labels.ShouldNotBe(validation.Labels);
    }

    [Fact]
    public void Split_keeps_features_attached_to_their_labels()
    {
        var data = Dataset.FromFloats("ids", Enumerable.Range(0, 50).Select(i => i * 10f).ToArray(), [1],
            Enumerable.Range(0, 50).Select(i => (float)i).ToArray(), 0);
        var (_, validation) = data.Split(0.2, 7);
        var indices = Enumerable.Range(0, validation.Count).ToArray();
        var x = new float[validation.Count];
        var y = new float[validation.Count];
        validation.Gather(indices, x, y);
        for (var i = 0; i < x.Length; i++) x[i].ShouldBe(y[i] * 10f);
    }

    [Fact]
    public void Reshape_changes_the_sample_shape_but_not_the_values()
    {
        var data = Bytes(2, 4).Reshape([1, 2, 2]);
        data.SampleShape.ShouldBe([1, 2, 2]);
        data.SampleSize.ShouldBe(4);
        Should.Throw<ArgumentException>(() => data.Reshape([3]));
    }

    [Fact]
    public void Features_that_do_not_fill_whole_samples_are_rejected()
    {
        Should.Throw<ArgumentException>(() => Dataset.FromFloats("bad", new float[5], [2], new float[3], 0));
    }
}
