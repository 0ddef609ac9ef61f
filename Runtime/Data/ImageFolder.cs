using SkiaSharp;

namespace Dlc.Runtime.Data;

/// <summary>
/// A folder of images with one sub-folder per class, as torchvision's ImageFolder reads it: classes are the
/// sub-folder names sorted ordinally (class i is the i-th), samples the PNG and JPEG files under each
/// (searched recursively, sorted by path), decoded with Skia. Each image is converted to grey (PIL's
/// ITU-R 601 luma, L = (19595·R + 38470·G + 7471·B + 2^15) >> 16) or RGB, alpha dropped, and resized to the
/// requested size with bilinear filtering when it differs. Pixels are kept as bytes [N, C, H, W] and scaled
/// to [0, 1] when gathered.
/// </summary>
public static class ImageFolder
{
    public static readonly IReadOnlyList<string> Extensions = [".png", ".jpg", ".jpeg"];

    private static readonly byte[] PngMagic = [0x89, (byte)'P', (byte)'N', (byte)'G'];
    private static readonly byte[] JpegMagic = [0xFF, 0xD8, 0xFF];

    /// <param name="classes">The classes of the training folder, for a test folder; null reads them from <paramref name="root"/>.</param>
    public static Dataset Load(string root, int channels, int height, int width, IReadOnlyList<string>? classes = null)
    {
        if (channels is not (1 or 3)) throw new ArgumentOutOfRangeException(nameof(channels), channels, "1 or 3");
        if (!Directory.Exists(root))
            throw new DataException(DataException.NotFound, root, File.Exists(root) ? $"{root} is a file, not a folder of class folders" : $"{root} does not exist");
        var folders = Directory.GetDirectories(root).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToArray();
        if (folders.Length == 0)
            throw new DataException(DataException.Malformed, root, $"{root} has no class folders",
                "an image folder holds one sub-folder per class, e.g. train/shirt/001.png, train/shoe/002.jpg");
        classes ??= folders;
        var files = new List<(string Path, int Label)>();
        foreach (var folder in folders)
        {
            var label = IndexOf(classes, folder);
            if (label < 0)
                throw new DataException(DataException.Malformed, Path.Combine(root, folder),
                    $"{Path.Combine(root, folder)} is a class the training images do not have (they have {string.Join(", ", classes)})");
            var images = Directory.EnumerateFiles(Path.Combine(root, folder), "*", SearchOption.AllDirectories)
                .Where(f => Extensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
                .Order(StringComparer.Ordinal)
                .ToArray();
            if (images.Length == 0 && ReferenceEquals(classes, folders))
                throw new DataException(DataException.Malformed, Path.Combine(root, folder),
                    $"the class folder {Path.Combine(root, folder)} has no PNG or JPEG images", "remove the folder or add its images");
            files.AddRange(images.Select(f => (f, label)));
        }

        var size = channels * height * width;
        if ((long)size * files.Count > Array.MaxLength)
            throw new DataException(DataException.Malformed, root, $"{root} holds {files.Count:N0} images of {size:N0} bytes, more than dlc can hold in memory");
        var pixels = new byte[size * files.Count];
        var errors = new DataException?[files.Count];
        Parallel.For(0, files.Count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
        {
            try
            {
                Decode(files[i].Path, channels, height, width, pixels.AsSpan(i * size, size), Show(root, files[i].Path));
            }
            catch (DataException e)
            {
                errors[i] = e;
            }
        });
        // The first bad file in the folder's order, whatever order the threads met them in.
        if (errors.FirstOrDefault(e => e is not null) is { } error) throw error;
        var labels = files.Select(f => (float)f.Label).ToArray();
        return Dataset.FromBytes(Path.GetFileName(Path.TrimEndingDirectorySeparator(root)), pixels, 1f / 255, [channels, height, width],
            labels, classes.Count, classes);
    }

    /// <summary>Decodes one image into <paramref name="target"/>, [C, H, W] bytes; <paramref name="shown"/> names it in errors.</summary>
    public static void Decode(string path, int channels, int height, int width, Span<byte> target, string? shown = null)
    {
        var name = shown ?? path;
        byte[] encoded;
        try
        {
            encoded = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataException(DataException.Malformed, path, $"{name} cannot be read: {e.Message}", null, e);
        }
        using var data = SKData.CreateCopy(encoded);
        using var codec = SKCodec.Create(data);
        if (codec is null)
        {
            var format = encoded.AsSpan().StartsWith(PngMagic) ? "PNG" : encoded.AsSpan().StartsWith(JpegMagic) ? "JPEG" : null;
            throw new DataException(DataException.Malformed, path, format is null
                ? $"{name} is not a PNG or JPEG image that can be decoded ({encoded.Length:N0} bytes)"
                : $"{name} starts as a {format} image but cannot be decoded: it is cut short or corrupt ({encoded.Length:N0} bytes)");
        }
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var decoded = new SKBitmap(info);
        var result = codec.GetPixels(info, decoded.GetPixels());
        if (result == SKCodecResult.IncompleteInput)
            throw new DataException(DataException.Truncated, path, $"{name} ends before its image data is complete ({encoded.Length:N0} bytes)");
        if (result != SKCodecResult.Success)
            throw new DataException(DataException.Malformed, path, $"{name} cannot be decoded: {Describe(result)}");

        var bitmap = decoded;
        SKBitmap? resized = null;
        if (info.Width != width || info.Height != height)
        {
            resized = decoded.Resize(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul),
                new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear))
                ?? throw new DataException(DataException.Malformed, path, $"{name} could not be resized to {width}×{height}");
            bitmap = resized;
        }
        using (resized)
        {
            var rgba = bitmap.GetPixelSpan();
            var plane = height * width;
            for (var p = 0; p < plane; p++)
            {
                int r = rgba[4 * p], g = rgba[4 * p + 1], b = rgba[4 * p + 2];
                if (channels == 1)
                    target[p] = (byte)((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16);
                else
                {
                    target[p] = (byte)r;
                    target[plane + p] = (byte)g;
                    target[2 * plane + p] = (byte)b;
                }
            }
        }
    }

    private static int IndexOf(IReadOnlyList<string> classes, string name)
    {
        for (var i = 0; i < classes.Count; i++)
        {
            if (string.Equals(classes[i], name, StringComparison.Ordinal)) return i;
        }
        return -1;
    }

    private static string Describe(SKCodecResult result) => result switch
    {
        SKCodecResult.ErrorInInput => "its data is corrupt",
        SKCodecResult.InvalidInput => "it holds no valid image",
        _ => result.ToString(),
    };

    /// <summary>A file as the user knows it: from the folder that holds the image folder, `train/shirt/001.png`.</summary>
    private static string Show(string root, string path) =>
        Path.GetRelativePath(Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(root))) ?? ".", path);
}
