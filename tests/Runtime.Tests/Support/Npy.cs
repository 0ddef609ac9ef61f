using System.Globalization;
using System.Text;

namespace Dlc.Tests.Support;

/// <summary>Writes .npy files as numpy.save does, for tests that make their own arrays (also linked into the CLI tests).</summary>
public static class Npy
{
    /// <summary>
    /// A .npy file: magic, version, header length (2 bytes in version 1, 4 in 2), the header dict padded with
    /// spaces and a newline to a multiple of 64 bytes, then <paramref name="data"/> as given.
    /// </summary>
    public static byte[] Bytes(string descr, int[] shape, byte[] data, int version = 1, bool fortran = false)
    {
        var dims = shape.Length == 1 ? $"{shape[0]}," : string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture)));
        var dict = $"{{'descr': '{descr}', 'fortran_order': {(fortran ? "True" : "False")}, 'shape': ({dims}), }}";
        var prefix = version == 1 ? 10 : 12;
        var padded = (prefix + dict.Length + 1 + 63) / 64 * 64 - prefix;
        var header = Encoding.ASCII.GetBytes(dict.PadRight(padded - 1) + "\n");
        using var stream = new MemoryStream();
        stream.Write([0x93, .. "NUMPY"u8, (byte)version, 0]);
        if (version == 1) stream.Write(BitConverter.GetBytes((ushort)header.Length));
        else stream.Write(BitConverter.GetBytes((uint)header.Length));
        stream.Write(header);
        stream.Write(data);
        return stream.ToArray();
    }

    public static byte[] Float32(int[] shape, float[] values, int version = 1) =>
        Bytes("<f4", shape, values.SelectMany(BitConverter.GetBytes).ToArray(), version);

    public static byte[] Float64(int[] shape, double[] values) => Bytes("<f8", shape, values.SelectMany(BitConverter.GetBytes).ToArray());

    public static byte[] UInt8(int[] shape, byte[] values) => Bytes("|u1", shape, values);

    public static byte[] Int64(int[] shape, long[] values, int version = 1) =>
        Bytes("<i8", shape, values.SelectMany(BitConverter.GetBytes).ToArray(), version);

    public static byte[] Int32(int[] shape, int[] values) => Bytes("<i4", shape, values.SelectMany(BitConverter.GetBytes).ToArray());
}
