using Dlc.Backend;

namespace Dlc.Runtime.Data;

/// <summary>
/// Random changes to training images, sample by sample as a batch is gathered: torchvision's
/// RandomCrop(size = H×W, padding = p) (zero padding, in pixel values before normalisation) followed by
/// RandomHorizontalFlip(0.5). Samples are [C, H, W]. The draws come from a generator the trainer derives
/// from the seed and the epoch (<see cref="StartEpoch"/>), so a seed gives the same images every run, and a
/// run resumed at an epoch sees what it would have seen. Allocates nothing per sample.
/// </summary>
public sealed class ImageAugmentation
{
    private const ulong Stream = 0xA0_6E_47;
    private readonly int _padding;
    private readonly bool _flip;
    private readonly int _channels, _height, _width;
    private readonly float[] _plane;
    private readonly ulong _seed;
    private Rng _rng;

    /// <param name="sampleShape">[C, H, W].</param>
    public ImageAugmentation(int cropPadding, bool flip, int[] sampleShape, ulong seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(cropPadding);
        if (sampleShape.Length != 3) throw new ArgumentException($"images are [C, H, W], not [{string.Join(", ", sampleShape)}]", nameof(sampleShape));
        _padding = cropPadding;
        _flip = flip;
        (_channels, _height, _width) = (sampleShape[0], sampleShape[1], sampleShape[2]);
        _plane = new float[_height * _width];
        _seed = seed;
        _rng = new Rng(seed).Fork(Stream);
    }

    /// <summary>Draws of <paramref name="epoch"/> from here on: they depend on the seed and the epoch only.</summary>
    public void StartEpoch(int epoch) => _rng = new Rng(_seed).Fork(Stream).Fork((ulong)epoch);

    /// <summary>Crops and flips one sample in place; draws, in order, the crop's top, its left, then the flip.</summary>
    public void Apply(Span<float> sample)
    {
        var top = _padding > 0 ? _rng.NextInt(2 * _padding + 1) - _padding : 0;
        var left = _padding > 0 ? _rng.NextInt(2 * _padding + 1) - _padding : 0;
        var flip = _flip && (_rng.NextUInt64() >> 63) == 1;
        if (top == 0 && left == 0 && !flip) return;
        Transform(sample, _channels, _height, _width, top, left, flip, _plane);
    }

    /// <summary>
    /// out[c, y, x] = in[c, y + top, x' + left] with x' = W − 1 − x when flipped (else x), and 0 where that falls
    /// outside the image: a window of the zero-padded image shifted by (top, left), then mirrored.
    /// </summary>
    public static void Transform(Span<float> sample, int channels, int height, int width, int top, int left, bool flip, Span<float> plane)
    {
        var size = height * width;
        for (var c = 0; c < channels; c++)
        {
            var image = sample.Slice(c * size, size);
            image.CopyTo(plane);
            for (var y = 0; y < height; y++)
            {
                var row = image.Slice(y * width, width);
                var sy = y + top;
                if ((uint)sy >= (uint)height)
                {
                    row.Clear();
                    continue;
                }
                var source = plane.Slice(sy * width, width);
                for (var x = 0; x < width; x++)
                {
                    var sx = (flip ? width - 1 - x : x) + left;
                    row[x] = (uint)sx < (uint)width ? source[sx] : 0f;
                }
            }
        }
    }
}
