using System.Buffers.Binary;
using System.IO.Compression;

namespace Dlc.Cli.Tests.Support;

/// <summary>
/// A .dl file with a small classifier and IDX data it can learn in a fraction of a second: 8×8 images
/// of four classes, where class c is a bright quadrant c on a dim noisy background. The classes are
/// linearly separable, so a model that trains at all classifies the test set almost perfectly.
/// </summary>
public sealed class TinyProject : IDisposable
{
    public const int TrainCount = 256;
    public const int TestCount = 64;

    public const string Model = """
        model Tiny (image: Tensor[N, 64]) : Tensor[N, 4] =
            image
            |> dense 16 |> relu
            |> dense 4
        """;

    public TinyProject(string? extraDataFields = null)
    {
        WriteIdx(Folder["train-images.idx"], Folder["train-labels.idx"], TrainCount, seed: 1);
        WriteIdx(Folder["test-images.idx"], Folder["test-labels.idx"], TestCount, seed: 2);
        DlFile = Folder.Write("tiny.dl", Source(extraDataFields));
    }

    public TempFolder Folder { get; } = new();

    public string DlFile { get; }

    /// <summary>A path in the project folder, e.g. for `--out`.</summary>
    public string this[string name] => Folder[name];

    /// <param name="extraFields">More fields of the train record, one per line, e.g. `clip = 1.0`.</param>
    public static string Source(string? extraDataFields = null, string images = "train-images.idx", string? extraFields = null) => $$"""
        {{Model}}

        train Tiny {
            data      = idx { images = "{{images}}"; labels = "train-labels.idx"; testImages = "test-images.idx"; testLabels = "test-labels.idx"{{extraDataFields}} }
            loss      = crossEntropy
            optimizer = adam { lr = 1e-2 }
            epochs    = 2
            batch     = 32
            seed      = 42
            {{extraFields}}
        }
        """;

    /// <summary>Writes another .dl file into the project folder (so it finds the same data).</summary>
    public string WriteDl(string name, string text) => Folder.Write(name, text);

    public static void WriteIdx(string imagesPath, string labelsPath, int count, int seed)
    {
        var random = new Lcg((ulong)seed);
        var pixels = new byte[count * 64];
        var labels = new byte[count];
        for (var i = 0; i < count; i++)
        {
            var label = i % 4;
            labels[i] = (byte)label;
            for (var p = 0; p < 64; p++)
            {
                var quadrant = p / 32 * 2 + p % 8 / 4;
                pixels[i * 64 + p] = (byte)(quadrant == label ? 180 + random.Next(76) : random.Next(41));
            }
        }
        File.WriteAllBytes(imagesPath, Idx(0x803, [count, 8, 8], pixels));
        File.WriteAllBytes(labelsPath, Idx(0x801, [count], labels));
    }

    /// <summary>An IDX file: big-endian magic, big-endian sizes, then the bytes.</summary>
    public static byte[] Idx(int magic, int[] dims, byte[] data)
    {
        var bytes = new byte[4 + 4 * dims.Length + data.Length];
        BinaryPrimitives.WriteInt32BigEndian(bytes, magic);
        for (var d = 0; d < dims.Length; d++) BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * d), dims[d]);
        data.CopyTo(bytes, 4 + 4 * dims.Length);
        return bytes;
    }

    /// <summary>Writes the first <paramref name="count"/> samples of a gzip IDX file as a new gzip IDX file.</summary>
    public static void TakeGzipIdx(string source, string destination, int count)
    {
        using var input = new GZipStream(File.OpenRead(source), CompressionMode.Decompress);
        var magic = new byte[4];
        input.ReadExactly(magic);
        var rank = magic[3];
        var header = new byte[4 * rank];
        input.ReadExactly(header);
        var dims = Enumerable.Range(0, rank).Select(d => BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(4 * d))).ToArray();
        var sampleSize = dims.Skip(1).Aggregate(1, (a, b) => a * b);
        dims[0] = count;
        var data = new byte[count * sampleSize];
        input.ReadExactly(data);
        using var output = new GZipStream(File.Create(destination), CompressionLevel.Fastest);
        output.Write(Idx(BinaryPrimitives.ReadInt32BigEndian(magic), dims, data));
    }

    public void Dispose() => Folder.Dispose();

    /// <summary>A fixed pseudo-random sequence, so the data are the same on every machine.</summary>
    private sealed class Lcg(ulong state)
    {
        public int Next(int bound)
        {
            state = state * 6364136223846793005UL + 1442695040888963407UL;
            return (int)((state >> 33) % (ulong)bound);
        }
    }
}
