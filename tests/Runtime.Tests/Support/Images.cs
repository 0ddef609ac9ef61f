using SkiaSharp;

namespace Dlc.Tests.Support;

/// <summary>Writes small PNG and JPEG files for tests (also linked into the CLI tests).</summary>
public static class Images
{
    /// <summary>An image whose pixel (x, y) is <paramref name="color"/>(x, y), encoded as PNG or JPEG by the file's extension.</summary>
    public static void Write(string path, int width, int height, Func<int, int, SKColor> color)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++) bitmap.SetPixel(x, y, color(x, y));
        }
        var format = Path.GetExtension(path).ToLowerInvariant() is ".jpg" or ".jpeg" ? SKEncodedImageFormat.Jpeg : SKEncodedImageFormat.Png;
        using var data = bitmap.Encode(format, 95);
        File.WriteAllBytes(path, data.ToArray());
    }

    /// <summary>A grey image from bytes, row-major.</summary>
    public static void WriteGrey(string path, int width, int height, ReadOnlySpan<byte> pixels)
    {
        var copy = pixels.ToArray();
        Write(path, width, height, (x, y) => new SKColor(copy[y * width + x], copy[y * width + x], copy[y * width + x]));
    }
}
