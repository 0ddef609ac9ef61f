using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Dlc.Runtime.Checkpoints;

/// <summary>
/// The safetensors format: an 8-byte little-endian header length N, N bytes of UTF-8 JSON
/// mapping each tensor name to {"dtype", "shape", "data_offsets": [begin, end]} (offsets relative
/// to the byte buffer) plus an optional "__metadata__" string map, then the byte buffer, which the
/// tensors cover completely without holes or overlaps. Tensors are little-endian and row-major.
/// </summary>
public static class SafeTensors
{
    /// <summary>The header size limit of the reference implementation; anything larger is not a real header.</summary>
    public const long MaxHeaderLength = 100_000_000;

    public const string MetadataKey = "__metadata__";

    /// <summary>Writes F32 tensors to <paramref name="path"/> atomically (see <see cref="AtomicFile"/>).</summary>
    public static void Write(string path, IReadOnlyList<NamedTensor> tensors, IReadOnlyDictionary<string, string>? metadata) =>
        AtomicFile.Write(path, stream => Write(stream, tensors, metadata));

    /// <summary>
    /// Writes F32 tensors sorted by name (ordinal), so the same tensors always give the same bytes
    /// whatever order the caller lists them in; metadata keys are sorted likewise. The header is
    /// padded with spaces to a multiple of 8 bytes so the buffer, and each F32 tensor, stays aligned.
    /// </summary>
    public static void Write(Stream stream, IReadOnlyList<NamedTensor> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        var ordered = tensors.OrderBy(t => t.Name, StringComparer.Ordinal).ToArray();
        var header = Header(ordered, metadata);
        var padded = (header.Length + 7) & ~7;
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)padded);
        stream.Write(length);
        stream.Write(header);
        for (var i = header.Length; i < padded; i++) stream.WriteByte((byte)' ');
        foreach (var tensor in ordered) WriteFloats(stream, tensor.Data.Span);
    }

    /// <summary>Reads and validates a safetensors file; see <see cref="SafeTensorsFile.Read"/>.</summary>
    public static SafeTensorsFile Read(string path) => SafeTensorsFile.Read(path);

    private static byte[] Header(NamedTensor[] tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        var buffer = new ArrayBufferWriter<byte>();
        // Relaxed escaping keeps non-ASCII names readable as UTF-8 instead of \uXXXX; both are valid JSON.
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject(MetadataKey);
                foreach (var (key, value) in metadata.OrderBy(p => p.Key, StringComparer.Ordinal))
                    json.WriteString(key, value);
                json.WriteEndObject();
            }
            long offset = 0;
            string? previous = null;
            foreach (var tensor in tensors)
            {
                if (tensor.Name == MetadataKey)
                    throw new ArgumentException($"a tensor cannot be called {MetadataKey}", nameof(tensors));
                if (tensor.Name == previous)
                    throw new ArgumentException($"two tensors are called '{tensor.Name}'", nameof(tensors));
                previous = tensor.Name;
                if (tensor.Shape.Any(d => d < 0))
                    throw new ArgumentException($"tensor '{tensor.Name}' has a negative dimension in {tensor.ShapeText}", nameof(tensors));
                if (tensor.ElementCount != tensor.Data.Length)
                    throw new ArgumentException($"tensor '{tensor.Name}' has shape {tensor.ShapeText} but {tensor.Data.Length} values", nameof(tensors));
                json.WriteStartObject(tensor.Name);
                json.WriteString("dtype", "F32");
                json.WriteStartArray("shape");
                foreach (var d in tensor.Shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                offset += 4L * tensor.Data.Length;
                json.WriteNumberValue(offset);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteFloats(Stream stream, ReadOnlySpan<float> data)
    {
        if (BitConverter.IsLittleEndian)
        {
            stream.Write(MemoryMarshal.AsBytes(data));
            return;
        }
        // The format is little-endian whatever the machine: swap through a small buffer.
        Span<byte> chunk = stackalloc byte[4096];
        while (!data.IsEmpty)
        {
            var n = Math.Min(data.Length, chunk.Length / 4);
            for (var i = 0; i < n; i++) BinaryPrimitives.WriteSingleLittleEndian(chunk[(4 * i)..], data[i]);
            stream.Write(chunk[..(4 * n)]);
            data = data[n..];
        }
    }
}
