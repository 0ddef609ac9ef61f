using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Dlc.Backend.Gemm;
using Dlc.Backend.Native;
using Dlc.Compiler.Elaboration;
using Dlc.Compiler.Jobs;
using Dlc.Compiler.Passes;
using Dlc.Diagnostics;
using Dlc.Runtime.Training;

namespace Dlc.Cli.Commands;

/// <summary>Arguments and options several commands share, and the steps they share (read, compile, pick a GEMM).</summary>
internal static class CommonOptions
{
    public static Argument<string> File() => new("file") { Description = "the .dl file" };

    public static Option<bool> Json() => new("--json") { Description = "print a JSON document on stdout instead of text" };

    public static Option<int> Threads() => new("--threads")
    {
        Description = "CPU threads for the math kernels",
        DefaultValueFactory = _ => Math.Min(2, Environment.ProcessorCount),
        CustomParser = r => Number<int>(r, "--threads", "a whole number", v => v is >= 1 and <= 1024, "between 1 and 1024"),
    };

    /// <summary>
    /// Parses and range-checks a number option in one step, so an unreadable value is a parse error
    /// naming the option. (A validator calling GetValueOrDefault would throw on such a value instead:
    /// System.CommandLine runs validators even after a failed conversion.)
    /// </summary>
    public static T Number<T>(ArgumentResult result, string option, string kind, Func<T, bool> inRange, string range)
        where T : struct, IParsable<T>
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        if (!T.TryParse(text, CultureInfo.InvariantCulture, out var value))
        {
            result.AddError($"{option} must be {kind}, not '{text}'");
            return default;
        }
        if (!inRange(value)) result.AddError($"{option} must be {range}");
        return value;
    }

    public static Option<string?> Gemm() => new("--gemm")
    {
        Description = "matrix-multiply provider: auto (the default: the fastest provider measured at each product's shape, " +
                      "remembered per machine), mkl or managed",
        Validators = { r => { if (r.GetValueOrDefault<string?>() is { } v && v is not ("auto" or "mkl" or "managed")) r.AddError("--gemm must be `auto`, `mkl` or `managed`"); } },
    };

    public static Option<string?> Conv() => new("--conv")
    {
        Description = "how 3×3 stride-1 convolutions are computed: auto (the default: Winograd's F(2×2, 3×3) where it applies) or im2col",
        Validators = { r => { if (r.GetValueOrDefault<string?>() is { } v && v is not ("auto" or "im2col")) r.AddError("--conv must be `auto` or `im2col`"); } },
    };

    public static Option<string?> Passes() => new("--passes")
    {
        Description = "the compiler passes to run, comma-separated, or `all` (the default) or `none`: " + string.Join(", ", PassSet.Known.Select(p => p.Name)),
        Validators = { r => { if (r.GetValueOrDefault<string?>() is { } v) Check(r, "--passes", v, []); } },
    };

    public static Option<string[]> NoPass() => new("--no-pass")
    {
        Description = "a compiler pass not to run (repeat it or separate names with commas)",
        Validators = { r => Check(r, "--no-pass", null, r.GetValueOrDefault<string[]>() ?? []) },
    };

    /// <summary>The passes `--passes` and `--no-pass` choose.</summary>
    public static PassSet PassesOf(ParseResult parse, Option<string?> passes, Option<string[]> noPass) =>
        PassSet.Parse(parse.GetValue(passes), parse.GetValue(noPass) ?? [], out _);

    /// <summary>Report on <paramref name="result"/> a pass name that `--passes`/`--no-pass` gives and no pass has.</summary>
    private static void Check(OptionResult result, string option, string? passes, IReadOnlyList<string> without)
    {
        PassSet.Parse(passes, without, out var error);
        if (error is not null) result.AddError($"{option}: {error}");
    }

    /// <summary>The trained weights a command reads (required).</summary>
    public static Option<string> Checkpoint(string description = "model.safetensors (or its run folder)") =>
        new("--checkpoint") { Description = description, Required = true };

    public static Option<string?> Model() => new("--model") { Description = "which model or train record of the file (default: the first)" };

    /// <summary>Read and compile a file; any error becomes diagnostics (exit code 1).</summary>
    public static CompiledFile Compile(string path)
    {
        if (!System.IO.File.Exists(path))
            throw new DiagnosticException(DiagnosticCatalog.FileNotFound.At(null, default, $"{path}: no such file",
                Directory.Exists(path) ? "this is a folder; give the path of a .dl file" : null));
        var file = ProgramCompiler.Compile(SourceText.FromFile(path));
        if (file.HasErrors) throw new DiagnosticException(file.Diagnostics);
        return file;
    }

    /// <summary>The GEMM provider for this run, with MKL's thread count set; a fallback warning is printed once.</summary>
    public static IGemm CreateGemm(CliContext context, string? name, int threads)
    {
        if (name == GemmProviders.MklName && !Mkl.IsAvailable) throw new UsageException($"--gemm mkl: {Mkl.LoadError}");
        var gemm = GemmProviders.Create(name ?? GemmProviders.AutoName, threads, out var warning);
        if (!Mkl.IsAvailable && name is null) warning ??= $"using the managed GEMM only: {Mkl.LoadError}";
        if (Mkl.IsAvailable) Mkl.SetThreads(threads);
        if (warning is not null) context.Error.WriteLine($"warning DL0907: {warning}");
        return gemm;
    }
}
