namespace Dlc.Cli.Tests.Support;

/// <summary>What one in-process run of dlc printed and returned.</summary>
public sealed record CliRun(int ExitCode, string Out, string Error)
{
    /// <summary>Everything the user sees, for messages when an assertion fails.</summary>
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Out}\n--- stderr\n{Error}";
}

/// <summary>Runs dlc in-process with captured output, as `bin/dlc` would with stdout and stderr redirected.</summary>
public static class Shell
{
    /// <summary>
    /// Runs a command. Commands that compute (train, eval, bench) get `--threads 1` unless the arguments
    /// set it: the tests share two cores, and one thread also makes the arithmetic order fixed.
    /// </summary>
    public static CliRun Run(params string[] args) => Run(CancellationToken.None, null, args);

    public static CliRun Run(CancellationToken cancel, TextWriter? stderr, params string[] args)
    {
        var all = args.ToList();
        if (all.Count > 0 && all[0] is "train" or "eval" or "bench" or "explain" && !all.Contains("--threads")) all.InsertRange(1, ["--threads", "1"]);
        var stdout = new StringWriter();
        var error = stderr ?? new StringWriter();
        var code = DlcCli.Run([.. all], stdout, error, cancel);
        return new CliRun(code, stdout.ToString(), error.ToString() ?? "");
    }

    /// <summary>Asserts a failure the user can act on: the exit code, the message, and no stack trace.</summary>
    public static CliRun ShouldFailWith(this CliRun run, int exitCode, params string[] fragments)
    {
        run.ExitCode.ShouldBe(exitCode, run.ToString());
        run.Error.ShouldNotContain("   at ", Case.Sensitive, run.ToString());
        run.Error.ShouldNotContain("internal error", Case.Sensitive, run.ToString());
        foreach (var fragment in fragments) run.Error.ShouldContain(fragment, Case.Sensitive, run.ToString());
        return run;
    }

    public static CliRun ShouldSucceed(this CliRun run)
    {
        run.ExitCode.ShouldBe(ExitCodes.Ok, run.ToString());
        return run;
    }
}

/// <summary>A folder of its own for one test, removed afterwards.</summary>
public sealed class TempFolder : IDisposable
{
    public TempFolder() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "dlc-cli-tests", Guid.NewGuid().ToString("N"));

    /// <summary>A path inside the folder (nothing is created).</summary>
    public string this[string name] => System.IO.Path.Combine(Path, name);

    /// <summary>Writes a text file and returns its path.</summary>
    public string Write(string name, string text)
    {
        File.WriteAllText(this[name], text);
        return this[name];
    }

    /// <summary>The names of every file under the folder, relative to it, sorted.</summary>
    public IReadOnlyList<string> Files(string under = "") =>
        Directory.EnumerateFiles(this[under], "*", SearchOption.AllDirectories)
            .Select(f => System.IO.Path.GetRelativePath(this[under], f)).Order(StringComparer.Ordinal).ToList();

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}

/// <summary>The repository, found by walking up from the test assembly to dlc.sln.</summary>
public static class Repository
{
    public static string Root { get; } = Find();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "dlc.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no dlc.sln above {AppContext.BaseDirectory}");
    }

    public static IEnumerable<string> Examples => Directory.EnumerateFiles(Path.Combine(Root, "examples"), "*.dl").Order(StringComparer.Ordinal);
}
