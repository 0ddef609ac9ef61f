using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Dlc.Runtime.Data;

namespace Dlc.Runtime.Checkpoints;

/// <summary>
/// A safetensors file read into memory and fully validated: every problem is reported as
/// <see cref="DataException"/> DL0905 when the file is opened, never as a bad read later.
/// </summary>
public sealed class SafeTensorsFile
{
    private readonly byte[] _bytes;
    private readonly long _bufferStart;
    private readonly Dictionary<string, Entry> _entries;

    private SafeTensorsFile(string path, byte[] bytes, long bufferStart, List<Entry> entries, Dictionary<string, string> metadata)
    {
        FilePath = path;
        _bytes = bytes;
        _bufferStart = bufferStart;
        _entries = entries.ToDictionary(e => e.Name, StringComparer.Ordinal);
        Names = entries.Select(e => e.Name).ToArray();
        Metadata = metadata;
    }

    public string FilePath { get; }

    /// <summary>The tensor names in the order of their data in the file.</summary>
    public IReadOnlyList<string> Names { get; }

    public IReadOnlyDictionary<string, string> Metadata { get; }

    public bool Contains(string name) => _entries.ContainsKey(name);

    public int[] Shape(string name) => (int[])Find(name).Shape.Clone();

    /// <summary>The stored element type, e.g. "F32", "F16", "BF16".</summary>
    public string DType(string name) => Find(name).DType;

    /// <summary>The tensor as floats; F16 and BF16 are widened exactly, other types are refused (DL0905).</summary>
    public float[] Get(string name)
    {
        var entry = Find(name);
        var bytes = _bytes.AsSpan((int)(_bufferStart + entry.Begin), (int)(entry.End - entry.Begin));
        var result = new float[bytes.Length / entry.ElementSize];
        switch (entry.DType)
        {
            case "F32" when BitConverter.IsLittleEndian:
                // Offsets need not be 4-aligned, but an unaligned copy of the raw bytes is still exact.
                bytes.CopyTo(MemoryMarshal.AsBytes(result.AsSpan()));
                break;
            case "F32":
                for (var i = 0; i < result.Length; i++) result[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes[(4 * i)..]);
                break;
            case "F16":
                for (var i = 0; i < result.Length; i++) result[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(bytes[(2 * i)..]);
                break;
            case "BF16":
                // bfloat16 is the top half of a float32.
                for (var i = 0; i < result.Length; i++)
                    result[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(bytes[(2 * i)..]) << 16);
                break;
            default:
                throw Fail(FilePath, $"{FileName} stores tensor '{name}' as {entry.DType}; dlc reads F32, F16 and BF16 tensors");
        }
        return result;
    }

    /// <summary>All tensors as floats, in file order.</summary>
    public IReadOnlyList<NamedTensor> Tensors() => Names.Select(n => new NamedTensor(n, Shape(n), Get(n))).ToArray();

    private string FileName => System.IO.Path.GetFileName(FilePath);

    private Entry Find(string name) =>
        _entries.TryGetValue(name, out var entry) ? entry : throw new KeyNotFoundException($"{FileName} has no tensor '{name}'");

    public static SafeTensorsFile Read(string path)
    {
        var file = System.IO.Path.GetFileName(path);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new DataException(DataException.NotFound, path, $"{path} does not exist", null, e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or OutOfMemoryException)
        {
            throw Fail(path, $"{file} cannot be read: {e.Message}", e);
        }

        if (bytes.Length < 8)
            throw Fail(path, $"{file} is {bytes.Length} bytes long; a safetensors file starts with an 8-byte header length");
        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLength > SafeTensors.MaxHeaderLength)
            throw Fail(path, $"{file} announces a header of {headerLength:N0} bytes, more than the {SafeTensors.MaxHeaderLength:N0} allowed; it is not a safetensors file");
        if ((long)headerLength > bytes.Length - 8)
            throw Fail(path, $"{file} ends after {bytes.Length - 8:N0} of the {headerLength:N0} header bytes it announces");
        var header = bytes.AsSpan(8, (int)headerLength);
        if (header.IsEmpty || header[0] != (byte)'{')
            throw Fail(path, $"{file}'s header does not start with '{{'");

        var (entries, metadata) = ParseHeader(path, file, header);
        var bufferLength = bytes.Length - 8 - (long)headerLength;
        CheckLayout(path, file, entries, bufferLength);
        return new SafeTensorsFile(path, bytes, 8 + (long)headerLength, entries, metadata);
    }

    private static (List<Entry>, Dictionary<string, string>) ParseHeader(string path, string file, ReadOnlySpan<byte> header)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header.ToArray(), new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            throw Fail(path, $"{file}'s header is not valid JSON: {e.Message}", e);
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw Fail(path, $"{file}'s header is a JSON {document.RootElement.ValueKind}, not an object");
            var entries = new List<Entry>();
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (!seen.Add(property.Name))
                    throw Fail(path, $"{file}'s header names '{property.Name}' twice");
                if (property.Name == SafeTensors.MetadataKey)
                    ReadMetadata(path, file, property.Value, metadata);
                else
                    entries.Add(ReadEntry(path, file, property.Name, property.Value));
            }
            return (entries, metadata);
        }
    }

    private static void ReadMetadata(string path, string file, JsonElement value, Dictionary<string, string> metadata)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw Fail(path, $"{file}'s {SafeTensors.MetadataKey} is a JSON {value.ValueKind}, not an object of strings");
        foreach (var item in value.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
                throw Fail(path, $"{file}'s {SafeTensors.MetadataKey} entry '{item.Name}' is a JSON {item.Value.ValueKind}, not a string");
            if (!metadata.TryAdd(item.Name, item.Value.GetString()!))
                throw Fail(path, $"{file}'s {SafeTensors.MetadataKey} names '{item.Name}' twice");
        }
    }

    private static Entry ReadEntry(string path, string file, string name, JsonElement value)
    {
        string Where() => $"{file}: tensor '{name}'";
        if (value.ValueKind != JsonValueKind.Object)
            throw Fail(path, $"{Where()} is described by a JSON {value.ValueKind}, not an object");
        if (!value.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw Fail(path, $"{Where()} has no \"dtype\" string");
        var dtype = dtypeElement.GetString()!;
        var elementSize = ElementSize(dtype);
        if (elementSize == 0)
            throw Fail(path, $"{Where()} has the unknown dtype \"{dtype}\"");
        var shape = Integers(path, value, "shape", Where, int.MaxValue);
        var offsets = Integers(path, value, "data_offsets", Where, long.MaxValue);
        if (offsets.Length != 2)
            throw Fail(path, $"{Where()} has {offsets.Length} data_offsets; expected 2 (begin, end)");
        var (begin, end) = (offsets[0], offsets[1]);
        if (end < begin)
            throw Fail(path, $"{Where()} ends (byte {end:N0}) before it begins (byte {begin:N0})");
        long expected;
        try
        {
            expected = checked(shape.Aggregate(1L, (n, d) => n * d) * elementSize);
        }
        catch (OverflowException e)
        {
            throw Fail(path, $"{Where()} has a shape too large to hold: {NamedTensor.FormatShape(shape.Select(d => (int)d).ToArray())}", e);
        }
        var intShape = shape.Select(d => (int)d).ToArray();
        if (end - begin != expected)
            throw Fail(path, $"{Where()} has shape {NamedTensor.FormatShape(intShape)} of {dtype}, which takes {expected:N0} bytes, but its data_offsets span {end - begin:N0} bytes");
        return new Entry(name, dtype, elementSize, intShape, begin, end);
    }

    private static long[] Integers(string path, JsonElement value, string key, Func<string> where, long max)
    {
        if (!value.TryGetProperty(key, out var array) || array.ValueKind != JsonValueKind.Array)
            throw Fail(path, $"{where()} has no \"{key}\" array");
        var result = new long[array.GetArrayLength()];
        var i = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out var n) || n < 0 || n > max)
                throw Fail(path, $"{where()} has {item.GetRawText()} in \"{key}\"; expected a whole number from 0 to {max.ToString("N0", CultureInfo.InvariantCulture)}");
            result[i++] = n;
        }
        return result;
    }

    /// <summary>The tensors must tile the buffer exactly: no overlaps (aliasing), no holes (hidden data), nothing missing.</summary>
    private static void CheckLayout(string path, string file, List<Entry> entries, long bufferLength)
    {
        entries.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        long covered = 0;
        Entry? previous = null;
        foreach (var entry in entries)
        {
            if (entry.Begin < covered)
                throw Fail(path, $"{file}: tensors '{previous!.Name}' (bytes {previous.Begin:N0}–{previous.End:N0}) and '{entry.Name}' (bytes {entry.Begin:N0}–{entry.End:N0}) overlap");
            if (entry.Begin > covered)
                throw Fail(path, $"{file}: bytes {covered:N0}–{entry.Begin:N0} of the data buffer belong to no tensor");
            covered = entry.End;
            previous = entry;
        }
        if (bufferLength < covered)
            throw Fail(path, $"{file} ends after {bufferLength:N0} of the {covered:N0} bytes of tensor data its header describes");
        if (bufferLength > covered)
            throw Fail(path, $"{file} has {bufferLength - covered:N0} bytes after the last tensor's data");
    }

    private static int ElementSize(string dtype) => dtype switch
    {
        "BOOL" or "U8" or "I8" or "F8_E5M2" or "F8_E4M3" => 1,
        "I16" or "U16" or "F16" or "BF16" => 2,
        "I32" or "U32" or "F32" => 4,
        "I64" or "U64" or "F64" => 8,
        _ => 0,
    };

    private static DataException Fail(string path, string message, Exception? inner = null) =>
        new(DataException.CheckpointUnreadable, path, message, null, inner);

    private sealed record Entry(string Name, string DType, int ElementSize, int[] Shape, long Begin, long End);
}
