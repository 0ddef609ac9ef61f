using System.IO.Compression;
using TorchSharp;
using static TorchSharp.torch;

namespace PeerBench;

/// <summary>Loads the data: Fashion-MNIST (IDX, gzip) and a plain-text file.</summary>
static class Data
{
    public const string FashionDir = "/usr/share/datasets/fashion-mnist";

    /// <summary>Images as float32 [N, 784] scaled to [0,1], labels as int64 [N].</summary>
    public static (Tensor X, Tensor Y) Fashion(string dir, bool train)
    {
        string prefix = train ? "train" : "t10k";
        byte[] img = ReadIdx(Path.Combine(dir, $"{prefix}-images-idx3-ubyte.gz"), out int[] idims);
        byte[] lbl = ReadIdx(Path.Combine(dir, $"{prefix}-labels-idx1-ubyte.gz"), out int[] ldims);
        int n = idims[0], d = idims[1] * idims[2];
        if (ldims[0] != n) throw new InvalidDataException("image/label count mismatch");
        var pixels = new float[img.Length];
        for (int i = 0; i < img.Length; i++) pixels[i] = img[i] / 255f;
        var labels = new long[n];
        for (int i = 0; i < n; i++) labels[i] = lbl[i];
        return (tensor(pixels, new long[] { n, d }), tensor(labels));
    }

    /// <summary>IDX file: big-endian magic (0x00 0x00 type ndims), ndims big-endian int32 sizes, then unsigned bytes.</summary>
    static byte[] ReadIdx(string path, out int[] dims)
    {
        using var gz = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        using var ms = new MemoryStream();
        gz.CopyTo(ms);
        byte[] all = ms.GetBuffer();
        int len = (int)ms.Length;
        if (all[0] != 0 || all[1] != 0 || all[2] != 0x08) throw new InvalidDataException($"{path}: not an unsigned-byte IDX file");
        int nd = all[3];
        dims = new int[nd];
        for (int i = 0; i < nd; i++)
            dims[i] = (all[4 + 4 * i] << 24) | (all[5 + 4 * i] << 16) | (all[6 + 4 * i] << 8) | all[7 + 4 * i];
        int header = 4 + 4 * nd;
        return all.AsSpan(header, len - header).ToArray();
    }

    /// <summary>A UTF-8 text file whole, as dlc's `textCorpus { path }` reads it.</summary>
    public static string Text(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such text file (bench/brown-slice writes the Brown slice)", path);
        string text = File.ReadAllText(path, System.Text.Encoding.UTF8);
        if (text.Length == 0) throw new InvalidDataException($"{path} is empty");
        return text;
    }
}
