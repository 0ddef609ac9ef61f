using Dlc.Compiler.Elaboration;
using Dlc.Diagnostics;
using static Dlc.Compiler.Jobs.RecordReading;

namespace Dlc.Compiler.Jobs;

/// <summary>The parts of a train record beyond data, loss and optimizer: metrics, schedules, fine-tuning and distillation.</summary>
internal static class TrainingRecipes
{
    /// <summary>`[ accuracy; topK 3 ]`.</summary>
    public static (IReadOnlyList<string> Names, TopKSpec? TopK) ReadMetrics(Elaborator e, Value value)
    {
        if (value is not ListValue list) throw e.Error(DiagnosticCatalog.InvalidFieldValue, value.Span, $"`metrics` must be a list, found {value.Kind}",
            "for example `metrics = [ accuracy; topK 3 ]`");
        var names = new List<string>();
        TopKSpec? topK = null;
        foreach (var item in list.Items)
        {
            switch (item)
            {
                case SymbolValue { Name: "accuracy" }:
                    names.Add("accuracy");
                    break;
                case AppliedSymbolValue { Name: "topK" } t:
                    var k = Count(e, t.Argument, "topK");
                    topK = new TopKSpec(k, t.Span);
                    names.Add($"topK {k}");
                    break;
                case SymbolValue { Name: "topK" } s:
                    throw e.Error(DiagnosticCatalog.InvalidFieldValue, s.Span, "`topK` needs the number of guesses that count", "for example `topK 3`");
                default:
                    throw e.Error(DiagnosticCatalog.InvalidFieldValue, item.Span, $"{Describe(item)} is not a metric", "the metrics are `accuracy` and `topK k`");
            }
        }
        return (names, topK);
    }

    /// <summary>`cosine { warmup = 1; minLr = 0 }`, `step { every = 3; gamma = 0.1 }`, `oneCycle { maxLr = 0.01 }` or `constant`.</summary>
    public static ScheduleSpec ReadSchedule(Elaborator e, Value value, int epochs)
    {
        var (name, settings, span) = Named(e, value, "the schedule", "cosine { warmup = 1 }");
        string[] known = name switch
        {
            "cosine" => ["warmup", "minLr"],
            "step" => ["every", "gamma", "warmup"],
            "constant" => ["warmup"],
            "oneCycle" => ["maxLr", "pctStart", "divFactor", "finalDivFactor"],
            _ => throw e.Error(DiagnosticCatalog.InvalidFieldValue, span, $"`{name}` is not a learning-rate schedule",
                "the schedules are `cosine { warmup; minLr }`, `step { every; gamma }`, `oneCycle { maxLr; pctStart }` and `constant`"),
        };
        CheckFields(e, settings, known, $"`{name}`");
        var spec = new ScheduleSpec(name, span);
        if (settings?.Find("warmup") is { } w)
        {
            spec = spec with { Warmup = NonNegative(e, w.Value, "warmup") };
            if (spec.Warmup >= epochs)
                throw e.Error(DiagnosticCatalog.InvalidFieldValue, w.Value.Span,
                    $"a warm-up of {Format(spec.Warmup)} epochs leaves none of the {epochs} epochs for the schedule",
                    "warm up for fewer epochs than the record trains; a fraction of an epoch is allowed, `warmup = 0.5`");
        }
        if (settings?.Find("minLr") is { } m) spec = spec with { MinLr = NonNegative(e, m.Value, "minLr") };
        if (settings?.Find("every") is { } every) spec = spec with { Every = Count(e, every.Value, "every") };
        if (settings?.Find("gamma") is { } g) spec = spec with { Gamma = Positive(e, g.Value, "gamma") };
        if (settings?.Find("maxLr") is { } max) spec = spec with { MaxLr = Positive(e, max.Value, "maxLr") };
        if (settings?.Find("pctStart") is { } pct)
        {
            var x = e.ExpectNumber(pct.Value, "`pctStart`");
            spec = x is > 0 and < 1 ? spec with { PctStart = x }
                : throw e.Error(DiagnosticCatalog.InvalidFieldValue, pct.Value.Span, $"`pctStart` must be above 0 and below 1, found {Format(x)}");
        }
        if (settings?.Find("divFactor") is { } div) spec = spec with { DivFactor = Positive(e, div.Value, "divFactor") };
        if (settings?.Find("finalDivFactor") is { } final) spec = spec with { FinalDivFactor = Positive(e, final.Value, "finalDivFactor") };
        return spec;
    }

    /// <summary>`{ patience = 3; minDelta = 0.001 }`.</summary>
    public static EarlyStoppingSpec ReadEarlyStopping(Elaborator e, Value value)
    {
        var record = Record(e, value, "earlyStopping", "{ patience = 3 }");
        CheckFields(e, record, ["patience", "minDelta"], "`earlyStopping`");
        var patience = record.Find("patience") is { } p ? Count(e, p.Value, "patience") : 3;
        var minDelta = record.Find("minDelta") is { } d ? NonNegative(e, d.Value, "minDelta") : 0;
        return new EarlyStoppingSpec(patience, minDelta, value.Span);
    }

    /// <summary>`crop = { padding = 4 }` and `flip = true` (either may be left out); null when neither asks for anything.</summary>
    public static AugmentSpec? ReadAugment(Elaborator e, RecordEntry? crop, RecordEntry? flip)
    {
        var spec = new AugmentSpec();
        if (crop is not null)
        {
            var record = Record(e, crop.Value, "crop", "{ padding = 4 }");
            CheckFields(e, record, ["padding"], "`crop`");
            var padding = record.Find("padding") ?? throw e.Error(DiagnosticCatalog.MissingField, crop.Value.Span,
                "`crop` needs the `padding` around the image it crops from", "for example `crop = { padding = 4 }`");
            spec = spec with { CropPadding = Count(e, padding.Value, "padding"), CropSpan = crop.NameSpan };
        }
        if (flip is not null) spec = spec with { Flip = e.ExpectBool(flip.Value, "`flip`"), FlipSpan = flip.NameSpan };
        return spec.CropPadding > 0 || spec.Flip ? spec : null;
    }

    /// <summary>`[ "FashionCnn.convBlock*" ]`: parameter names, `*` matching any run of characters.</summary>
    public static IReadOnlyList<FreezePattern> ReadFreeze(Elaborator e, Value value)
    {
        if (value is not ListValue { Items.Count: > 0 } list)
            throw e.Error(DiagnosticCatalog.InvalidFieldValue, value.Span, $"`freeze` must be a list of parameter names, found {value.Kind}",
                "for example `freeze = [ \"FashionCnn.convBlock*\" ]`");
        return list.Items.Select(item => new FreezePattern(Text(e, item, "freeze"), item.Span)).ToArray();
    }

    /// <summary>`{ teacher = "runs/teacher/model.safetensors"; temperature = 4.0; alpha = 0.9 }`.</summary>
    public static DistillSpec ReadDistill(Elaborator e, Value value)
    {
        var record = Record(e, value, "distill", "{ teacher = \"runs/teacher/model.safetensors\"; temperature = 4.0; alpha = 0.9 }");
        CheckFields(e, record, ["teacher", "temperature", "alpha"], "`distill`");
        var teacher = record.Find("teacher")?.Value ?? throw e.Error(DiagnosticCatalog.MissingField, value.Span, "`distill` has no `teacher`",
            "name the teacher's checkpoint, `teacher = \"runs/teacher/model.safetensors\"`, or a model of this file");
        var (path, model) = teacher switch
        {
            ModelRefValue m => ((string?)null, (string?)m.Name),
            _ => (Text(e, teacher, "teacher"), null),
        };
        var temperature = record.Find("temperature") is { } t ? Positive(e, t.Value, "temperature") : 1;
        var alpha = record.Find("alpha") is { } a ? UnitInterval(e, a.Value, "alpha") : 0.5;
        return new DistillSpec(path, model, temperature, alpha, teacher.Span);
    }
}
