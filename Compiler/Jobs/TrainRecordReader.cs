using System.Globalization;
using Dlc.Compiler.Elaboration;
using Dlc.Diagnostics;
using Dlc.Syntax;

namespace Dlc.Compiler.Jobs;

/// <summary>Reads a `train Model { ... }` record into a <see cref="TrainSpec"/>, checking every field and value.</summary>
public static class TrainRecordReader
{
    private static readonly string[] Fields = ["data", "loss", "optimizer", "epochs", "batch", "seed", "validation", "metrics"];
    private static readonly string[] Later = ["schedule", "clip", "from", "freeze", "distill", "generator", "discriminator", "earlyStopping"];

    public static TrainSpec Read(SourceText source, CompilationUnit unit, JobDecl job)
    {
        var e = new Elaborator(source, job.Name.Name, training: false);
        var env = Env.Empty;
        foreach (var let in unit.Declarations.OfType<LetDecl>().Where(l => l.Parameters.Count == 0))
        {
            var scope = env;
            env = env.BindLazy(let.Name.Name, () => e.Eval(let.Body, scope));
        }
        var record = (RecordValue)e.Eval(job.Settings, env);
        foreach (var field in record.Fields)
        {
            if (Later.Contains(field.Name))
                throw e.Error(DiagnosticCatalog.NotYetSupported, field.NameSpan, $"`{field.Name}` is part of the language but this version of dlc cannot train with it yet");
            if (!Fields.Contains(field.Name))
                throw Unknown(e, field, Fields, $"`train {job.Name.Name}`");
        }

        var data = ReadData(e, Require(e, record, "data", job));
        var loss = Optional(record, "loss") is { } l ? ReadLoss(e, l) : LossKind.CrossEntropy;
        var optimizer = Optional(record, "optimizer") is { } o ? ReadOptimizer(e, o) : new OptimizerSpec(OptimizerKind.Adam, 1e-3);
        if (Optional(record, "validation") is { } v) data = data with { Validation = Fraction(e, v, "validation") };
        var spec = new TrainSpec(job.Name.Name, job.Name.Span, data, loss, optimizer, job.Span);
        if (Optional(record, "epochs") is { } epochs) spec = spec with { Epochs = e.ExpectPositiveInt(epochs, "`epochs`") };
        if (Optional(record, "batch") is { } batch) spec = spec with { Batch = e.ExpectPositiveInt(batch, "`batch`") };
        if (Optional(record, "seed") is { } seed) spec = spec with { Seed = Seed(e, seed) };
        if (Optional(record, "metrics") is { } metrics) spec = spec with { Metrics = ReadMetrics(e, metrics) };
        return spec;
    }

    private static Value Require(Elaborator e, RecordValue record, string name, JobDecl job) =>
        Optional(record, name) ?? throw e.Error(DiagnosticCatalog.MissingField, job.Name.Span,
            $"`train {job.Name.Name}` has no `{name}` field", "for example `data = fashionMnist { validation = 0.1 }`");

    private static Value? Optional(RecordValue record, string name) => record.Find(name)?.Value;

    private static DataSpec ReadData(Elaborator e, Value value)
    {
        var (name, settings, span) = Named(e, value, "the data set");
        var known = name switch
        {
            "fashionMnist" => new[] { "validation" },
            "idx" => ["images", "labels", "testImages", "testLabels", "validation"],
            "csv" => ["path", "testPath", "label", "validation"],
            _ => throw e.Error(DiagnosticCatalog.InvalidFieldValue, span, $"`{name}` is not a data set",
                "the data sets are `fashionMnist`, `idx { images = ...; labels = ... }` and `csv { path = ... }`"),
        };
        foreach (var field in settings?.Fields ?? [])
        {
            if (!known.Contains(field.Name)) throw Unknown(e, field, known, $"`{name}`");
        }
        string? Text(string field) => settings?.Find(field)?.Value switch
        {
            null => null,
            StringValue s => s.Text,
            var other => throw e.Error(DiagnosticCatalog.InvalidFieldValue, other.Span, $"`{field}` must be a string, found {other.Kind}"),
        };
        var validation = settings?.Find("validation") is { } v ? Fraction(e, v.Value, "validation") : 0;
        var spec = name switch
        {
            "fashionMnist" => new DataSpec(DataKind.FashionMnist, span),
            "idx" => new DataSpec(DataKind.Idx, span) { Images = Text("images"), Labels = Text("labels"), TestImages = Text("testImages"), TestLabels = Text("testLabels") },
            _ => new DataSpec(DataKind.Csv, span) { Path = Text("path"), TestPath = Text("testPath"), LabelColumn = Text("label") },
        };
        if (spec.Kind == DataKind.Idx && (spec.Images is null || spec.Labels is null))
            throw e.Error(DiagnosticCatalog.MissingField, span, "`idx` needs both `images` and `labels` paths");
        if (spec.Kind == DataKind.Csv && spec.Path is null)
            throw e.Error(DiagnosticCatalog.MissingField, span, "`csv` needs a `path`");
        return spec with { Validation = validation };
    }

    private static LossKind ReadLoss(Elaborator e, Value value) => value switch
    {
        SymbolValue { Name: "crossEntropy" } => LossKind.CrossEntropy,
        SymbolValue { Name: "mse" } => LossKind.Mse,
        _ => throw e.Error(DiagnosticCatalog.InvalidFieldValue, value.Span, $"`loss` must be `crossEntropy` or `mse`, found {value.Kind}"),
    };

    private static OptimizerSpec ReadOptimizer(Elaborator e, Value value)
    {
        var (name, settings, span) = Named(e, value, "the optimizer");
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

    private static IReadOnlyList<string> ReadMetrics(Elaborator e, Value value)
    {
        if (value is not ListValue list) throw e.Error(DiagnosticCatalog.InvalidFieldValue, value.Span, $"`metrics` must be a list, found {value.Kind}");
        return list.Items.Select(item => item is SymbolValue { Name: "accuracy" }
            ? "accuracy"
            : throw e.Error(DiagnosticCatalog.NotYetSupported, item.Span, "only `accuracy` is available as a metric in this version")).ToArray();
    }

    /// <summary>`adam`, or `adam { lr = 1e-3 }`.</summary>
    private static (string Name, RecordValue? Settings, TextSpan Span) Named(Elaborator e, Value value, string what) => value switch
    {
        SymbolValue s => (s.Name, null, s.Span),
        ConfiguredValue c => (c.Name, c.Settings, c.NameSpan),
        _ => throw e.Error(DiagnosticCatalog.InvalidFieldValue, value.Span, $"{what} must be named, for example `adam {{ lr = 1e-3 }}`; found {value.Kind}"),
    };

    private static DiagnosticException Unknown(Elaborator e, RecordEntry field, IReadOnlyList<string> known, string owner)
    {
        var suggestion = NameSuggestions.Closest(field.Name, known);
        return e.Error(DiagnosticCatalog.UnknownField, field.NameSpan, $"{owner} has no field `{field.Name}`",
            suggestion is null ? $"its fields are {string.Join(", ", known.Select(k => $"`{k}`"))}" : $"did you mean `{suggestion}`?");
    }

    private static double Fraction(Elaborator e, Value v, string name)
    {
        var x = e.ExpectNumber(v, $"`{name}`");
        return x is >= 0 and < 1 ? x : throw e.Error(DiagnosticCatalog.InvalidFieldValue, v.Span, $"`{name}` must be at least 0 and below 1, found {Format(x)}");
    }

    private static double Positive(Elaborator e, Value v, string name)
    {
        var x = e.ExpectNumber(v, $"`{name}`");
        return x > 0 && double.IsFinite(x) ? x : throw e.Error(DiagnosticCatalog.InvalidFieldValue, v.Span, $"`{name}` must be above 0, found {Format(x)}");
    }

    private static double NonNegative(Elaborator e, Value v, string name)
    {
        var x = e.ExpectNumber(v, $"`{name}`");
        return x >= 0 && double.IsFinite(x) ? x : throw e.Error(DiagnosticCatalog.InvalidFieldValue, v.Span, $"`{name}` must be 0 or more, found {Format(x)}");
    }

    private static ulong Seed(Elaborator e, Value v) => v is NumberValue { IsInteger: true, Number: >= 0 } n
        ? (ulong)n.Number
        : throw e.Error(DiagnosticCatalog.InvalidFieldValue, v.Span, $"`seed` must be a non-negative integer, found {(v is NumberValue x ? Format(x.Number) : v.Kind)}");

    private static string Format(double x) => x.ToString(CultureInfo.InvariantCulture);
}
