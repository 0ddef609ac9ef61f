using System.Globalization;
using System.Text.Json;
using Dlc.Compiler.Elaboration;
using Dlc.Compiler.Ir;
using Dlc.Compiler.Jobs;

namespace Dlc.Cli.Output;

/// <summary>The layer tables and job records that `dlc check` prints, as text or JSON.</summary>
internal static class Summaries
{
    /// <summary>Every `--json` document: indented, names in snake_case (as summary.yaml and metrics.csv spell them).</summary>
    public static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>`dlc check --json`: as <see cref="JsonOptions"/>, leaving out the costs unless `--summary` asked for them.</summary>
    public static readonly JsonSerializerOptions CheckJsonOptions = new(JsonOptions)
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    /// <param name="costs">With `--summary`: FLOPs and activation memory per sample for every layer.</param>
    public static void WriteText(TextWriter w, CompiledFile file, bool costs = false)
    {
        foreach (var model in file.Models)
        {
            var inputs = string.Join(", ", model.Inputs.Select(i => $"{i.Name}: {i.Shape}{(i.IsIndex ? " of int" : "")}"));
            w.WriteLine($"model {model.Name} ({inputs}) : {OutputText(model)}");
            var cost = ModelCosts.Of(model);
            var columns = new List<Column>
            {
                new("name", false, cost.Layers.Select(c => c.Row.Name)) { Width = 5 },
                new("layer", false, cost.Layers.Select(c => c.Row.Layer)) { Width = 5 },
                new("output", false, cost.Layers.Select(c => c.Row.Output.ToString())) { Width = 6 },
                new("parameters", true, cost.Layers.Select(c => Number(c.Row.Parameters))) { Width = 10 },
            };
            if (costs)
            {
                columns.Add(new("FLOPs", true, cost.Layers.Select(c => c.Flops.ToString())));
                columns.Add(new("activations", true, cost.Layers.Select(c => Bytes(c.ActivationBytes))));
            }
            columns.Add(new("line", true, cost.Layers.Select(c => Line(file, c.Row.Origin))) { Width = 4 });
            w.WriteLine("  " + string.Join("  ", columns.Select(c => c.Header())).TrimEnd());
            for (var i = 0; i < cost.Layers.Count; i++) w.WriteLine("  " + string.Join("  ", columns.Select(c => c.Cell(i))).TrimEnd());
            var total = $"  total: {Number(model.ParameterCount)} parameters ({Bytes(model.ParameterCount * 4)})";
            if (model.StateCount > 0) total += $"; {Number(model.StateCount)} running statistics are saved with them";
            if (costs) total += $"; per sample: {cost.Flops} FLOPs forward, {Bytes(cost.ActivationBytes)} of activations";
            w.WriteLine(total);
            w.WriteLine();
        }
        foreach (var train in file.Trains) w.WriteLine(Describe(train));
        foreach (var agent in file.Agents) w.WriteLine(Describe(agent));
        var jobs = Plural(file.Trains.Count, "train record") + (file.Agents.Count > 0 ? $", {Plural(file.Agents.Count, "agent")}" : "");
        w.WriteLine($"ok: {file.Source.Path} ({Plural(file.Models.Count, "model")}, {jobs})");
    }

    public static string Describe(TrainSpec t)
    {
        var data = t.Data.Kind switch
        {
            DataKind.FashionMnist => "fashionMnist",
            DataKind.Idx => $"idx {t.Data.Images}",
            DataKind.Csv => $"csv {t.Data.Path}",
            DataKind.Npy => $"npy {t.Data.Images}",
            DataKind.ImageFolder => $"imageFolder {t.Data.Path}",
            DataKind.TextCorpus => $"textCorpus {t.Data.Path} ({t.Data.Level}, sequences of {t.Data.Sequence})",
            DataKind.BrownCorpus when t.Data.IsTagging => $"brownCorpus (sentences of words, {t.Data.Tagset} tags)",
            DataKind.BrownCorpus when t.Data.IsGenre => $"brownCorpus (windows of {t.Data.Sequence} words, 15 genres)",
            DataKind.BrownCorpus => $"brownCorpus ({t.Data.Level}, sequences of {t.Data.Sequence})",
            DataKind.WordLists when t.Data.WordLists is { } w =>
                $"wordLists {string.Join(", ", w.Languages)} ({w.Length} characters{(w.PerLanguage is { } p ? $", at most {p:N0} words each" : "")}{(w.Test > 0 ? $", test {w.Test.ToString(CultureInfo.InvariantCulture)}" : "")})",
            DataKind.TimeSeries when t.Data.Series is { } s =>
                $"timeSeries {s.Name ?? t.Data.Path}{(s.Column is null ? "" : $" {s.Column}")} (windows of {s.Window}, horizon {s.Horizon}{(s.Test > 0 ? $", test {s.Test.ToString(CultureInfo.InvariantCulture)}" : "")})",
            DataKind.GaussianNoise => $"gaussianNoise ({t.Data.Samples} samples)",
            DataKind.Dates when t.Data.Dates is { } d =>
                $"dates ({d.Samples:N0} pairs, sources of {DatesSpec.SourceLength} characters, targets of {DatesSpec.TargetLength}{(d.Test > 0 ? $", test {d.Test.ToString(CultureInfo.InvariantCulture)}" : "")})",
            _ => "no data set named",
        };
        if (t.Data.Validation > 0) data += $" (validation {t.Data.Validation.ToString(CultureInfo.InvariantCulture)})";
        var loss = t.DescribeLoss();
        // A GAN's losses are the adversarial pair, so the record's loss does not apply.
        var what = t.Gan is { } gan ? $"train {t.Model} ({gan.Generator} against {gan.Discriminator}): {data}" : $"train {t.Model}: {data}, {loss}";
        var line = $"{what}, {t.Optimizer.Describe()}, {Plural(t.Epochs, "epoch")}, batch {t.Batch}, seed {t.Seed}";
        if (t.Schedule is { } schedule) line += $", schedule {schedule.Describe()}";
        if (t.Clip is { } clip) line += $", clip {clip.ToString(CultureInfo.InvariantCulture)}";
        if (t.Augment is { } augment) line += $", {augment.Describe()}";
        if (t.EarlyStopping is { } stop) line += $", earlyStopping patience {stop.Patience}";
        if (t.Pending.Count > 0) line += $"; not trainable by this version yet: {string.Join(", ", t.Pending.Select(p => p.What))}";
        return line;
    }

    public static string Describe(AgentSpec a) =>
        $"agent {a.Name}: {a.Algorithm}{(a.Double ? " (double)" : "")} on {a.Environment.Name}, network {a.Network}, gamma {a.Gamma.ToString(CultureInfo.InvariantCulture)}, " +
        $"replay {Number(a.ReplayCapacity)} (batch {a.ReplayBatch}); not trainable by this version yet";

    public static object ToJson(CompiledFile file, bool costs = false) => new
    {
        file = file.Source.Path,
        models = file.Models.Select(m =>
        {
            var cost = ModelCosts.Of(m);
            return new
            {
                name = m.Name,
                inputs = m.Inputs.Select(i => new { name = i.Name, shape = i.Shape.ToString(), integer = i.IsIndex }),
                output = OutputText(m),
                parameters = m.ParameterCount,
                state = m.StateCount,
                flops_per_sample = costs ? JsonCount(cost.Flops) : null,
                activation_bytes_per_sample = costs ? JsonCount(cost.ActivationBytes) : null,
                layers = cost.Layers.Select(c => new
                {
                    name = c.Row.Name,
                    layer = c.Row.Layer,
                    output = c.Row.Output.ToString(),
                    parameters = c.Row.Parameters,
                    flops_per_sample = costs ? JsonCount(c.Flops) : null,
                    activation_bytes_per_sample = costs ? JsonCount(c.ActivationBytes) : null,
                    file = c.Row.Origin.Source.Path,
                    line = c.Row.Origin.Source.GetPosition(c.Row.Origin.Span.Start).Line,
                }),
            };
        }),
        trains = file.Trains.Select(t => new
        {
            model = t.Model,
            description = Describe(t),
            epochs = t.Epochs,
            batch = t.Batch,
            seed = t.Seed,
            not_trainable_yet = t.Pending.Select(p => p.What),
        }),
        agents = file.Agents.Select(a => new { name = a.Name, network = a.Network, env = a.Environment.Name, description = Describe(a) }),
    };

    /// <summary>A count as a JSON number when it is one; with symbols (`1,024·T`), as text.</summary>
    private static object JsonCount(Count count) => count.IsConstant ? count.Constant : count.ToString();

    private static string OutputText(ModelGraph m) =>
        m.HasSingleOutput
            ? m.OutputShape.ToString()
            : "{ " + string.Join("; ", m.Outputs.Select(o => $"{o.Name[(ModelGraph.OutputName.Length + 1)..]}: {m.Graph[o.Node].Shape}")) + " }";

    /// <summary>The line of a layer; for a layer of an imported file, `blocks.dl:3`.</summary>
    private static string Line(CompiledFile file, Site site)
    {
        var line = site.Source.GetPosition(site.Span.Start).Line.ToString(CultureInfo.InvariantCulture);
        return site.Source == file.Source ? line : $"{Path.GetFileName(site.Source.Path)}:{line}";
    }

    private static string Number(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    public static string Plural(long n, string word) => $"{n.ToString(CultureInfo.InvariantCulture)} {word}{(n == 1 ? "" : "s")}";

    private static string Bytes(Count bytes) => bytes.IsConstant ? Bytes(bytes.Constant) : $"{bytes} B";

    public static string Bytes(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => $"{(bytes / 1024.0).ToString("0.0", CultureInfo.InvariantCulture)} KiB",
        _ => $"{(bytes / (1024.0 * 1024)).ToString("0.0", CultureInfo.InvariantCulture)} MiB",
    };

    /// <summary>A column of the layer table: text left-aligned, numbers right-aligned, as wide as its widest cell.</summary>
    private sealed class Column(string title, bool right, IEnumerable<string> cells)
    {
        private readonly string[] _cells = cells.ToArray();

        public int Width { get; init; }

        private int Actual => Math.Max(Math.Max(Width, title.Length), _cells.Select(c => c.Length).DefaultIfEmpty(0).Max());

        public string Header() => right && title != "line" ? title.PadLeft(Actual) : title.PadRight(Actual);

        public string Cell(int i) => right ? _cells[i].PadLeft(Actual) : _cells[i].PadRight(Actual);
    }
}
