using SkiaSharp;

namespace Dlc.Runtime.Explain;

/// <summary>
/// A horizontal bar chart of feature importances, largest first, each with an error bar of ± its spread
/// (the standard deviation over permutation repeats, or over the explained inputs), drawn with SkiaSharp.
/// </summary>
public static class BarChart
{
    public static byte[] Png(string title, IReadOnlyList<string> names, IReadOnlyList<double> values, IReadOnlyList<double> spreads, int maxBars = 30)
    {
        var order = Enumerable.Range(0, values.Count).OrderByDescending(i => values[i]).Take(maxBars).ToArray();
        const int rowHeight = 22, left = 170, right = 40, top = 44, bottom = 36, plotWidth = 520;
        var (width, height) = (left + plotWidth + right, top + order.Length * rowHeight + bottom);
        var lo = Math.Min(0, order.Min(i => values[i] - spreads[i]));
        var hi = Math.Max(order.Max(i => values[i] + spreads[i]), lo + 1e-12);
        float X(double v) => (float)(left + (v - lo) / (hi - lo) * plotWidth);

        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        using var canvas = new SKCanvas(bitmap);
        canvas.Clear(SKColors.White);
        using var typeface = SKTypeface.FromFamilyName("DejaVu Sans") ?? SKTypeface.Default;
        using var font = new SKFont(typeface, 13);
        using var titleFont = new SKFont(typeface, 15);
        using var text = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        using var bar = new SKPaint { Color = new SKColor(70, 120, 190), IsAntialias = true };
        using var line = new SKPaint { Color = new SKColor(40, 40, 40), StrokeWidth = 1.5f, IsAntialias = true, Style = SKPaintStyle.Stroke };
        using var axis = new SKPaint { Color = new SKColor(150, 150, 150), StrokeWidth = 1, Style = SKPaintStyle.Stroke };

        canvas.DrawText(title, 10, 24, titleFont, text);
        for (var r = 0; r < order.Length; r++)
        {
            var i = order[r];
            var y = top + r * rowHeight;
            canvas.DrawText(names[i], left - 8, y + 15, SKTextAlign.Right, font, text);
            var (x0, x1) = (X(Math.Min(0, values[i])), X(Math.Max(0, values[i])));
            canvas.DrawRect(new SKRect(x0, y + 3, Math.Max(x1, x0 + 1), y + rowHeight - 3), bar);
            if (spreads[i] > 0)
            {
                var (e0, e1, mid) = (X(values[i] - spreads[i]), X(values[i] + spreads[i]), y + rowHeight / 2f);
                canvas.DrawLine(e0, mid, e1, mid, line);
                canvas.DrawLine(e0, mid - 5, e0, mid + 5, line);
                canvas.DrawLine(e1, mid - 5, e1, mid + 5, line);
            }
        }
        var zero = X(0);
        var baseY = top + order.Length * rowHeight;
        canvas.DrawLine(zero, top - 4, zero, baseY, axis);
        canvas.DrawLine(left, baseY, left + plotWidth, baseY, axis);
        foreach (var tick in new[] { lo, (lo + hi) / 2, hi })
            canvas.DrawText(tick.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture), X(tick), baseY + 18, SKTextAlign.Center, font, text);
        return Heatmaps.Png(bitmap);
    }
}
