using System.CommandLine;
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
        _epochs.Validators.Add(r => { if (r.GetValueOrDefault<int?>() is < 1) r.AddError("--epochs must be 1 or more"); });
        _batch.Validators.Add(r => { if (r.GetValueOrDefault<int?>() is < 1) r.AddError("--batch must be 1 or more"); });
        _lr.Validators.Add(r => { if (r.GetValueOrDefault<double?>() is { } v && !(v > 0 && double.IsFinite(v))) r.AddError("--lr must be a number above 0"); });
        _seed.Validators.Add(r => { if (r.GetValueOrDefault<long?>() is < 0) r.AddError("--seed must be 0 or more"); });
    }

    public void AddTo(Command command)
    {
        command.Options.Add(_epochs);
        command.Options.Add(_batch);
        command.Options.Add(_lr);
        command.Options.Add(_seed);
    }

    public TrainSpec Apply(ParseResult parse, TrainSpec spec)
    {
        if (parse.GetValue(_epochs) is { } epochs) spec = spec with { Epochs = epochs };
        if (parse.GetValue(_batch) is { } batch) spec = spec with { Batch = batch };
        if (parse.GetValue(_lr) is { } lr) spec = spec with { Optimizer = spec.Optimizer with { LearningRate = lr } };
        if (parse.GetValue(_seed) is { } seed) spec = spec with { Seed = (ulong)seed };
        return spec;
    }
}
