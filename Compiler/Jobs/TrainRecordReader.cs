using Dlc.Compiler.Elaboration;
using Dlc.Diagnostics;
using Dlc.Syntax;
using static Dlc.Compiler.Jobs.RecordReading;

namespace Dlc.Compiler.Jobs;

/// <summary>
/// Reads a `train Model { ... }` record into a <see cref="TrainSpec"/>, checking every field and value.
/// Fields the trainer cannot run yet are accepted and listed in <see cref="TrainSpec.Pending"/>.
/// </summary>
public static class TrainRecordReader
{
    private static readonly string[] Fields =
    [
        "data", "loss", "optimizer", "epochs", "batch", "seed", "validation", "metrics", "schedule", "clip", "earlyStopping", "crop", "flip",
        "from", "freeze", "distill", "generator", "discriminator",
    ];

    public static TrainSpec Read(Module module, JobDecl job)
    {
        var (e, record) = Evaluate(module, job);
        CheckFields(e, record, Fields, $"`train {job.Name.Name}`");
        var pending = new List<PendingFeature>();
        void Pending(string field, string what)
        {
            if (record.Find(field) is { } f) pending.Add(new PendingFeature(what, f.NameSpan));
        }

        var gan = ReadGan(e, record, job);
        var takesDataElsewhere = record.Find("distill") is not null || record.Find("from") is not null;
        var data = Optional(record, "data") is { } d ? DataRecordReader.Read(e, d)
            : takesDataElsewhere ? new DataSpec(DataKind.None, job.Name.Span)
            : throw e.Error(DiagnosticCatalog.MissingField, job.Name.Span,
                $"`train {job.Name.Name}` has no `data` field", "for example `data = fashionMnist { validation = 0.1 }`");

        var (loss, lossName, smoothing) = Optional(record, "loss") is { } l ? ReadLoss(e, l) : (LossKind.CrossEntropy, null, 0.0);
        if (lossName is not null) Pending("loss", $"loss = {lossName}");
        var optimizer = Optional(record, "optimizer") is { } o ? ReadOptimizer(e, o) : new OptimizerSpec(OptimizerKind.Adam, 1e-3);
        if (Optional(record, "validation") is { } v) data = data with { Validation = Fraction(e, v, "validation") };
        var spec = new TrainSpec(job.Name.Name, job.Name.Span, data, loss, optimizer, job.Span) { LossName = lossName, LabelSmoothing = smoothing, Gan = gan };
        if (Optional(record, "epochs") is { } epochs) spec = spec with { Epochs = e.ExpectPositiveInt(epochs, "`epochs`") };
        if (Optional(record, "batch") is { } batch) spec = spec with { Batch = e.ExpectPositiveInt(batch, "`batch`") };
        if (Optional(record, "seed") is { } seed) spec = spec with { Seed = Seed(e, seed) };
        if (Optional(record, "metrics") is { } metrics)
        {
            var (names, topK) = TrainingRecipes.ReadMetrics(e, metrics);
            spec = spec with { Metrics = names, TopK = topK };
        }
        if (Optional(record, "schedule") is { } schedule) spec = spec with { Schedule = TrainingRecipes.ReadSchedule(e, schedule, spec.Epochs) };
        if (Optional(record, "clip") is { } clip) spec = spec with { Clip = Positive(e, clip, "clip") };
        if (Optional(record, "earlyStopping") is { } stop)
        {
            spec = spec with { EarlyStopping = TrainingRecipes.ReadEarlyStopping(e, stop) };
            if (spec.Data.Validation <= 0 && spec.Data.Kind != DataKind.None)
                throw e.Error(DiagnosticCatalog.InvalidFieldValue, record.Find("earlyStopping")!.NameSpan,
                    "`earlyStopping` watches the validation loss, but no part of the data is held out for validation",
                    "hold some out: `validation = 0.1` in the record or in its `data`");
        }
        spec = spec with { Augment = TrainingRecipes.ReadAugment(e, record.Find("crop"), record.Find("flip")) };
        if (Optional(record, "from") is { } from) spec = spec with { From = Text(e, from, "from") };
        if (Optional(record, "freeze") is { } freeze) spec = spec with { Freeze = TrainingRecipes.ReadFreeze(e, freeze) };
        if (Optional(record, "distill") is { } distill) spec = spec with { Distill = TrainingRecipes.ReadDistill(e, distill) };
        Pending("from", "from");
        Pending("freeze", "freeze");
        Pending("distill", "distill");
        Pending("generator", "generator");
        return spec with { Pending = pending.OrderBy(p => p.Span.Start).ToArray() };
    }

    private static Value? Optional(RecordValue record, string name) => record.Find(name)?.Value;

    private static GanSpec? ReadGan(Elaborator e, RecordValue record, JobDecl job)
    {
        var generator = record.Find("generator");
        var discriminator = record.Find("discriminator");
        if (generator is null && discriminator is null) return null;
        if (generator is null || discriminator is null)
            throw e.Error(DiagnosticCatalog.MissingField, job.Name.Span,
                $"`train {job.Name.Name}` has a `{(generator is null ? "discriminator" : "generator")}` but no `{(generator is null ? "generator" : "discriminator")}`",
                "a GAN names both networks: `generator = Generator; discriminator = Discriminator`");
        string Model(RecordEntry field) => field.Value is ModelRefValue m ? m.Name
            : throw e.Error(DiagnosticCatalog.InvalidFieldValue, field.Value.Span, $"`{field.Name}` must name a model of this file, found {Describe(field.Value)}");
        return new GanSpec(Model(generator), generator.Value.Span, Model(discriminator), discriminator.Value.Span);
    }

    private static (LossKind, string?, double) ReadLoss(Elaborator e, Value value)
    {
        if (value is LossRefValue l) return (LossKind.Declared, l.Name, 0);
        if (value is not (SymbolValue or ConfiguredValue))
            throw e.Error(DiagnosticCatalog.InvalidFieldValue, value.Span,
                $"`loss` must be `crossEntropy`, `mse` or a `loss` declared in this file, found {value.Kind}");
        var (name, settings, span) = Named(e, value, "the loss", "crossEntropy { labelSmoothing = 0.1 }");
        switch (name)
        {
            case "crossEntropy":
                string[] known = ["labelSmoothing"];
                CheckFields(e, settings, known, "`crossEntropy`");
                var smoothing = settings?.Find("labelSmoothing") is { } s ? Fraction(e, s.Value, "labelSmoothing") : 0;
                return (LossKind.CrossEntropy, null, smoothing);
            case "mse":
                CheckFields(e, settings, [], "`mse`");
                return (LossKind.Mse, null, 0);
            default:
                throw e.Error(DiagnosticCatalog.InvalidFieldValue, span,
                    $"`loss` must be `crossEntropy`, `mse` or a `loss` declared in this file, found `{name}`");
        }
    }

    internal static OptimizerSpec ReadOptimizer(Elaborator e, Value value)
    {
        var (name, settings, span) = Named(e, value, "the optimizer", "adam { lr = 1e-3 }");
        var (kind, known) = name switch
        {
            "sgd" => (OptimizerKind.Sgd, new[] { "lr", "momentum", "dampening", "nesterov", "weightDecay" }),
            "adam" => (OptimizerKind.Adam, new[] { "lr", "beta1", "beta2", "eps", "weightDecay" }),
            "adamw" => (OptimizerKind.AdamW, new[] { "lr", "beta1", "beta2", "eps", "weightDecay" }),
            _ => throw e.Error(DiagnosticCatalog.InvalidFieldValue, span, $"`{name}` is not an optimizer", "the optimizers are `sgd`, `adam` and `adamw`"),
        };
        var spec = new OptimizerSpec(kind, kind == OptimizerKind.Sgd ? 0.01 : 1e-3) { WeightDecay = kind == OptimizerKind.AdamW ? 0.01 : 0 };
        foreach (var field in settings?.Fields ?? [])
        {
            if (!known.Contains(field.Name)) throw Unknown(e, field, known, $"`{name}`");
            var v = field.Value;
            spec = field.Name switch
            {
                "lr" => spec with { LearningRate = Positive(e, v, "lr") },
                "momentum" => spec with { Momentum = Fraction(e, v, "momentum") },
                "dampening" => spec with { Dampening = Fraction(e, v, "dampening") },
                "nesterov" => spec with { Nesterov = e.ExpectBool(v, "nesterov") },
                "weightDecay" => spec with { WeightDecay = NonNegative(e, v, "weightDecay") },
                "beta1" => spec with { Beta1 = Fraction(e, v, "beta1") },
                "beta2" => spec with { Beta2 = Fraction(e, v, "beta2") },
                _ => spec with { Epsilon = Positive(e, v, "eps") },
            };
        }
        if (spec.Nesterov && (spec.Momentum <= 0 || spec.Dampening != 0))
            throw e.Error(DiagnosticCatalog.InvalidFieldValue, span, "nesterov momentum needs `momentum` above 0 and no dampening");
        return spec;
    }
}
