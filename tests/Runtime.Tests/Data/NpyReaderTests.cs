using Dlc.Runtime.Data;
using Dlc.Tests.Support;

namespace Dlc.Runtime.Tests.Data;

/// <summary>.npy arrays as numpy.save writes them, and every way a file can be one dlc cannot use.</summary>
public class NpyReaderTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static DataException Fails(string path, string code)
    {
        var ex = Should.Throw<DataException>(() => NpyReader.Read(path));
        ex.Code.ShouldBe(code, ex.Message);
        return ex;
    }

    [Fact]
    public void Float32_float64_uint8_int32_and_int64_arrays_read_in_c_order()
    {
        var f4 = NpyReader.Read(_dir.Write("f4.npy", Npy.Float32([2, 3], [1, 2, 3, 4, 5, 6.5f])));
        f4.Type.ShouldBe(NpyType.Float32);
        f4.Shape.ShouldBe([2, 3]);
        f4.Floats.ShouldBe([1, 2, 3, 4, 5, 6.5f]);
        NpyReader.Read(_dir.Write("f8.npy", Npy.Float64([3], [0.5, -1, 1e10]))).Floats.ShouldBe([0.5f, -1f, 1e10f]);
        var u1 = NpyReader.Read(_dir.Write("u1.npy", Npy.UInt8([2, 2], [0, 1, 254, 255])));
        u1.Bytes.ShouldBe([0, 1, 254, 255]);
        u1.Floats.ShouldBeNull();
        NpyReader.Read(_dir.Write("i8.npy", Npy.Int64([2], [7, -3]))).Floats.ShouldBe([7f, -3f]);
        NpyReader.Read(_dir.Write("i4.npy", Npy.Int32([2], [9, 1]))).Floats.ShouldBe([9f, 1f]);
    }

    [Fact]
    public void Version_2_headers_and_arrays_larger_than_a_read_chunk_read_too()
    {
        var values = Enumerable.Range(0, 300_000).Select(i => (long)i).ToArray();
        NpyReader.Read(_dir.Write("v2.npy", Npy.Int64([300_000], values, version: 2))).Floats![299_999].ShouldBe(299_999f);
        NpyReader.Read(_dir.Write("v2f.npy", Npy.Float32([1, 2], [3, 4], version: 2))).Floats.ShouldBe([3f, 4f]);
    }

    [Fact]
    public void An_unsupported_type_is_named_with_how_to_convert_it()
    {
        var ex = Fails(_dir.Write("f2.npy", Npy.Bytes("<f2", [2], [0, 0, 0, 0])), DataException.Malformed);
        ex.Message.ShouldBe("f2.npy holds values of type '<f2', which dlc does not read");
        ex.Help.ShouldBe("dlc reads float32, float64, uint8, int32 and int64, little-endian: save with `numpy.save(path, array.astype('<f4'))`");
        Fails(_dir.Write("be.npy", Npy.Bytes(">f4", [1], [0, 0, 0, 0])), DataException.Malformed)
            .Message.ShouldBe("be.npy holds big-endian values ('>f4'); dlc reads little-endian arrays");
    }

    [Fact]
    public void Fortran_order_is_refused_with_the_numpy_call_that_fixes_it()
    {
        var ex = Fails(_dir.Write("f.npy", Npy.Bytes("<f4", [2, 2], new byte[16], fortran: true)), DataException.Malformed);
        ex.Message.ShouldBe("f.npy is stored in Fortran (column-major) order; dlc reads C order");
        ex.Help.ShouldBe("save it as `numpy.save(path, numpy.ascontiguousarray(array))`");
    }

    [Fact]
    public void Truncated_data_and_headers_say_how_far_the_file_goes()
    {
        var full = Npy.Float32([4, 4], new float[16]);
        Fails(_dir.Write("cut.npy", full[..(full.Length - 10)]), DataException.Truncated)
            .Message.ShouldBe("cut.npy ends after 182 of 192 bytes: its array data is cut short");
        Fails(_dir.Write("head.npy", full[..30]), DataException.Truncated).Message.ShouldBe("head.npy ends after 20 of the 118 bytes of its header");
        Fails(_dir.Write("tiny.npy", full[..7]), DataException.Truncated).Message.ShouldBe("tiny.npy ends after 7 of the first 8 bytes of its header");
        Fails(_dir.Write("long.npy", [.. full, 1, 2, 3]), DataException.Malformed).Message.ShouldBe("long.npy has more data than the 192 bytes its header announces");
    }

    [Fact]
    public void Files_that_are_not_npy_or_do_not_exist_are_named()
    {
        Fails(_dir.Write("text.npy", "these are not numbers"), DataException.Malformed).Message.ShouldBe("text.npy is not a .npy file (it does not start with \\x93NUMPY)");
        Fails(_dir.File("gone.npy"), DataException.NotFound).Message.ShouldBe($"{_dir.File("gone.npy")} does not exist");
        Fails(_dir.Write("scalar.npy", Npy.Bytes("<f4", [], new byte[4])), DataException.Malformed).Message.ShouldBe("scalar.npy holds a single number (shape ()); dlc reads arrays of samples");
        Fails(_dir.Write("v9.npy", [0x93, .. "NUMPY"u8, 9, 0, 0, 0]), DataException.Malformed).Message.ShouldBe("v9.npy is .npy version 9.0; dlc reads versions 1.0, 2.0 and 3.0");
    }

    [Fact]
    public void Images_and_labels_make_a_data_set_with_pixels_scaled_to_one()
    {
        var images = _dir.Write("x.npy", Npy.UInt8([3, 2, 2], [0, 255, 51, 102, 1, 1, 1, 1, 2, 2, 2, 2]));
        var labels = _dir.Write("y.npy", Npy.Int64([3], [2, 0, 1]));
        var data = NpyDataset.Load(images, labels, classification: true, sampleShape: [1, 2, 2]);
        (data.Count, data.ClassCount).ShouldBe((3, 3));
        data.SampleShape.ShouldBe([2, 2]);
        var x = new float[4];
        var y = new float[1];
        data.Gather([0], x, y);
        x.ShouldBe([0f, 1f, 51 * (1f / 255), 102 * (1f / 255)]);
        y.ShouldBe([2f]);
    }

    [Fact]
    public void Channels_last_images_are_laid_out_channels_first_for_the_model()
    {
        // One 2×2 RGB image stored [N, H, W, C]: pixel (y, x) has channels (10y + x, 100 + ..., 200 + ...).
        float[] hwc = [0, 100, 200, 1, 101, 201, 10, 110, 210, 11, 111, 211];
        var data = NpyDataset.Load(_dir.Write("x.npy", Npy.Float32([1, 2, 2, 3], hwc)), _dir.Write("y.npy", Npy.Int64([1], [0])), true, [3, 2, 2]);
        data.SampleShape.ShouldBe([3, 2, 2]);
        var x = new float[12];
        data.Gather([0], x, new float[1]);
        x.ShouldBe([0, 1, 10, 11, 100, 101, 110, 111, 200, 201, 210, 211]);
    }

    [Fact]
    public void Labels_that_do_not_fit_the_samples_are_malformed()
    {
        var images = _dir.Write("x.npy", Npy.Float32([2, 2], [1, 2, 3, 4]));
        Should.Throw<DataException>(() => NpyDataset.Load(images, _dir.Write("y3.npy", Npy.Int64([3], [0, 1, 2])), true, [2]))
            .Message.ShouldBe("y3.npy has 3 labels but x.npy has 2 samples");
        Should.Throw<DataException>(() => NpyDataset.Load(images, _dir.Write("yf.npy", Npy.Float64([2], [0, 1.5])), true, [2]))
            .Message.ShouldBe("yf.npy: label 1.5 of sample 1 is not a class index (0, 1, 2, ...)");
        NpyDataset.Load(images, _dir.Write("yr.npy", Npy.Float64([2], [0, 1.5])), false, [2]).ClassCount.ShouldBe(0, "targets for mse");
        Should.Throw<DataException>(() => NpyDataset.Load(images, _dir.Write("y2.npy", Npy.Int64([2, 2], [0, 1, 0, 1])), true, [2]))
            .Message.ShouldBe("y2.npy has shape (2, 2); labels are one number per sample, shape (N,)");
    }
}
