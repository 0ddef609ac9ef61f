using System.Buffers.Binary;
using System.IO.Compression;
using Dlc.Runtime.Data;

namespace Dlc.Runtime.Tests.Data;

public class IdxReaderTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    internal static byte[] Idx(byte type, int[] dims, byte[] data)
    {
        var bytes = new byte[4 + 4 * dims.Length + data.Length];
        bytes[2] = type;
        bytes[3] = (byte)dims.Length;
        for (var d = 0; d < dims.Length; d++) BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * d), dims[d]);
        data.CopyTo(bytes, 4 + 4 * dims.Length);
        return bytes;
    }

    internal static byte[] Gzip(byte[] bytes)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest)) gzip.Write(bytes);
        return output.ToArray();
    }

    private static byte[] Pixels(int count) => Enumerable.Range(0, count * 4).Select(i => (byte)(i * 3)).ToArray();

    private static DataException Fails(Action read, string code)
    {
        var e = Should.Throw<DataException>(read);
        e.Code.ShouldBe(code);
        return e;
    }

    [Fact]
    public void A_plain_image_file_is_read_with_its_dimensions()
    {
        var path = _dir.Write("images", Idx(0x08, [3, 2, 2], Pixels(3)));
        var images = IdxReader.ReadImages(path);
        (images.Count, images.Rows, images.Columns).ShouldBe((3, 2, 2));
        images.Pixels.ShouldBe(Pixels(3));
    }

    [Fact]
    public void Gzip_is_recognised_by_its_magic_bytes_whatever_the_file_is_called()
    {
        var path = _dir.Write("images.idx", Gzip(Idx(0x08, [3, 2, 2], Pixels(3))));
        IdxReader.ReadImages(path).Pixels.ShouldBe(Pixels(3));
        var plainNamedGz = _dir.Write("labels.gz", Idx(0x08, [3], [1, 2, 0]));
        IdxReader.ReadLabels(plainNamedGz).ShouldBe([1, 2, 0]);
    }

    [Fact]
    public void Images_and_labels_make_a_dataset_with_scaled_pixels()
    {
        var images = _dir.Write("i.gz", Gzip(Idx(0x08, [3, 2, 2], Pixels(3))));
        var labels = _dir.Write("l.gz", Gzip(Idx(0x08, [3], [2, 0, 1])));
        var data = IdxReader.LoadDataset(images, labels, "tiny", 3, 1f / 255f, channelFirst: true);
        data.Count.ShouldBe(3);
        data.SampleShape.ShouldBe([1, 2, 2]);
        data.Labels.ShouldBe([2f, 0f, 1f]);
        var x = new float[4];
        data.Gather([1], x, new float[1]);
        x.ShouldBe(Pixels(3)[4..8].Select(b => b / 255f).ToArray(), 1e-7);
    }

    [Fact]
    public void A_truncated_gzip_file_reports_how_many_bytes_arrived()
    {
        var full = Gzip(Idx(0x08, [100, 28, 28], new byte[100 * 784].Select((_, i) => (byte)(i * 31 % 251)).ToArray()));
        var path = _dir.Write("train-images-idx3-ubyte.gz", full[..(full.Length / 2)]);
        var e = Fails(() => IdxReader.ReadImages(path), DataException.Truncated);
        e.Message.ShouldStartWith("train-images-idx3-ubyte.gz ends after ");
        e.Message.ShouldEndWith(" of 78,416 bytes of image data");
        e.Path.ShouldBe(path);
    }

    [Fact]
    public void A_truncated_plain_file_reports_the_exact_byte_counts()
    {
        var path = _dir.Write("labels", Idx(0x08, [10], new byte[10])[..15]);
        Fails(() => IdxReader.ReadLabels(path), DataException.Truncated)
            .Message.ShouldBe("labels ends after 15 of 18 bytes of label data");
        var header = _dir.Write("short", new byte[] { 0, 0, 8, 1, 0 });
        Fails(() => IdxReader.ReadLabels(header), DataException.Truncated)
            .Message.ShouldBe("short ends after 5 of 8 header bytes");
        Fails(() => IdxReader.ReadLabels(_dir.Write("empty", [])), DataException.Truncated);
    }

    [Fact]
    public void A_file_that_is_not_idx_is_malformed()
    {
        var path = _dir.Write("zip", "PK\u0003\u0004 hello"u8.ToArray());
        Fails(() => IdxReader.ReadImages(path), DataException.Malformed).Message.ShouldContain("is not an IDX file");
    }

    [Fact]
    public void Only_unsigned_byte_data_is_accepted()
    {
        var path = _dir.Write("floats", Idx(0x0D, [1], new byte[4]));
        Fails(() => IdxReader.ReadLabels(path), DataException.Malformed)
            .Message.ShouldBe("floats holds data of type 0x0D (32-bit float); expected unsigned bytes (0x08)");
    }

    [Fact]
    public void A_label_file_where_images_are_expected_is_malformed()
    {
        var path = _dir.Write("labels", Idx(0x08, [3], [0, 1, 2]));
        Fails(() => IdxReader.ReadImages(path), DataException.Malformed).Message.ShouldContain("has 1 dimensions");
    }

    [Fact]
    public void A_zero_dimension_is_malformed()
    {
        var path = _dir.Write("zero", Idx(0x08, [0, 28, 28], []));
        Fails(() => IdxReader.ReadImages(path), DataException.Malformed).Message.ShouldContain("size of 0 in dimension 0");
    }

    [Fact]
    public void Data_beyond_what_the_header_announces_is_malformed()
    {
        var path = _dir.Write("long", Gzip(Idx(0x08, [2], [1, 2, 3])));
        Fails(() => IdxReader.ReadLabels(path), DataException.Malformed).Message.ShouldContain("more data than the 10 bytes");
    }

    [Fact]
    public void Corrupt_gzip_data_is_reported_without_leaking_the_decompressor_exception()
    {
        var bytes = Gzip(Idx(0x08, [1000], new byte[1000].Select((_, i) => (byte)(i * 7)).ToArray()));
        for (var i = 12; i < bytes.Length - 8; i++) bytes[i] ^= 0x5A;
        var path = _dir.Write("bad.gz", bytes);
        var e = Should.Throw<DataException>(() => IdxReader.ReadLabels(path));
        e.Code.ShouldBeOneOf(DataException.Malformed, DataException.Truncated);
    }

    [Fact]
    public void A_changed_gzip_checksum_is_detected()
    {
        var bytes = Gzip(Idx(0x08, [4], [1, 2, 3, 4]));
        bytes[^8] ^= 0xFF;
        var path = _dir.Write("crc.gz", bytes);
        Fails(() => IdxReader.ReadLabels(path), DataException.Malformed).Message.ShouldContain("not a valid gzip file");
    }

    [Fact]
    public void A_missing_file_is_reported_as_not_found()
    {
        var path = _dir.File("nope.gz");
        Fails(() => IdxReader.ReadImages(path), DataException.NotFound).Path.ShouldBe(path);
    }

    [Fact]
    public void Images_and_labels_must_agree_on_the_count()
    {
        var images = _dir.Write("i", Idx(0x08, [3, 2, 2], Pixels(3)));
        var labels = _dir.Write("l", Idx(0x08, [2], [0, 1]));
        Fails(() => IdxReader.LoadDataset(images, labels, "x", 10, 1f), DataException.Malformed)
            .Message.ShouldBe("l has 2 labels but i has 3 images");
    }

    [Fact]
    public void Labels_must_be_below_the_class_count()
    {
        var images = _dir.Write("i", Idx(0x08, [3, 2, 2], Pixels(3)));
        var labels = _dir.Write("l", Idx(0x08, [3], [0, 10, 1]));
        Fails(() => IdxReader.LoadDataset(images, labels, "x", 10, 1f), DataException.Malformed)
            .Message.ShouldBe("l: label 10 of sample 1 is outside 0..9");
    }

    [Fact]
    public void A_cache_folder_keeps_an_inflated_copy_that_later_loads_read()
    {
        var source = _dir.Write("train-labels.gz", Gzip(Idx(0x08, [3], [2, 0, 1])));
        var cache = _dir.File("cache");
        IdxReader.ReadLabels(source, cacheDirectory: cache).ShouldBe([2, 0, 1]);
        var entry = Directory.GetFiles(cache).ShouldHaveSingleItem();
        File.ReadAllBytes(entry).ShouldBe(Idx(0x08, [3], [2, 0, 1]));

        // A damaged entry falls back to the source and is rebuilt.
        File.WriteAllBytes(entry, [0, 0, 8]);
        IdxReader.ReadLabels(source, cacheDirectory: cache).ShouldBe([2, 0, 1]);
        File.ReadAllBytes(entry).Length.ShouldBe(11);

        // A changed source gets a new entry and the old one goes.
        File.WriteAllBytes(source, Gzip(Idx(0x08, [4], [1, 1, 1, 1])));
        File.SetLastWriteTimeUtc(source, DateTime.UtcNow.AddMinutes(1));
        IdxReader.ReadLabels(source, cacheDirectory: cache).ShouldBe([1, 1, 1, 1]);
        Directory.GetFiles(cache).ShouldHaveSingleItem().ShouldNotBe(entry);
    }
}
