using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Dlc.Backend.Gemm;

/// <summary>
/// The tuner's decisions on disk, so a machine measures each shape once: a small JSON file
/// <c>{"version": 2, "machines": {"&lt;signature&gt;": {"build": "…", "NT 128x256x784": "managed", ...}}}</c> in the
/// user's cache folder. The signature names the CPU model, a hash of its feature flags and the thread count, so a
/// home folder shared between machines keeps their answers apart. A machine's decisions hold for the build of the
/// kernels that made them: another build (dlc updated, its kernels faster or slower at some shape) reads them as
/// missing and replaces them as it files its own. The file is only an optimisation: a
/// missing, unreadable or corrupt one reads as empty (and is replaced on the next write), and a folder that
/// cannot be written to simply gets no file. Writes go to a temporary file renamed over the old one, so a
/// reader never sees half a file; two processes writing at once lose at most the other's newest entry.
/// </summary>
public sealed class GemmTuningCache
{
    internal const string FileName = "gemm-tuning.json";
    // Shapes are filed as "NT 128x256x784" and plans as "plan <hash>": this key is neither.
    private const string BuildKey = "build";
    // 2: plans chosen by bursts of runs (see PlanTrial). Version 1's trial of single runs filed MKL for plans it runs far
    // slower (the MLP at batch 1: 190 µs against 13), so its decisions are measured again.
    private const int Version = 2;

    private readonly string? _path;

    /// <param name="folder">Where the file lives; null keeps decisions in memory only.</param>
    /// <param name="machine">The machine signature the entries are filed under.</param>
    /// <param name="build">The build of the kernels the decisions are about (see <see cref="KernelsBuild"/>).</param>
    internal GemmTuningCache(string? folder, string machine, string build = "")
    {
        _path = folder is null ? null : Path.Combine(folder, FileName);
        Machine = machine;
        Build = build;
    }

    internal string Machine { get; }

    internal string Build { get; }

    /// <summary>
    /// This build of the kernels and of the plans that call them: the backend assembly's module version id, which a
    /// deterministic build derives from its sources, so it changes exactly when they do.
    /// </summary>
    internal static string KernelsBuild => typeof(GemmTuningCache).Assembly.ManifestModule.ModuleVersionId.ToString("N")[..16];

    internal string? FilePath => _path;

    /// <summary>The cache for this machine in the user's cache folder.</summary>
    internal static GemmTuningCache ForThisMachine(int threads) =>
        new(UserFolder, MachineSignature(ReadCpuInfo(), threads), KernelsBuild);

    /// <summary>dlc's folder in the user's cache for this process's environment, or null when there is no home.</summary>
    public static string? UserFolder =>
        DefaultFolder(Environment.GetEnvironmentVariable, Environment.GetFolderPath(Environment.SpecialFolder.UserProfile));

    /// <summary>$XDG_CACHE_HOME/dlc when that is an absolute path (as the XDG spec requires), else ~/.cache/dlc.</summary>
    internal static string? DefaultFolder(Func<string, string?> environment, string? home)
    {
        var xdg = environment("XDG_CACHE_HOME");
        if (!string.IsNullOrEmpty(xdg) && Path.IsPathRooted(xdg)) return Path.Combine(xdg, "dlc");
        if (string.IsNullOrEmpty(home)) home = environment("HOME");
        return string.IsNullOrEmpty(home) ? null : Path.Combine(home, ".cache", "dlc");
    }

    /// <summary>"&lt;model name&gt; | flags &lt;hash&gt; | &lt;threads&gt; threads" from /proc/cpuinfo's text.</summary>
    internal static string MachineSignature(string cpuInfo, int threads)
    {
        string? model = null, flags = null;
        foreach (var line in cpuInfo.Split('\n'))
        {
            var colon = line.IndexOf(':');
            if (colon < 0) continue;
            var key = line[..colon].Trim();
            var value = line[(colon + 1)..].Trim();
            // x86 says "model name" and "flags"; ARM says "Features" and may have no model name at all.
            if (model is null && key == "model name") model = value;
            if (flags is null && key is "flags" or "Features") flags = value;
        }
        model ??= $"{System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture} ×{Environment.ProcessorCount}";
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(flags ?? ""))).AsSpan(0, 16);
        return $"{model} | flags {hash} | {threads} threads";
    }

    /// <summary>The provider name filed for this shape on this machine, or null.</summary>
    internal string? Lookup(GemmShape shape) => Lookup(shape.Key);

    /// <summary>The provider name filed under a key (a shape, or a whole plan) on this machine, or null.</summary>
    internal string? Lookup(string key)
    {
        try
        {
            return Entries(Read())?[key] is JsonValue value && value.TryGetValue<string>(out var name) ? name : null;
        }
        catch (Exception e) when (IsCacheError(e))
        {
            return null;
        }
    }

    /// <summary>Files a decision; never throws (a cache that cannot be written is left alone).</summary>
    internal void Store(GemmShape shape, string provider) => Store(shape.Key, provider);

    internal void Store(string key, string provider)
    {
        if (_path is null) return;
        string? temp = null;
        try
        {
            // Re-read first, so decisions other processes filed since this one started are kept.
            var root = Read() ?? new JsonObject();
            root["version"] = Version;
            if (root["machines"] is not JsonObject machines) root["machines"] = machines = new JsonObject();
            // Another build's decisions for this machine are dropped as this one files its first.
            if (machines[Machine] is not JsonObject entries || !OfThisBuild(entries))
                machines[Machine] = entries = new JsonObject { [BuildKey] = Build };
            entries[key] = provider;
            Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
            temp = $"{_path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
            File.WriteAllText(temp, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            File.Move(temp, _path, overwrite: true);
            temp = null;
        }
        catch (Exception e) when (IsCacheError(e))
        {
            // Not writable (read-only folder, a file where the folder should be, disk full): stay in memory.
        }
        finally
        {
            if (temp is not null) TryDelete(temp);
        }
    }

    /// <summary>The file's root object, or null when it is missing, unreadable, not JSON or another version.</summary>
    private JsonObject? Read()
    {
        if (_path is null) return null;
        try
        {
            if (!File.Exists(_path)) return null;
            return JsonNode.Parse(File.ReadAllText(_path)) is JsonObject root
                && root["version"] is JsonValue version && version.TryGetValue<int>(out var v) && v == Version
                ? root
                : null;
        }
        catch (Exception e) when (IsCacheError(e))
        {
            return null;
        }
    }

    /// <summary>What a damaged or inaccessible cache can throw (JSON nodes throw the last three on odd content).</summary>
    private static bool IsCacheError(Exception e) =>
        e is IOException or UnauthorizedAccessException or JsonException or NotSupportedException or InvalidOperationException
            or ArgumentException or FormatException;

    /// <summary>This machine's decisions, when this build filed them.</summary>
    private JsonObject? Entries(JsonObject? root) =>
        root?["machines"] is JsonObject machines && machines[Machine] is JsonObject entries && OfThisBuild(entries) ? entries : null;

    private bool OfThisBuild(JsonObject entries) =>
        entries[BuildKey] is JsonValue build && build.TryGetValue<string>(out var id) && id == Build;

    private static string ReadCpuInfo()
    {
        try
        {
            return File.Exists("/proc/cpuinfo") ? File.ReadAllText("/proc/cpuinfo") : "";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }
}
