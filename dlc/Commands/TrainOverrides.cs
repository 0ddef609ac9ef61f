using System.CommandLine;
using System.Globalization;
using Dlc.Compiler.Jobs;

namespace Dlc.Cli.Commands;

/// <summary>`--epochs --batch --lr --seed`: overrides of the train record, checked like the record's own fields.</summary>
internal sealed class TrainOverrides
{
    private readonly Option<int?> _epochs = new("--epochs") { Description = "number of epochs" };
    private readonly Option<int?> _batch = new("--batch") { Description = "batch size" };
    private readonly Option<double?> _lr = new("--lr") { Description = "learning rate" };
    private readonly Option<long?> _seed = new("--seed") { Description = "random seed (initialisation, shuffling, dropout)" };

    public TrainOverrides()
    {
        _epochs.CustomParser = r => CommonOptions.Number<int>(r, "--epochs", "a whole number", v => v >= 1, "1 or more");
        _batch.CustomParser = r => CommonOptions.Number<int>(r, "--batch", "a whole number", v => v >= 1, "1 or more");
        _lr.CustomParser = r => CommonOptions.Number<double>(r, "--lr", "a number", v => v > 0 && double.IsFinite(v), "a number above 0");
        _seed.CustomParser = r => CommonOptions.Number<long>(r, "--seed", "a whole number", v => v >= 0, "0 or more");
    }

    public void AddTo(Command command)
    {
        command.Options.Add(_epochs);
        command.Options.Add(_batch);
        command.Options.Add(_lr);
        command.Options.Add(_seed);
    }

    /// <summary>
    /// The record with the options given applied. When resuming, the run's own epochs, batch and seed
    /// (from the checkpoint's settings) come first, so the run continues as it started unless an option
    /// says otherwise; the seed fixes the shuffle order and the validation split, so an exact resume needs it.
    /// </summary>
    public TrainSpec Apply(ParseResult parse, TrainSpec spec, IReadOnlyDictionary<string, string>? resumed = null)
    {
        if (resumed is not null)
        {
            if (Setting<int>(resumed, "epochs") is { } e and > 0) spec = spec with { Epochs = e };
            if (Setting<int>(resumed, "batch") is { } b and > 0) spec = spec with { Batch = b };
            if (Setting<ulong>(resumed, "seed") is { } s) spec = spec with { Seed = s };
        }
        if (parse.GetValue(_epochs) is { } epochs) spec = spec with { Epochs = epochs };
        if (parse.GetValue(_batch) is { } batch) spec = spec with { Batch = batch };
        if (parse.GetValue(_lr) is { } lr) spec = spec with { Optimizer = spec.Optimizer with { LearningRate = lr } };
        if (parse.GetValue(_seed) is { } seed) spec = spec with { Seed = (ulong)seed };
        return spec;
    }

    private static T? Setting<T>(IReadOnlyDictionary<string, string> settings, string key) where T : struct, IParsable<T> =>
        settings.TryGetValue(key, out var text) && T.TryParse(text, CultureInfo.InvariantCulture, out var value) ? value : null;
}
