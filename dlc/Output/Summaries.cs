using System.Globalization;
using System.Text.Json;
using Dlc.Compiler.Elaboration;
using Dlc.Compiler.Jobs;

namespace Dlc.Cli.Output;

/// <summary>The layer tables and train records that `dlc check` prints, as text or JSON.</summary>
internal static class Summaries
{
    /// <summary>Every `--json` document: indented, names in snake_case (as summary.yaml and metrics.csv spell them).</summary>
    public static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static void WriteText(TextWriter w, CompiledFile file)
    {
        foreach (var model in file.Models)
        {
            var inputs = string.Join(", ", model.Inputs.Select(i => $"{i.Name}: {i.Shape}"));
            w.WriteLine($"model {model.Name} ({inputs}) : {OutputText(model)}");
            var rows = model.Layers.Select(r => (Name: r.Name, Layer: r.Layer, Shape: r.Output.ToString(),
                Params: r.Parameters.ToString("N0", CultureInfo.InvariantCulture), Line: file.Source.GetPosition(r.Origin.Start).Line.ToString(CultureInfo.InvariantCulture))).ToList();
            var nameWidth = Math.Max(5, rows.Select(r => r.Name.Length).DefaultIfEmpty(0).Max());
            var layerWidth = Math.Max(5, rows.Select(r => r.Layer.Length).DefaultIfEmpty(0).Max());
            var shapeWidth = Math.Max(6, rows.Select(r => r.Shape.Length).DefaultIfEmpty(0).Max());
            var paramWidth = Math.Max(10, rows.Select(r => r.Params.Length).DefaultIfEmpty(0).Max());
            w.WriteLine($"  {"name".PadRight(nameWidth)}  {"layer".PadRight(layerWidth)}  {"output".PadRight(shapeWidth)}  {"parameters".PadLeft(paramWidth)}  line");
            foreach (var r in rows)
                w.WriteLine($"  {r.Name.PadRight(nameWidth)}  {r.Layer.PadRight(layerWidth)}  {r.Shape.PadRight(shapeWidth)}  {r.Params.PadLeft(paramWidth)}  {r.Line,4}");
            w.WriteLine($"  total: {model.ParameterCount.ToString("N0", CultureInfo.InvariantCulture)} parameters ({Bytes(model.ParameterCount * 4)})");
            w.WriteLine();
        }
        foreach (var train in file.Trains) w.WriteLine(Describe(train));
        w.WriteLine($"ok: {file.Source.Path} ({Plural(file.Models.Count, "model")}, {Plural(file.Trains.Count, "train record")})");
    }

    public static string Describe(TrainSpec t)
    {
        var data = t.Data.Kind switch
        {
            DataKind.FashionMnist => "fashionMnist",
            DataKind.Idx => $"idx {t.Data.Images}",
            _ => $"csv {t.Data.Path}",
        };
        if (t.Data.Validation > 0) data += $" (validation {t.Data.Validation.ToString(CultureInfo.InvariantCulture)})";
        return $"train {t.Model}: {data}, {(t.Loss == LossKind.CrossEntropy ? "crossEntropy" : "mse")}, {t.Optimizer.Describe()}, " +
               $"{Plural(t.Epochs, "epoch")}, batch {t.Batch}, seed {t.Seed}";
    }

    public static object ToJson(CompiledFile file) => new
    {
        file = file.Source.Path,
        models = file.Models.Select(m => new
        {
            name = m.Name,
            inputs = m.Inputs.Select(i => new { name = i.Name, shape = i.Shape.ToString() }),
            output = OutputText(m),
            parameters = m.ParameterCount,
            layers = m.Layers.Select(r => new
            {
                name = r.Name,
                layer = r.Layer,
                output = r.Output.ToString(),
                parameters = r.Parameters,
                line = file.Source.GetPosition(r.Origin.Start).Line,
            }),
        }),
        trains = file.Trains.Select(t => new
        {
            model = t.Model,
            description = Describe(t),
            epochs = t.Epochs,
            batch = t.Batch,
            seed = t.Seed,
        }),
    };

    private static string OutputText(ModelGraph m) =>
        m.Graph.HasOutput(ModelGraph.OutputName)
            ? m.OutputShape.ToString()
            : "{ " + string.Join("; ", m.Outputs.Select(o => $"{o.Name[(ModelGraph.OutputName.Length + 1)..]}: {m.Graph[o.Node].Shape}")) + " }";

    public static string Plural(long n, string word) => $"{n.ToString(CultureInfo.InvariantCulture)} {word}{(n == 1 ? "" : "s")}";

    public static string Bytes(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => $"{(bytes / 1024.0).ToString("0.0", CultureInfo.InvariantCulture)} KiB",
        _ => $"{(bytes / (1024.0 * 1024)).ToString("0.0", CultureInfo.InvariantCulture)} MiB",
    };
}
