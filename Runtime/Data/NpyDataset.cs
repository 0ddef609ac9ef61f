using System.Globalization;

namespace Dlc.Runtime.Data;

/// <summary>
/// A data set from two .npy files: samples [N, ...] and labels [N] (or [N, 1]). uint8 samples are pixels,
/// scaled to [0, 1] as torchvision's ToTensor does; other types are taken as they are. Integer labels, or
/// float labels that are whole numbers, are class indices for classification; otherwise they are targets.
/// </summary>
public static class NpyDataset
{
    /// <param name="sampleShape">The model's sample shape; images stored channels-last, [N, H, W, C] as image
    /// arrays often are, are laid out as the model's [C, H, W].</param>
    public static Dataset Load(string imagesPath, string labelsPath, bool classification, int[] sampleShape)
    {
        var labelsTask = Task.Run(() => NpyReader.Read(labelsPath));
        NpyArray images;
        try
        {
            images = NpyReader.Read(imagesPath);
        }
        catch
        {
            try { labelsTask.Wait(); } catch (AggregateException) { }
            throw;
        }
        var labelArray = labelsTask.GetAwaiter().GetResult();
        var imagesFile = Path.GetFileName(imagesPath);
        var labelsFile = Path.GetFileName(labelsPath);
        if (images.Shape.Length < 2)
            throw new DataException(DataException.Malformed, imagesPath,
                $"{imagesFile} has shape ({images.Shape[0]},): one number per sample; samples are the rows of an array of at least two axes",
                "reshape it to (N, 1) for one feature per sample");
        if (labelArray.Shape.Length > 2 || labelArray.Shape.Length == 2 && labelArray.Shape[1] != 1)
            throw new DataException(DataException.Malformed, labelsPath,
                $"{labelsFile} has shape ({string.Join(", ", labelArray.Shape)}); labels are one number per sample, shape (N,)");
        if (labelArray.Shape[0] != images.Shape[0])
            throw new DataException(DataException.Malformed, labelsPath,
                $"{labelsFile} has {N(labelArray.Shape[0])} labels but {imagesFile} has {N(images.Shape[0])} samples");

        var labels = labelArray.Floats ?? labelArray.Bytes!.Select(b => (float)b).ToArray();
        var classes = 0;
        if (classification)
        {
            for (var i = 0; i < labels.Length; i++)
            {
                var label = labels[i];
                if (!(label >= 0) || label != MathF.Floor(label) || label > 1 << 20)
                    throw new DataException(DataException.Malformed, labelsPath,
                        $"{labelsFile}: label {label.ToString(CultureInfo.InvariantCulture)} of sample {N(i)} is not a class index (0, 1, 2, ...)",
                        "crossEntropy needs whole-number class labels; use `loss = mse` for continuous targets");
                classes = Math.Max(classes, (int)label + 1);
            }
        }

        var shape = images.Shape[1..];
        var bytes = images.Bytes;
        var floats = images.Floats;
        if (IsChannelsLast(shape, sampleShape))
        {
            (bytes, floats) = (bytes is null ? null : ToChannelsFirst(bytes, shape), floats is null ? null : ToChannelsFirst(floats, shape));
            shape = [shape[2], shape[0], shape[1]];
        }
        return bytes is not null
            ? Dataset.FromBytes(imagesFile, bytes, 1f / 255, shape, labels, classes)
            : Dataset.FromFloats(imagesFile, floats!, shape, labels, classes);
    }

    private static bool IsChannelsLast(int[] shape, int[] model) =>
        shape.Length == 3 && model.Length == 3 && !shape.SequenceEqual(model)
        && shape[0] == model[1] && shape[1] == model[2] && shape[2] == model[0];

    /// <summary>[N, H, W, C] → [N, C, H, W].</summary>
    private static T[] ToChannelsFirst<T>(T[] data, int[] sample)
    {
        var (h, w, c) = (sample[0], sample[1], sample[2]);
        var size = h * w * c;
        var result = new T[data.Length];
        for (var n = 0; n < data.Length / size; n++)
        {
            var from = data.AsSpan(n * size, size);
            var to = result.AsSpan(n * size, size);
            for (var y = 0; y < h; y++)
            {
                for (var x = 0; x < w; x++)
                {
                    for (var ch = 0; ch < c; ch++) to[(ch * h + y) * w + x] = from[(y * w + x) * c + ch];
                }
            }
        }
        return result;
    }

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
