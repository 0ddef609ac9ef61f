using System.Globalization;
using Dlc.Compiler.Elaboration;
using Dlc.Diagnostics;
using Dlc.Syntax;

namespace Dlc.Compiler.Jobs;

/// <summary>Reading the values of job records (`train`, `agent`): each checked at its own span, unknown fields with a did-you-mean.</summary>
internal static class RecordReading
{
    /// <summary>
    /// An elaborator for a job record of <paramref name="module"/>: its top-level lets, the models and
    /// losses it declares (as references), and the settings record evaluated.
    /// </summary>
    public static (Elaborator E, RecordValue Record) Evaluate(Module module, JobDecl job)
    {
        var e = new Elaborator(module.Source, job.Name.Name, training: false);
        var env = ModuleScope.Of(e, module);
        foreach (var symbol in JobSymbols)
        {
            if (!env.TryLookup(symbol, out _)) env = env.Bind(symbol, new SymbolValue(symbol, job.Name.Span));
        }
        foreach (var decl in module.Unit.Declarations)
        {
            env = decl switch
            {
                ModelDecl m => env.Bind(m.Name.Name, new ModelRefValue(m.Name.Name, m.Name.Span)),
                LossDecl l => env.Bind(l.Name.Name, new LossRefValue(l.Name.Name, l.Name.Span)),
                _ => env,
            };
        }
        return (e, (RecordValue)e.Eval(job.Settings, env));
    }

    /// <summary>
    /// Names that stand for themselves in job records only (a schedule, data sources), beyond the record symbols
    /// of <see cref="Builtins"/>; a `let` of the file with the same name wins. Looked up names take the span
    /// of their use.
    /// </summary>
    private static readonly string[] JobSymbols = ["oneCycle", "npy", "imageFolder", "wordLists", "timeSeries", "sunspots", "dates"];

    public static void CheckFields(Elaborator e, RecordValue? record, IReadOnlyList<string> known, string owner)
    {
        foreach (var field in record?.Fields ?? [])
        {
            if (!known.Contains(field.Name)) throw Unknown(e, field, known, owner);
        }
    }

    public static DiagnosticException Unknown(Elaborator e, RecordEntry field, IReadOnlyList<string> known, string owner)
    {
        var suggestion = NameSuggestions.Closest(field.Name, known);
        return e.Error(DiagnosticCatalog.UnknownField, field.NameSpan, $"{owner} has no field `{field.Name}`",
            suggestion is null ? $"its fields are {string.Join(", ", known.Select(k => $"`{k}`"))}" : $"did you mean `{suggestion}`?");
    }

    /// <summary>`adam`, or `adam { lr = 1e-3 }`.</summary>
    public static (string Name, RecordValue? Settings, TextSpan Span) Named(Elaborator e, Value value, string what, string example) => value switch
    {
        SymbolValue s => (s.Name, null, s.Span),
        ConfiguredValue c => (c.Name, c.Settings, c.NameSpan),
        _ => throw e.Error(DiagnosticCatalog.InvalidFieldValue, value.Span, $"{what} must be named, for example `{example}`; found {value.Kind}"),
    };

    /// <summary>A record written as a value: `replay = { capacity = 50000; batch = 64 }`.</summary>
    public static RecordValue Record(Elaborator e, Value value, string field, string example) => value as RecordValue
        ?? throw e.Error(DiagnosticCatalog.InvalidFieldValue, value.Span, $"`{field}` must be a record, for example `{example}`; found {value.Kind}");

    public static string Text(Elaborator e, Value v, string name) => v is StringValue { Text.Length: > 0 } s
        ? s.Text
        : throw e.Error(DiagnosticCatalog.InvalidFieldValue, v.Span, $"`{name}` must be a non-empty string, found {Describe(v)}");

    public static double Fraction(Elaborator e, Value v, string name)
    {
        var x = e.ExpectNumber(v, $"`{name}`");
        return x is >= 0 and < 1 ? x : throw e.Error(DiagnosticCatalog.InvalidFieldValue, v.Span, $"`{name}` must be at least 0 and below 1, found {Format(x)}");
    }

    /// <summary>A number from 0 to 1, both included (a weight, a probability that may be certain).</summary>
    public static double UnitInterval(Elaborator e, Value v, string name)
    {
        var x = e.ExpectNumber(v, $"`{name}`");
        return x is >= 0 and <= 1 ? x : throw e.Error(DiagnosticCatalog.InvalidFieldValue, v.Span, $"`{name}` must be from 0 to 1, found {Format(x)}");
    }

    public static double Positive(Elaborator e, Value v, string name)
    {
        var x = e.ExpectNumber(v, $"`{name}`");
        return x > 0 && double.IsFinite(x) ? x : throw e.Error(DiagnosticCatalog.InvalidFieldValue, v.Span, $"`{name}` must be above 0, found {Format(x)}");
    }

    public static double NonNegative(Elaborator e, Value v, string name)
    {
        var x = e.ExpectNumber(v, $"`{name}`");
        return x >= 0 && double.IsFinite(x) ? x : throw e.Error(DiagnosticCatalog.InvalidFieldValue, v.Span, $"`{name}` must be 0 or more, found {Format(x)}");
    }

    public static int Count(Elaborator e, Value v, string name, int min = 1) => v is NumberValue { IsInteger: true } n && n.Number >= min && n.Number <= int.MaxValue
        ? (int)n.Number
        : throw e.Error(DiagnosticCatalog.InvalidFieldValue, v.Span, $"`{name}` must be an integer of {min} or more, found {Describe(v)}");

    public static ulong Seed(Elaborator e, Value v) => v is NumberValue { IsInteger: true, Number: >= 0 } n
        ? (ulong)n.Number
        : throw e.Error(DiagnosticCatalog.InvalidFieldValue, v.Span, $"`seed` must be a non-negative integer, found {Describe(v)}");

    public static string Describe(Value v) => v is NumberValue x ? Format(x.Number) : v.Kind;

    public static string Format(double x) => x.ToString(CultureInfo.InvariantCulture);
}
