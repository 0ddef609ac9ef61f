using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;

namespace Dlc.Runtime.Data;

/// <summary>The pixels of an IDX image file: <see cref="Count"/> images of Rows × Columns bytes, row-major.</summary>
public sealed record IdxImages(int Count, int Rows, int Columns, byte[] Pixels);

/// <summary>
/// Reads IDX files (the MNIST container: a big-endian magic 00 00 type ndim, ndim big-endian
/// 32-bit sizes, then the data in C order), plain or gzip-compressed. Only unsigned-byte data
/// (type 0x08) is supported, which is what image and label files use.
/// </summary>
public static class IdxReader
{
    private const byte UnsignedByte = 0x08;
    // Large reads let inflate write straight into the destination array in few calls.
    private const int ChunkSize = 4 << 20;

    /// <summary>Reads an image file (magic 0x00000803: count, rows, columns).</summary>
    public static IdxImages ReadImages(string path, string? help = null, string? cacheDirectory = null)
    {
        var (dims, data) = Read(path, 3, "image", help, cacheDirectory);
        return new IdxImages(dims[0], dims[1], dims[2], data);
    }

    /// <summary>Reads a label file (magic 0x00000801: count), one byte per label.</summary>
    public static byte[] ReadLabels(string path, string? help = null, string? cacheDirectory = null) =>
        Read(path, 1, "label", help, cacheDirectory).Data;

    /// <summary>
    /// Reads an image file and its label file (in parallel: the image file dominates, so the
    /// labels come for free) and checks that they agree and that every label is below
    /// <paramref name="classCount"/>. Pixels are scaled by <paramref name="scale"/> when gathered.
    /// With a <paramref name="cacheDirectory"/>, gzip files are inflated once and kept there
    /// uncompressed (see <see cref="IdxCache"/>).
    /// </summary>
    public static Dataset LoadDataset(string imagesPath, string labelsPath, string name, int classCount,
        float scale, IReadOnlyList<string>? classNames = null, bool channelFirst = false, string? help = null,
        string? cacheDirectory = null)
    {
        var labelsTask = Task.Run(() => ReadLabels(labelsPath, help, cacheDirectory));
        IdxImages images;
        try
        {
            images = ReadImages(imagesPath, help, cacheDirectory);
        }
        catch
        {
            // Report the images' error, but wait for the labels so their task cannot fail later, unobserved.
            try { labelsTask.Wait(); } catch (AggregateException) { }
            throw;
        }
        var rawLabels = labelsTask.GetAwaiter().GetResult();

        if (rawLabels.Length != images.Count)
            throw new DataException(DataException.Malformed, labelsPath,
                $"{Path.GetFileName(labelsPath)} has {N(rawLabels.Length)} labels but {Path.GetFileName(imagesPath)} has {N(images.Count)} images",
                help);
        var labels = new float[rawLabels.Length];
        for (var i = 0; i < rawLabels.Length; i++)
        {
            if (rawLabels[i] >= classCount)
                throw new DataException(DataException.Malformed, labelsPath,
                    $"{Path.GetFileName(labelsPath)}: label {rawLabels[i]} of sample {N(i)} is outside 0..{classCount - 1}",
                    help);
            labels[i] = rawLabels[i];
        }
        int[] shape = channelFirst ? [1, images.Rows, images.Columns] : [images.Rows * images.Columns];
        return Dataset.FromBytes(name, images.Pixels, scale, shape, labels, classCount, classNames);
    }

    private static (int[] Dims, byte[] Data) Read(string path, int expectedRank, string kind, string? help, string? cacheDirectory)
    {
        var cached = cacheDirectory is null ? null : IdxCache.PathFor(path, cacheDirectory);
        if (cached is not null && File.Exists(cached))
        {
            try
            {
                return ReadFile(cached, expectedRank, kind, help).Content;
            }
            catch (DataException)
            {
                // A damaged cache entry is not the user's problem: fall back to the source, which rewrites it.
            }
        }
        var (content, gzip) = ReadFile(path, expectedRank, kind, help);
        if (cached is not null && gzip) IdxCache.TryStore(cached, content.Dims, content.Data);
        return content;
    }

    private static ((int[] Dims, byte[] Data) Content, bool Gzip) ReadFile(string path, int expectedRank, string kind, string? help)
    {
        var file = Path.GetFileName(path);
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new DataException(DataException.NotFound, path, $"{path} does not exist", help, e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataException(DataException.Malformed, path, $"{path} cannot be opened: {e.Message}", help, e);
        }

        try
        {
            using (stream)
            {
                // Gzip is recognised by its magic bytes, not by the file name.
                Span<byte> probe = stackalloc byte[2];
                var probed = stream.ReadAtLeast(probe, 2, throwOnEndOfStream: false);
                stream.Position = 0;
                var gzip = probed == 2 && probe[0] == 0x1f && probe[1] == 0x8b;
                using var source = gzip ? new GZipStream(stream, CompressionMode.Decompress, leaveOpen: true) : (Stream)stream;
                return (ReadContent(source, path, file, expectedRank, kind, help), gzip);
            }
        }
        catch (InvalidDataException e)
        {
            throw new DataException(DataException.Malformed, path, $"{file} is not a valid gzip file: {e.Message}", help, e);
        }
        catch (IOException e)
        {
            throw new DataException(DataException.Malformed, path, $"{file} cannot be read: {e.Message}", help, e);
        }
    }

    private static (int[] Dims, byte[] Data) ReadContent(Stream source, string path, string file, int expectedRank, string kind, string? help)
    {
        var headerSize = 4 + 4 * expectedRank;
        Span<byte> header = stackalloc byte[headerSize];
        var got = source.ReadAtLeast(header[..4], 4, throwOnEndOfStream: false);
        if (got == 0)
            throw new DataException(DataException.Truncated, path, $"{file} holds no data; expected an IDX {kind} file", help);
        if (got < 4)
            throw new DataException(DataException.Truncated, path, $"{file} ends after {got} of {headerSize} header bytes", help);
        if (header[0] != 0 || header[1] != 0)
            throw new DataException(DataException.Malformed, path,
                $"{file} is not an IDX file: it starts with bytes {Convert.ToHexString(header[..4])}, expected 0000080{expectedRank}", help);
        if (header[2] != UnsignedByte)
            throw new DataException(DataException.Malformed, path,
                $"{file} holds data of type 0x{header[2]:X2} ({TypeName(header[2])}); expected unsigned bytes (0x08)", help);
        if (header[3] != expectedRank)
            throw new DataException(DataException.Malformed, path,
                $"{file} has {header[3]} dimensions; an IDX {kind} file has {expectedRank} (magic 0x0000080{expectedRank})", help);

        got += source.ReadAtLeast(header[4..], headerSize - 4, throwOnEndOfStream: false);
        if (got < headerSize)
            throw new DataException(DataException.Truncated, path, $"{file} ends after {got} of {headerSize} header bytes", help);

        var dims = new int[expectedRank];
        long size = 1;
        for (var d = 0; d < expectedRank; d++)
        {
            var value = BinaryPrimitives.ReadUInt32BigEndian(header[(4 + 4 * d)..]);
            if (value == 0 || value > Array.MaxLength)
                throw new DataException(DataException.Malformed, path, $"{file} announces a size of {N(value)} in dimension {d}", help);
            dims[d] = (int)value;
            size *= value;
            if (size > Array.MaxLength)
                throw new DataException(DataException.Malformed, path,
                    $"{file} announces {string.Join(" × ", dims[..(d + 1)].Select(x => N(x)))} bytes of {kind} data, more than dlc can hold in memory", help);
        }

        var data = GC.AllocateUninitializedArray<byte>((int)size);
        var filled = 0;
        while (filled < data.Length)
        {
            var n = source.Read(data, filled, Math.Min(ChunkSize, data.Length - filled));
            if (n == 0)
                throw new DataException(DataException.Truncated, path,
                    $"{file} ends after {N(headerSize + (long)filled)} of {N(headerSize + size)} bytes of {kind} data", help);
            filled += n;
        }
        // Reading one byte more also makes inflate check the gzip trailer (CRC and length).
        Span<byte> extra = stackalloc byte[1];
        if (source.Read(extra) != 0)
            throw new DataException(DataException.Malformed, path,
                $"{file} has more data than the {N(headerSize + size)} bytes its header announces", help);
        return (dims, data);
    }

    private static string TypeName(byte type) => type switch
    {
        0x09 => "signed byte",
        0x0B => "16-bit integer",
        0x0C => "32-bit integer",
        0x0D => "32-bit float",
        0x0E => "64-bit float",
        _ => "unknown type",
    };

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
