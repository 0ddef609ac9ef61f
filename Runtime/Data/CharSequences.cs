namespace Dlc.Runtime.Data;

/// <summary>
/// Text cut into training samples for a character-level language model: windows of T characters (the input,
/// token indices) and the T characters that follow each one (the targets, one per position). Windows follow
/// each other without overlap, so every character is predicted once per epoch.
/// </summary>
public static class CharSequences
{
    /// <summary>The windows of <paramref name="text"/>, encoded with <paramref name="vocabulary"/> (at most 255 characters).</summary>
    public static Dataset Windows(string name, string text, CharVocabulary vocabulary, int length, int classes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 1);
        if (vocabulary.Size > 256) throw new ArgumentException($"{vocabulary.Size} characters do not fit a byte", nameof(vocabulary));
        var count = Math.Max(0, (text.Length - 1) / length);
        var inputs = new byte[count * length];
        var targets = new float[count * length];
        for (var i = 0; i < inputs.Length; i++)
        {
            inputs[i] = (byte)vocabulary.Encode(text[i]);
            targets[i] = vocabulary.Encode(text[i + 1]);
        }
        return Dataset.FromByteSequences(name, inputs, [length], targets, length, classes);
    }

    /// <summary>
    /// Holds out a <paramref name="fraction"/> of the documents (rounded, at least one when the fraction is above 0)
    /// chosen by <paramref name="seed"/> alone; both parts keep the documents' order.
    /// </summary>
    public static (IReadOnlyList<T> Train, IReadOnlyList<T> Validation) SplitDocuments<T>(IReadOnlyList<T> documents, double fraction, ulong seed)
    {
        if (!(fraction >= 0 && fraction < 1)) throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "must be at least 0 and below 1");
        var order = Enumerable.Range(0, documents.Count).ToArray();
        // A stream of its own, as Dataset.Split's, so the split never shares draws with shuffling or initialisation.
        new Backend.Rng(seed).Fork(0x5EED_5B11).Shuffle(order);
        var held = fraction == 0 ? 0 : Math.Clamp((int)Math.Round(documents.Count * fraction, MidpointRounding.AwayFromZero), 1, documents.Count - 1);
        var validation = order[..held].Order().ToArray();
        var train = order[held..].Order().ToArray();
        return (train.Select(i => documents[i]).ToArray(), validation.Select(i => documents[i]).ToArray());
    }
}
