using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;

namespace Dlc.Runtime.Data;

/// <summary>The element types of .npy arrays that dlc reads, all little-endian.</summary>
public enum NpyType
{
    Float32,
    Float64,
    UInt8,
    Int32,
    Int64,
}

/// <summary>
/// An array read from a .npy file: its shape and its values, either the bytes themselves (uint8, kept
/// compact as <see cref="Bytes"/>) or converted to float (<see cref="Floats"/>).
/// </summary>
public sealed record NpyArray(string Path, NpyType Type, int[] Shape, byte[]? Bytes, float[]? Floats)
{
    public long Count => Shape.Aggregate(1L, (a, b) => a * b);
}

/// <summary>
/// Reads NumPy's .npy format (versions 1.0, 2.0 and 3.0): the magic "\x93NUMPY", a version, a little-endian
/// header length (2 bytes in 1.0, 4 later), a Python dict literal with 'descr', 'fortran_order' and 'shape',
/// then the values in C order. Little-endian float32, float64, uint8, int32 and int64 are read; anything else
/// is a clear DL0902 naming the type and how to convert it, and a file cut short is DL0903.
/// </summary>
public static class NpyReader
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];
    private const int ChunkSize = 1 << 20;

    public static NpyArray Read(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            return Read(stream, path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new DataException(DataException.NotFound, path, $"{path} does not exist", null, e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataException(DataException.Malformed, path, $"{path} cannot be read: {e.Message}", null, e);
        }
    }

    public static NpyArray Read(Stream stream, string path)
    {
        var file = System.IO.Path.GetFileName(path);
        Span<byte> preamble = stackalloc byte[12];
        var got = ReadFully(stream, preamble[..8]);
        if (got >= 6 && !preamble[..6].SequenceEqual(Magic) || got < 6 && !preamble[..got].SequenceEqual(Magic.AsSpan(0, got)))
            throw new DataException(DataException.Malformed, path, $"{file} is not a .npy file (it does not start with \\x93NUMPY)",
                "save arrays with numpy.save");
        if (got < 8) throw Truncated(path, $"{file} ends after {got} of the first 8 bytes of its header");
        var major = preamble[6];
        if (major is not (1 or 2 or 3))
            throw new DataException(DataException.Malformed, path, $"{file} is .npy version {major}.{preamble[7]}; dlc reads versions 1.0, 2.0 and 3.0");
        var lengthBytes = major == 1 ? 2 : 4;
        if (ReadFully(stream, preamble.Slice(8, lengthBytes)) < lengthBytes)
            throw Truncated(path, $"{file} ends inside its header length");
        var headerLength = major == 1 ? BinaryPrimitives.ReadUInt16LittleEndian(preamble[8..]) : BinaryPrimitives.ReadUInt32LittleEndian(preamble[8..]);
        if (headerLength > 1 << 20)
            throw new DataException(DataException.Malformed, path, $"{file} announces a header of {N(headerLength)} bytes; a .npy header is a short text");
        var headerBytes = new byte[headerLength];
        var read = ReadFully(stream, headerBytes);
        if (read < headerBytes.Length) throw Truncated(path, $"{file} ends after {N(read)} of the {N(headerLength)} bytes of its header");
        var header = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(headerBytes);
        var (type, shape) = ParseHeader(header, path, file);

        var count = shape.Aggregate(1L, (a, b) => a * b);
        var itemSize = type switch { NpyType.UInt8 => 1, NpyType.Float32 or NpyType.Int32 => 4, _ => 8 };
        if (count * itemSize > Array.MaxLength)
            throw new DataException(DataException.Malformed, path, $"{file} holds {N(count)} values, more than dlc can hold in memory");
        var start = 8 + lengthBytes + (long)headerLength;
        var total = count * itemSize;
        if (type == NpyType.UInt8)
        {
            var bytes = new byte[count];
            Fill(stream, bytes, path, file, start, total, 0);
            CheckEnd(stream, path, file, start + total);
            return new NpyArray(path, type, shape, bytes, null);
        }
        var floats = new float[count];
        if (type == NpyType.Float32)
            Fill(stream, MemoryMarshal.AsBytes(floats.AsSpan()), path, file, start, total, 0);
        else
        {
            // Convert as it is read, a chunk at a time, so the file's own type never needs a second array.
            var chunk = new byte[ChunkSize - ChunkSize % itemSize];
            for (long done = 0; done < total;)
            {
                var length = (int)Math.Min(chunk.Length, total - done);
                Fill(stream, chunk.AsSpan(0, length), path, file, start, total, done);
                Convert(chunk.AsSpan(0, length), type, floats.AsSpan((int)(done / itemSize), length / itemSize));
                done += length;
            }
        }
        CheckEnd(stream, path, file, start + total);
        return new NpyArray(path, type, shape, null, floats);
    }

    private static void Convert(ReadOnlySpan<byte> source, NpyType type, Span<float> target)
    {
        switch (type)
        {
            case NpyType.Float64:
                for (var i = 0; i < target.Length; i++) target[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(source[(8 * i)..]);
                break;
            case NpyType.Int64:
                for (var i = 0; i < target.Length; i++) target[i] = BinaryPrimitives.ReadInt64LittleEndian(source[(8 * i)..]);
                break;
            default:
                for (var i = 0; i < target.Length; i++) target[i] = BinaryPrimitives.ReadInt32LittleEndian(source[(4 * i)..]);
                break;
        }
    }

    private static readonly Regex Descr = new(@"['""]descr['""]\s*:\s*['""]([^'""]*)['""]", RegexOptions.CultureInvariant);
    private static readonly Regex Fortran = new(@"['""]fortran_order['""]\s*:\s*(True|False)", RegexOptions.CultureInvariant);
    private static readonly Regex ShapeField = new(@"['""]shape['""]\s*:\s*\(([^)]*)\)", RegexOptions.CultureInvariant);

    /// <summary>The dict literal of the header: 'descr' a little-endian type we read, C order, a shape of at least one axis.</summary>
    private static (NpyType, int[]) ParseHeader(string header, string path, string file)
    {
        var descr = Descr.Match(header);
        var fortran = Fortran.Match(header);
        var shapeMatch = ShapeField.Match(header);
        if (!descr.Success || !fortran.Success || !shapeMatch.Success)
            throw new DataException(DataException.Malformed, path,
                $"{file} has a header without {(!descr.Success ? "'descr'" : !fortran.Success ? "'fortran_order'" : "'shape'")}: {header.Trim()}");
        var code = descr.Groups[1].Value;
        NpyType? type = code switch
        {
            "<f4" => NpyType.Float32,
            "<f8" => NpyType.Float64,
            "|u1" or "<u1" or "u1" => NpyType.UInt8,
            "<i4" => NpyType.Int32,
            "<i8" => NpyType.Int64,
            _ => null,
        };
        if (type is null)
            throw new DataException(DataException.Malformed, path,
                code.StartsWith('>') ? $"{file} holds big-endian values ('{code}'); dlc reads little-endian arrays"
                                     : $"{file} holds values of type '{code}', which dlc does not read",
                "dlc reads float32, float64, uint8, int32 and int64, little-endian: save with `numpy.save(path, array.astype('<f4'))`");
        if (fortran.Groups[1].Value == "True")
            throw new DataException(DataException.Malformed, path, $"{file} is stored in Fortran (column-major) order; dlc reads C order",
                "save it as `numpy.save(path, numpy.ascontiguousarray(array))`");
        var dims = shapeMatch.Groups[1].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (dims.Length == 0)
            throw new DataException(DataException.Malformed, path, $"{file} holds a single number (shape ()); dlc reads arrays of samples");
        var shape = new int[dims.Length];
        for (var d = 0; d < dims.Length; d++)
        {
            if (!int.TryParse(dims[d].TrimEnd('L'), NumberStyles.None, CultureInfo.InvariantCulture, out shape[d]) || shape[d] <= 0)
                throw new DataException(DataException.Malformed, path, $"{file} has a shape dimension dlc cannot use: '{dims[d]}' in ({shapeMatch.Groups[1].Value})");
        }
        return (type.Value, shape);
    }

    private static void Fill(Stream stream, Span<byte> target, string path, string file, long start, long total, long done)
    {
        var got = ReadFully(stream, target);
        if (got < target.Length)
            throw Truncated(path, $"{file} ends after {N(start + done + got)} of {N(start + total)} bytes: its array data is cut short");
    }

    private static void CheckEnd(Stream stream, string path, string file, long expected)
    {
        if (stream.ReadByte() >= 0)
            throw new DataException(DataException.Malformed, path, $"{file} has more data than the {N(expected)} bytes its header announces");
    }

    private static int ReadFully(Stream stream, Span<byte> buffer)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var n = stream.Read(buffer[total..]);
            if (n == 0) break;
            total += n;
        }
        return total;
    }

    private static DataException Truncated(string path, string message) => new(DataException.Truncated, path, message);

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
