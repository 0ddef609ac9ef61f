using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dlc.Runtime.Data;

namespace Dlc.Runtime.Checkpoints;

/// <summary>
/// A checkpoint is a folder with two safetensors files:
/// <list type="bullet">
/// <item><c>model.safetensors</c>: the parameters, readable by any safetensors tool, with metadata
/// format, format_version, model, source_sha256 and step;</item>
/// <item><c>model.state.safetensors</c>: the optimizer tensors, with the rest of the training state
/// (step, epoch, batch, rng, source_sha256, train_settings as JSON, the best validation loss so far) in its metadata.</item>
/// </list>
/// A run with a validation set also keeps <c>best.safetensors</c>, the parameters of its best epoch.
/// The sidecar is safetensors rather than JSON because optimizer state is as large as the model
/// and must round-trip bit for bit. Each file is replaced atomically; the sidecar is written first
/// and both carry the step, so a save interrupted between the two is detected on load.
/// </summary>
public static class Checkpoint
{
    public const string ModelFileName = "model.safetensors";
    public const string StateFileName = "model.state.safetensors";
    public const string BestFileName = "best.safetensors";
    public const string Format = "dlc";
    public const string FormatVersion = "1";

    public static void Save(string directory, CheckpointState state)
    {
        try
        {
            Directory.CreateDirectory(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataException(DataException.WriteFailed, directory, $"could not create the checkpoint folder {directory}: {e.Message}", null, e);
        }
        var step = state.Step.ToString(CultureInfo.InvariantCulture);
        SafeTensors.Write(Path.Combine(directory, StateFileName), state.OptimizerState, new Dictionary<string, string>
        {
            ["format"] = Format + "-training-state",
            ["format_version"] = FormatVersion,
            ["source_sha256"] = state.SourceHash,
            ["step"] = step,
            ["epoch"] = state.Epoch.ToString(CultureInfo.InvariantCulture),
            ["batch"] = state.BatchInEpoch.ToString(CultureInfo.InvariantCulture),
            ["rng"] = string.Join(",", state.RngState.Select(w => w.ToString("x16", CultureInfo.InvariantCulture))),
            ["train_settings"] = SettingsJson(state.TrainSettings),
            ["best_epoch"] = state.Validation.BestEpoch.ToString(CultureInfo.InvariantCulture),
            ["best_val_loss"] = state.Validation.BestLoss.ToString("R", CultureInfo.InvariantCulture),
            ["reference_val_loss"] = state.Validation.ReferenceLoss.ToString("R", CultureInfo.InvariantCulture),
            ["stale_epochs"] = state.Validation.StaleEpochs.ToString(CultureInfo.InvariantCulture),
        });
        SafeTensors.Write(Path.Combine(directory, ModelFileName), state.Parameters, WithVocabulary(state, new Dictionary<string, string>
        {
            ["format"] = Format,
            ["format_version"] = FormatVersion,
            ["model"] = state.ModelName,
            ["source_sha256"] = state.SourceHash,
            ["step"] = step,
        }));
    }

    /// <summary>The characters a character-level model was trained with (metadata `vocabulary`), or null for other models.</summary>
    public static string? LoadVocabulary(string path) =>
        SafeTensorsFile.Read(ModelPath(path)).Metadata.TryGetValue("vocabulary", out var characters) ? characters : null;

    /// <summary>The words a word-level model was trained with (metadata `words`), or null for other models.</summary>
    public static string? LoadWords(string path) =>
        SafeTensorsFile.Read(ModelPath(path)).Metadata.TryGetValue("words", out var words) ? words : null;

    /// <summary>The tokenizer and tokens a BPE model was trained with (metadata `tokens`), or null for other models.</summary>
    public static string? LoadTokens(string path) =>
        SafeTensorsFile.Read(ModelPath(path)).Metadata.TryGetValue("tokens", out var tokens) ? tokens : null;

    private static Dictionary<string, string> WithVocabulary(CheckpointState state, Dictionary<string, string> metadata)
    {
        if (state.Tokens is { } tokens) metadata["tokens"] = tokens;
        if (state.Vocabulary is { } characters) metadata["vocabulary"] = characters;
        if (state.Words is { } words) metadata["words"] = words;
        return metadata;
    }

    /// <summary>
    /// Loads a full training state from a checkpoint folder or its model.safetensors, and checks the
    /// parameters against <paramref name="expected"/> when given (DL0904 on a mismatch).
    /// </summary>
    public static CheckpointState Load(string path, IReadOnlyList<ParameterSpec>? expected = null)
    {
        var modelPath = ModelPath(path);
        var model = SafeTensorsFile.Read(modelPath);
        var parameters = Parameters(model, expected);
        var statePath = StatePath(modelPath);
        if (!File.Exists(statePath))
            throw new DataException(DataException.NotFound, statePath,
                $"{statePath} does not exist, so training cannot resume from {Path.GetFileName(modelPath)}",
                "a checkpoint without its training state can still be evaluated, or used to start a new run");
        var state = SafeTensorsFile.Read(statePath);
        CheckVersion(state);
        var meta = state.Metadata;
        var modelStep = model.Metadata.GetValueOrDefault("step");
        if (modelStep != meta.GetValueOrDefault("step") || model.Metadata.GetValueOrDefault("source_sha256") != meta.GetValueOrDefault("source_sha256"))
            throw new DataException(DataException.CheckpointUnreadable, statePath,
                $"{Path.GetFileName(statePath)} is from step {meta.GetValueOrDefault("step") ?? "?"} but {Path.GetFileName(modelPath)} is from step {modelStep ?? "?"}; the save that wrote them was interrupted",
                "resume from an earlier checkpoint, or evaluate model.safetensors on its own");
        return new CheckpointState
        {
            ModelName = model.Metadata.GetValueOrDefault("model") ?? "",
            SourceHash = meta.GetValueOrDefault("source_sha256") ?? "",
            Parameters = parameters,
            OptimizerState = state.Tensors(),
            Step = Number(state, "step", long.Parse),
            Epoch = Number(state, "epoch", int.Parse),
            BatchInEpoch = Number(state, "batch", int.Parse),
            RngState = Number(state, "rng", (text, style, culture) => text.Length == 0
                ? []
                : text.Split(',').Select(w => ulong.Parse(w, NumberStyles.AllowHexSpecifier, culture)).ToArray()),
            TrainSettings = Number(state, "train_settings", (text, _, _) => ParseSettings(text)),
            Validation = meta.ContainsKey("best_epoch")
                ? new ValidationRecord(
                    Number(state, "best_epoch", int.Parse),
                    Number(state, "best_val_loss", (text, _, culture) => double.Parse(text, NumberStyles.Float, culture)),
                    Number(state, "reference_val_loss", (text, _, culture) => double.Parse(text, NumberStyles.Float, culture)),
                    Number(state, "stale_epochs", int.Parse))
                : ValidationRecord.None,
            Vocabulary = model.Metadata.GetValueOrDefault("vocabulary"),
            Words = model.Metadata.GetValueOrDefault("words"),
            Tokens = model.Metadata.GetValueOrDefault("tokens"),
        };
    }

    /// <summary>
    /// Writes the parameters of the best epoch so far as best.safetensors beside model.safetensors, atomically,
    /// with the epoch and its validation loss in the metadata. It has no training state: it is for `dlc eval`
    /// and for starting new runs, not for resuming.
    /// </summary>
    public static void SaveBest(string directory, CheckpointState state)
    {
        SafeTensors.Write(Path.Combine(directory, BestFileName), state.Parameters, WithVocabulary(state, new Dictionary<string, string>
        {
            ["format"] = Format,
            ["format_version"] = FormatVersion,
            ["model"] = state.ModelName,
            ["source_sha256"] = state.SourceHash,
            ["step"] = state.Step.ToString(CultureInfo.InvariantCulture),
            ["epoch"] = state.Epoch.ToString(CultureInfo.InvariantCulture),
            ["val_loss"] = state.Validation.BestLoss.ToString("R", CultureInfo.InvariantCulture),
        }));
    }

    /// <summary>
    /// Loads only the parameters (for evaluation or fine-tuning), from a checkpoint folder or any
    /// safetensors file, checked against <paramref name="expected"/> when given.
    /// </summary>
    public static IReadOnlyList<NamedTensor> LoadParameters(string path, IReadOnlyList<ParameterSpec>? expected = null) =>
        Parameters(SafeTensorsFile.Read(ModelPath(path)), expected);

    /// <summary>
    /// Checks that <paramref name="actual"/> holds exactly the expected parameters with the expected
    /// shapes; DL0904 names the first one that differs (in the model's order).
    /// </summary>
    public static void CheckFits(string path, IReadOnlyList<NamedTensor> actual, IReadOnlyList<ParameterSpec> expected, string? sourceHash = null)
    {
        var file = Path.GetFileName(path);
        var byName = actual.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var help = "the checkpoint was saved from a different model"
            + (string.IsNullOrEmpty(sourceHash) ? "" : $" (source sha256 {sourceHash[..Math.Min(12, sourceHash.Length)]}…)")
            + "; use the .dl file it was trained from, or train afresh";
        foreach (var spec in expected)
        {
            if (!byName.TryGetValue(spec.Name, out var tensor))
                throw new DataException(DataException.CheckpointMismatch, path,
                    $"{file} has no parameter '{spec.Name}', which the model expects with shape {NamedTensor.FormatShape(spec.Shape)}", help);
            if (!tensor.Shape.AsSpan().SequenceEqual(spec.Shape))
                throw new DataException(DataException.CheckpointMismatch, path,
                    $"parameter '{spec.Name}' has shape {NamedTensor.FormatShape(spec.Shape)} in the model but {tensor.ShapeText} in {file}", help);
        }
        var names = expected.Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
        if (actual.FirstOrDefault(t => !names.Contains(t.Name)) is { } extra)
            throw new DataException(DataException.CheckpointMismatch, path,
                $"{file} has parameter '{extra.Name}' with shape {extra.ShapeText}, which the model does not have", help);
    }

    /// <summary>SHA-256 of the .dl source text (UTF-8), lowercase hex, as stored in checkpoints.</summary>
    public static string HashSource(string source) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(source)));

    /// <summary>The sidecar of a parameters file: model.safetensors → model.state.safetensors.</summary>
    public static string StatePath(string modelPath)
    {
        var name = Path.GetFileName(modelPath);
        var stem = name.EndsWith(".safetensors", StringComparison.Ordinal) ? name[..^".safetensors".Length] : name;
        return Path.Combine(Path.GetDirectoryName(modelPath) ?? "", stem + ".state.safetensors");
    }

    private static string ModelPath(string path)
    {
        if (Directory.Exists(path)) return Path.Combine(path, ModelFileName);
        if (File.Exists(path)) return path;
        throw new DataException(DataException.NotFound, path, $"the checkpoint {path} does not exist",
            $"give a checkpoint folder or its {ModelFileName}");
    }

    private static IReadOnlyList<NamedTensor> Parameters(SafeTensorsFile model, IReadOnlyList<ParameterSpec>? expected)
    {
        // Files from other tools carry no dlc metadata and are accepted; a newer dlc format is not.
        if (model.Metadata.ContainsKey("format_version")) CheckVersion(model);
        var tensors = model.Tensors();
        if (expected is not null) CheckFits(model.FilePath, tensors, expected, model.Metadata.GetValueOrDefault("source_sha256"));
        return tensors;
    }

    private static void CheckVersion(SafeTensorsFile file)
    {
        var version = file.Metadata.GetValueOrDefault("format_version");
        if (version != FormatVersion)
            throw new DataException(DataException.CheckpointUnreadable, file.FilePath,
                version is null
                    ? $"{Path.GetFileName(file.FilePath)} has no format_version in its metadata; it was not written by dlc"
                    : $"{Path.GetFileName(file.FilePath)} has checkpoint format version {version}; this dlc reads version {FormatVersion}",
                version is null ? null : "use the dlc version that wrote it");
    }

    private static T Number<T>(SafeTensorsFile file, string key, Func<string, NumberStyles, IFormatProvider, T> parse)
    {
        var name = Path.GetFileName(file.FilePath);
        if (!file.Metadata.TryGetValue(key, out var text))
            throw new DataException(DataException.CheckpointUnreadable, file.FilePath, $"{name} has no '{key}' in its metadata");
        try
        {
            return parse(text, NumberStyles.None, CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is FormatException or OverflowException or JsonException or ArgumentException)
        {
            throw new DataException(DataException.CheckpointUnreadable, file.FilePath, $"{name} has an unreadable '{key}' in its metadata: '{text}'", null, e);
        }
    }

    private static string SettingsJson(IReadOnlyDictionary<string, string> settings)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            foreach (var (key, value) in settings.OrderBy(p => p.Key, StringComparer.Ordinal)) json.WriteString(key, value);
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static IReadOnlyDictionary<string, string> ParseSettings(string text)
    {
        using var document = JsonDocument.Parse(text);
        if (document.RootElement.ValueKind != JsonValueKind.Object) throw new FormatException("not a JSON object");
        return document.RootElement.EnumerateObject().ToDictionary(
            p => p.Name,
            p => p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : throw new FormatException("not a string"),
            StringComparer.Ordinal);
    }
}
