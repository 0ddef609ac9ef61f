using SkiaSharp;

namespace Dlc.Runtime.Explain;

/// <summary>
/// Attribution maps drawn over their input images as PNG. Signed methods use a diverging map (red for
/// evidence for the target, blue against); magnitudes (saliency, VarGrad, Grad-CAM) a black-red-yellow
/// one. The colour's opacity follows |attribution| relative to the largest in the image, so the image
/// shows through where the model did not look.
/// </summary>
public static class Heatmaps
{
    public const int Scale = 8;

    /// <summary>Input i of <paramref name="inputs"/> ([C, H, W] or [H, W] samples) with its attribution overlaid.</summary>
    public static SKBitmap Overlay(ReadOnlySpan<float> input, ReadOnlySpan<float> attribution, int[] sampleShape, bool signed)
    {
        var (c, h, w) = GradientMethods.ImageShape(sampleShape);
        var plane = h * w;
        var (lo, hi) = (float.PositiveInfinity, float.NegativeInfinity);
        foreach (var v in input)
        {
            lo = Math.Min(lo, v);
            hi = Math.Max(hi, v);
        }
        var range = hi > lo ? hi - lo : 1f;
        // One value per pixel: the channels' attributions summed (an image's channels carry one explanation).
        var map = new float[plane];
        for (var ch = 0; ch < c; ch++)
        {
            for (var p = 0; p < plane; p++) map[p] += attribution[ch * plane + p];
        }
        var peak = map.Select(MathF.Abs).DefaultIfEmpty().Max();
        if (peak == 0) peak = 1;
        var bitmap = new SKBitmap(new SKImageInfo(w * Scale, h * Scale, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        var pixels = bitmap.GetPixelSpan();
        for (var y = 0; y < h; y++)
        {
            for (var x = 0; x < w; x++)
            {
                var p = y * w + x;
                double r, g, b;
                if (c == 3)
                    (r, g, b) = ((input[p] - lo) / range, (input[plane + p] - lo) / range, (input[2 * plane + p] - lo) / range);
                else
                    r = g = b = (input[p] - lo) / range;
                var (cr, cg, cb, alpha) = Colour(map[p] / peak, signed);
                var pixel = (
                    R: (byte)Math.Round(255 * ((1 - alpha) * r * 0.85 + alpha * cr)),
                    G: (byte)Math.Round(255 * ((1 - alpha) * g * 0.85 + alpha * cg)),
                    B: (byte)Math.Round(255 * ((1 - alpha) * b * 0.85 + alpha * cb)));
                for (var dy = 0; dy < Scale; dy++)
                {
                    for (var dx = 0; dx < Scale; dx++)
                    {
                        var o = 4 * ((y * Scale + dy) * w * Scale + x * Scale + dx);
                        (pixels[o], pixels[o + 1], pixels[o + 2], pixels[o + 3]) = (pixel.R, pixel.G, pixel.B, 255);
                    }
                }
            }
        }
        return bitmap;
    }

    /// <summary>The input image alone, at the same scale as its overlay.</summary>
    public static SKBitmap Image(ReadOnlySpan<float> input, int[] sampleShape) =>
        Overlay(input, new float[input.Length], sampleShape, signed: true);

    /// <summary>
    /// Rows of (image, overlay) pairs, <paramref name="pairsPerRow"/> pairs to a row, with a gap between pairs.
    /// </summary>
    public static SKBitmap Grid(IReadOnlyList<(SKBitmap Image, SKBitmap Overlay)> pairs, int pairsPerRow = 4)
    {
        const int gap = 8;
        var (tw, th) = (pairs[0].Image.Width, pairs[0].Image.Height);
        var columns = Math.Min(pairsPerRow, pairs.Count);
        var rows = (pairs.Count + columns - 1) / columns;
        var bitmap = new SKBitmap(new SKImageInfo(columns * (2 * tw + gap) + gap, rows * (th + gap) + gap, SKColorType.Rgba8888, SKAlphaType.Premul));
        using var canvas = new SKCanvas(bitmap);
        canvas.Clear(SKColors.White);
        for (var i = 0; i < pairs.Count; i++)
        {
            var (x, y) = (gap + i % columns * (2 * tw + gap), gap + i / columns * (th + gap));
            canvas.DrawBitmap(pairs[i].Image, x, y);
            canvas.DrawBitmap(pairs[i].Overlay, x + tw, y);
        }
        return bitmap;
    }

    public static byte[] Png(SKBitmap bitmap)
    {
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    /// <summary>Colour and opacity for a value in [−1, 1] (signed) or [0, 1].</summary>
    private static (double R, double G, double B, double Alpha) Colour(double v, bool signed)
    {
        var m = Math.Min(1, Math.Abs(v));
        if (signed)
            return v >= 0 ? (1, 0.15, 0.1, 0.85 * Math.Sqrt(m)) : (0.1, 0.35, 1, 0.85 * Math.Sqrt(m));
        // black → red → yellow as the magnitude grows.
        var (r, g) = m < 0.5 ? (2 * m, 0.0) : (1.0, 2 * (m - 0.5));
        return (r, g, 0, 0.9 * Math.Sqrt(m));
    }
}
