using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Dlc.Backend.Gemm;
using Dlc.Backend.Plans;
using Dlc.Cli.Output;
using Dlc.Compiler.Elaboration;
using Dlc.Compiler.Ir;
using Dlc.Compiler.Jobs;
using Dlc.Compiler.Passes;
using Dlc.Diagnostics;
using Dlc.Runtime.Checkpoints;
using Dlc.Runtime.Training;
using Dlc.Syntax;

namespace Dlc.Cli.Commands;

/// <summary>
/// `dlc compile file.dl --emit ast|ir|ir-opt|dot|plan [--train] [--report]`: what the compiler makes of a
/// model at each stage, the compiled plan's steps and memory, and which fusions fired and which did not.
/// </summary>
internal static class CompileCommand
{
    private static readonly string[] Forms = ["ast", "ir", "ir-opt", "dot", "plan"];

    public static Command Create(CliContext context)
    {
        var file = CommonOptions.File();
        var model = new Option<string?>("--model") { Description = "which model of the file (default: the first)" };
        var emit = new Option<string>("--emit")
        {
            Description = "what to print: ast (the syntax tree), ir (the elaborated IR), ir-opt (after the compiler's passes), " +
                          "dot (Graphviz source), plan (the compiled plan's steps and memory)",
            DefaultValueFactory = _ => "ir",
            Validators = { r => { if (!Forms.Contains(r.GetValueOrDefault<string>())) r.AddError($"--emit must be one of {string.Join(", ", Forms)}"); } },
        };
        var train = new Option<bool>("--train") { Description = "the training step (forward, loss and gradients) instead of inference" };
        var report = new Option<bool>("--report") { Description = "list each fusion the plan made, with its source lines, and each one it did not make, with the reason" };
        var batch = new Option<int?>("--batch")
        {
            Description = "the batch size a plan is compiled for (default: the train record's, else 128)",
            CustomParser = r => CommonOptions.Number<int>(r, "--batch", "a whole number", v => v >= 1, "1 or more"),
        };
        var length = new Option<int?>("--length")
        {
            Description = "the sequence length T a plan of a sequence model is compiled for (default: the train record's `sequence` or the lengths `dates` gives, else 64)",
            CustomParser = r => CommonOptions.Number<int>(r, "--length", "a whole number", v => v >= 1, "1 or more"),
        };
        var passes = CommonOptions.Passes();
        var noPass = CommonOptions.NoPass();
        var threads = CommonOptions.Threads();
        var output = new Option<string?>("--out") { Description = "write to this file instead of stdout; with --emit dot, a .svg or .png is drawn by Graphviz's `dot`" };
        var command = new Command("compile", "show what the compiler makes of a model: syntax tree, IR, Graphviz graph, compiled plan")
        {
            file, model, emit, train, report, batch, length, passes, noPass, threads, output,
        };
        command.SetAction(parse =>
        {
            var path = parse.GetValue(file)!;
            var compiled = CommonOptions.Compile(path);
            var form = parse.GetValue(report) ? "report" : parse.GetValue(emit)!;
            var target = parse.GetValue(output);
            if (form == "ast")
            {
                Write(context, target, SyntaxTreeDumper.Dump(compiled.Unit, compiled.Source));
                return ExitCodes.Ok;
            }
            var chosen = SelectModel(compiled, parse.GetValue(model));
            var training = parse.GetValue(train);
            var spec = compiled.Trains.FirstOrDefault(t => t.Model == chosen.Name);
            if (training && spec is null)
                throw new DiagnosticException(DiagnosticCatalog.NoTrainRecord.At(compiled.Source, chosen.Span,
                    $"--train: `{chosen.Name}` has no `train` record, so it has no loss to differentiate",
                    $"add one, for example `train {chosen.Name} {{ data = fashionMnist; loss = crossEntropy; optimizer = adam }}`"));
            var what = $"{chosen.Name} ({(training ? "training step" : "inference")})";
            var chosenPasses = CommonOptions.PassesOf(parse, passes, noPass);
            switch (form)
            {
                case "ir" or "ir-opt" or "dot":
                {
                    var forward = training ? compiled.Elaborate(chosen.Name, training: true) : chosen;
                    var graph = training ? TrainingGraph.Build(forward, spec!.Loss, spec.LabelSmoothing).Graph : chosen.Graph;
                    var ran = new List<string>();
                    if (form == "ir-opt") graph = PassPipeline.Run(graph, chosenPasses, (pass, _) => ran.Add(pass.Name));
                    if (form == "dot") WriteDot(context, target, DotPrinter.Print(graph, chosen.Name));
                    else Write(context, target, $"# {what}{(form == "ir-opt" ? $", after {(ran.Count == 0 ? "no passes" : string.Join(", ", ran))}" : "")}\n"
                                                + IrPrinter.Print(graph, IrPrinter.SourceComments(SourcesOf(graph, forward))));
                    return ExitCodes.Ok;
                }
                default:
                {
                    var size = parse.GetValue(batch) ?? spec?.Batch ?? 128;
                    // The plan's steps and buffers do not depend on the GEMM provider, but on its threads (a batch of one
                    // chains products only where they split over threads); the managed one needs no timing trial.
                    var gemm = GemmProviders.Create(GemmProviders.ManagedName, parse.GetValue(threads), out _);
                    // Symbols past the batch (a sequence's T) take --length, else the record's sequence, else 64.
                    var sequence = parse.GetValue(length) ?? (spec?.Data.Sequence is > 0 and var s ? s : 64);
                    var lengths = chosen.Inputs.SelectMany(i => i.Shape.Dims.Skip(1)).Select(d => d.Symbol).OfType<string>()
                        .Distinct().ToDictionary(symbol => symbol, _ => sequence);
                    // Pairs of sequences (`dates`) give the source's and the decoder's lengths themselves.
                    if (spec is { Data.IsSequencePairs: true } && parse.GetValue(length) is null && spec.Model == chosen.Name)
                        foreach (var (symbol, given) in JobSetup.Lengths(spec.Data, chosen.Inputs)) lengths[symbol] = given;
                    using var runtime = new ModelRuntime(compiled, chosen.Name, spec?.Loss ?? LossKind.Mse, gemm, spec?.Seed ?? 0)
                    {
                        Passes = chosenPasses,
                        Lengths = lengths,
                    };
                    var plan = training ? runtime.TrainingPlan(size) : runtime.InferencePlan(size);
                    var forward = training ? runtime.Train : runtime.Eval;
                    var text = form == "report" ? Report(plan, SourcesOf(plan.Graph, forward), what, size) : Plan(plan, what, size);
                    Write(context, target, text);
                    return ExitCodes.Ok;
                }
            }
        });
        return command;
    }

    private static ModelGraph SelectModel(CompiledFile compiled, string? name)
    {
        if (compiled.Models.Count == 0)
            throw new DiagnosticException(DiagnosticCatalog.NoModel.At(compiled.Source, default, $"{compiled.Source.Path} has no model to compile"));
        if (name is null) return compiled.Models[0];
        return compiled.Models.FirstOrDefault(m => m.Name == name)
               ?? throw new UsageException($"--model {name}: the file has {string.Join(", ", compiled.Models.Select(m => m.Name))}");
    }

    private static string Plan(ExecutionPlan plan, string what, int batch)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"plan of {what}, batch {batch}: {plan.StepCount} steps\n");
        for (var i = 0; i < plan.StepLabels.Count; i++) sb.Append(CultureInfo.InvariantCulture, $"  {i + 1,4}  {plan.StepLabels[i]}\n");
        var memory = plan.Memory();
        sb.Append("memory of activations and gradients (parameters and their gradients excluded):\n");
        sb.Append(CultureInfo.InvariantCulture, $"  a buffer per value (naive)                   {Summaries.Bytes(memory.NaiveBytes),10}\n");
        sb.Append(CultureInfo.InvariantCulture, $"  planned peak (liveness, greedy by size)      {Summaries.Bytes(memory.PlannedBytes),10}  {Percent(memory.PlannedBytes, memory.NaiveBytes)} of naive\n");
        sb.Append(CultureInfo.InvariantCulture, $"  lower bound (most bytes alive at one step)   {Summaries.Bytes(memory.LowerBoundBytes),10}\n");
        sb.Append(CultureInfo.InvariantCulture, $"  held by the plan                             {Summaries.Bytes(memory.AllocatedBytes),10}  {Percent(memory.AllocatedBytes, memory.NaiveBytes)} of naive\n");
        sb.Append(plan.SharesMemory
            ? "  (values share one arena by liveness; inputs, outputs and each kernel's scratch keep their own)\n"
            : "  (the `share-memory` pass is off: every value has a buffer of its own)\n");
        return sb.ToString();
    }

    /// <summary>
    /// The file each node of a graph built on a model came from, found by the node's source span: nodes past the
    /// model's own (loss, gradients) carry the span of the forward node they differentiate, and passes renumber
    /// nodes but keep their spans.
    /// </summary>
    private static Func<int, SourceText> SourcesOf(Graph graph, ModelGraph forward)
    {
        var bySpan = new Dictionary<TextSpan, SourceText>();
        foreach (var node in forward.Graph.Nodes)
        {
            if (node.Origin is { } span) bySpan.TryAdd(span, forward.SourceOf(node.Id));
        }
        return id => graph[id].Origin is { } span && bySpan.TryGetValue(span, out var source) ? source : forward.Source;
    }

    private static string Report(ExecutionPlan plan, Func<int, SourceText> sourceOf, string what, int batch)
    {
        var findings = plan.Fusions();
        var sb = new StringBuilder();
        var fired = findings.Count(f => f.Fired);
        sb.Append(CultureInfo.InvariantCulture, $"fusions in {what}, batch {batch}: {fired} fired, {findings.Count - fired} not\n");
        foreach (var f in findings.OrderBy(f => !f.Fired).ThenBy(f => f.Consumer))
        {
            var nodes = string.Join(" + ", f.Nodes.Select(n => $"%{n} {OpTable.Info(plan.Graph[n].Op).Name}"));
            sb.Append(CultureInfo.InvariantCulture, $"  {(f.Fired ? "fused    " : "not fused")}  {f.Kind}: {nodes}  ({Lines(plan.Graph, sourceOf, f.Nodes)})\n");
            if (f.Reason is not null) sb.Append("             because ").Append(f.Reason).Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>`fashion_mlp.dl:13` or `fashion_mlp.dl:13-14`: the source lines the nodes came from.</summary>
    private static string Lines(Graph graph, Func<int, SourceText> sourceOf, IReadOnlyList<int> nodes)
    {
        var spans = nodes.Where(n => graph[n].Origin is not null).Select(n => (Source: sourceOf(n), Span: graph[n].Origin!.Value)).ToList();
        if (spans.Count == 0) return "no source line";
        var source = spans[0].Source;
        var lines = spans.Where(s => s.Source == source)
            .SelectMany(s => new[] { source.GetPosition(s.Span.Start).Line, source.GetPosition(Math.Max(s.Span.Start, s.Span.End - 1)).Line }).ToList();
        var (first, last) = (lines.Min(), lines.Max());
        return $"{Path.GetFileName(source.Path)}:{first}{(last > first ? $"-{last}" : "")}";
    }

    private static string Percent(long part, long whole) =>
        whole == 0 ? "-" : (100.0 * part / whole).ToString("0", CultureInfo.InvariantCulture) + "%";

    private static void Write(CliContext context, string? path, string text)
    {
        if (path is null)
        {
            context.Out.Write(text);
            return;
        }
        AtomicFile.WriteAllBytes(path, Encoding.UTF8.GetBytes(text));
        context.Error.WriteLine($"wrote {path}");
    }

    /// <summary>Graphviz source to stdout or a .dot file; a .svg or .png is drawn by `dot`, which must be installed.</summary>
    private static void WriteDot(CliContext context, string? path, string source)
    {
        var format = Path.GetExtension(path ?? "").ToLowerInvariant() switch { ".svg" => "svg", ".png" => "png", _ => null };
        if (path is null || format is null)
        {
            Write(context, path, source);
            return;
        }
        var temporary = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, $".{Path.GetFileName(path)}.{Environment.ProcessId}.tmp");
        try
        {
            using var dot = Process.Start(new ProcessStartInfo("dot", ["-T" + format, "-o", temporary])
            {
                RedirectStandardInput = true, RedirectStandardError = true, UseShellExecute = false,
            })!;
            dot.StandardInput.Write(source);
            dot.StandardInput.Close();
            var errors = dot.StandardError.ReadToEnd();
            dot.WaitForExit();
            if (dot.ExitCode != 0)
                throw new DiagnosticException(DiagnosticCatalog.WriteFailed.At(null, default, $"{path}: Graphviz's `dot` failed: {errors.Trim()}"));
            File.Move(temporary, path, overwrite: true);
            context.Error.WriteLine($"wrote {path}");
        }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new DiagnosticException(DiagnosticCatalog.WriteFailed.At(null, default,
                $"{path}: drawing a graph needs Graphviz's `dot`, which is not installed",
                $"install it (`apt-get install graphviz`), or write the Graphviz source with `--out {Path.ChangeExtension(path, ".dot")}`"));
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }
}
