using System.CommandLine;
using Dlc.Backend.Gemm;
using Dlc.Backend.Native;
using Dlc.Compiler.Elaboration;
using Dlc.Diagnostics;

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
        Validators = { r => { if (r.GetValueOrDefault<int>() is < 1 or > 1024) r.AddError("--threads must be between 1 and 1024"); } },
    };

    public static Option<string?> Gemm() => new("--gemm")
    {
        Description = "matrix-multiply provider: mkl or managed (default: mkl when installed)",
        Validators = { r => { if (r.GetValueOrDefault<string?>() is { } v && v is not ("mkl" or "managed")) r.AddError("--gemm must be `mkl` or `managed`"); } },
    };

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
        var gemm = GemmProviders.Create(name, threads, out var warning);
        if (Mkl.IsAvailable) Mkl.SetThreads(threads);
        if (warning is not null) context.Error.WriteLine($"warning DL0907: {warning}");
        return gemm;
    }
}
