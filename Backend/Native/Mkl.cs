using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;

namespace Dlc.Backend.Native;

/// <summary>
/// Checked access to Intel MKL. The library is looked for once, on first use: the path in DLC_MKL, then
/// libmkl_rt.so, then libmkl_rt.so.1. Before any other MKL call the threading layer is set to GNU OpenMP
/// (libgomp; Intel's libiomp5 is not assumed to exist) and the interface layer to LP64 (32-bit MKL_INT).
/// Nothing here throws DllNotFoundException: when MKL is missing, <see cref="IsAvailable"/> is false,
/// <see cref="LoadError"/> says why in one line, and every call throws InvalidOperationException with it.
/// </summary>
public static unsafe class Mkl
{
    /// <summary>Environment variable naming another copy of libmkl_rt to use.</summary>
    public const string PathVariable = "DLC_MKL";

    internal static readonly string[] DefaultNames = ["libmkl_rt.so", "libmkl_rt.so.1"];

    // Written by Load before its first MKL call, because the import resolver reads it during that call.
    private static nint s_handle;
    private static readonly State s_state = Load();

    public static bool IsAvailable => s_state.Available;

    /// <summary>Why MKL cannot be used, or null when it can.</summary>
    public static string? LoadError => s_state.Error;

    /// <summary>MKL's own version string, e.g. "Intel(R) Math Kernel Library Version 2020.0.4 ...".</summary>
    public static string? Version => s_state.Version;

    /// <summary>The file or name the library was loaded from.</summary>
    public static string? LibraryPath => s_state.Path;

    /// <summary>"gnu" when MKL runs on GNU OpenMP threads, "sequential" when libgomp could not be made
    /// visible to it (then MKL uses one thread), "none" when MKL is missing.</summary>
    public static string ThreadingLayer => s_state.Threading;

    /// <summary>Whether cblas_sgemm_batch_strided exists (MKL 2020 update 2 and later).</summary>
    public static bool HasBatchStrided => s_state.Available && NativeLibrary.TryGetExport(s_handle, "cblas_sgemm_batch_strided", out _);

    /// <summary>Threads MKL will use for its next parallel call.</summary>
    public static int MaxThreads
    {
        get { EnsureAvailable(); return MklNative.GetMaxThreads(); }
    }

    /// <summary>Sets the number of threads for all of MKL (process-wide).</summary>
    public static void SetThreads(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        EnsureAvailable();
        MklNative.SetNumThreads(threads);
    }

    /// <summary>Throws InvalidOperationException carrying <see cref="LoadError"/> when MKL is missing.</summary>
    public static void EnsureAvailable()
    {
        if (!s_state.Available) throw new InvalidOperationException(s_state.Error);
    }

    /// <summary>y = exp(x) with MKL VML (high-accuracy mode); y may be x itself.</summary>
    public static void Exp(ReadOnlySpan<float> x, Span<float> y) => Vml(x, y, &MklNative.vsExp);

    /// <summary>y = ln(x) with MKL VML; y may be x itself.</summary>
    public static void Ln(ReadOnlySpan<float> x, Span<float> y) => Vml(x, y, &MklNative.vsLn);

    /// <summary>y = tanh(x) with MKL VML; y may be x itself.</summary>
    public static void Tanh(ReadOnlySpan<float> x, Span<float> y) => Vml(x, y, &MklNative.vsTanh);

    /// <summary>y = erf(x) with MKL VML; y may be x itself.</summary>
    public static void Erf(ReadOnlySpan<float> x, Span<float> y) => Vml(x, y, &MklNative.vsErf);

    /// <summary>Double erf, kept only to check the reference erf independently.</summary>
    internal static void Erf(ReadOnlySpan<double> x, Span<double> y)
    {
        EnsureAvailable();
        if (y.Length != x.Length) throw new ArgumentException("x and y must have the same length.", nameof(y));
        if (x.IsEmpty) return;
        fixed (double* px = x, py = y) MklNative.vdErf(x.Length, px, py);
    }

    private static void Vml(ReadOnlySpan<float> x, Span<float> y, delegate*<int, float*, float*, void> function)
    {
        EnsureAvailable();
        if (y.Length != x.Length) throw new ArgumentException("x and y must have the same length.", nameof(y));
        if (x.IsEmpty) return;
        fixed (float* px = x, py = y) function(x.Length, px, py);
    }

    internal sealed record State(bool Available, string? Error, string? Path, string? Version, string Threading);

    /// <summary>The one-line message for a missing library, with the hint to install or point at one.</summary>
    internal static string NotFoundMessage(string? customPath) =>
        "Intel MKL (libmkl_rt.so) was not found"
        + (string.IsNullOrEmpty(customPath) ? "" : $" ({PathVariable}={customPath} could not be loaded either)")
        + "; bin/setup installs it (Debian non-free: libmkl-rt); set DLC_MKL to its path to use another copy";

    /// <summary>Loads the first candidate that opens and has every required export; no MKL call is made.</summary>
    internal static (nint Handle, string? Path, string? Error) FindLibrary(IEnumerable<string> candidates, string? customPath)
    {
        foreach (var candidate in candidates)
        {
            if (!NativeLibrary.TryLoad(candidate, out var handle)) continue;
            var missing = MklNative.RequiredExports.FirstOrDefault(e => !NativeLibrary.TryGetExport(handle, e, out _));
            if (missing is null) return (handle, candidate, null);
            NativeLibrary.Free(handle);
            return (0, candidate, $"Intel MKL at {candidate} lacks {missing}; bin/setup installs a complete one (Debian non-free: libmkl-rt); set DLC_MKL to its path to use another copy");
        }
        return (0, null, NotFoundMessage(customPath));
    }

    private static State Load()
    {
        var custom = Environment.GetEnvironmentVariable(PathVariable);
        var candidates = string.IsNullOrEmpty(custom) ? DefaultNames : [custom, .. DefaultNames];
        var (handle, path, error) = FindLibrary(candidates, custom);
        if (handle == 0) return new State(false, error, path, null, "none");

        s_handle = handle;
        NativeLibrary.SetDllImportResolver(typeof(Mkl).Assembly, Resolve);

        // MKL's GNU threading layer does not link libgomp itself; without libgomp's symbols in the global
        // scope the first threaded call dies with "undefined symbol: omp_get_num_procs". Sequential MKL is
        // the safe choice when they cannot be made global.
        var wanted = MakeGnuOpenMpGlobal() ? MklNative.ThreadingGnu : MklNative.ThreadingSequential;
        var layer = MklNative.SetThreadingLayer(wanted);
        var iface = MklNative.SetInterfaceLayer(MklNative.InterfaceLp64);
        if (iface != MklNative.InterfaceLp64)
            return new State(false, $"Intel MKL at {path} refused the LP64 interface layer (got {iface})", path, null, "none");
        var threading = layer switch
        {
            MklNative.ThreadingGnu => "gnu",
            MklNative.ThreadingSequential => "sequential",
            _ => $"layer {layer}",
        };
        return new State(true, null, path, ReadVersion(), threading);
    }

    private static nint Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath) =>
        libraryName == MklNative.Library ? s_handle : 0;

    /// <summary>The OpenMP wait policy MKL's threads get unless the environment sets one.</summary>
    internal const string WaitPolicy = "PASSIVE";

    private static bool MakeGnuOpenMpGlobal()
    {
        if (!OperatingSystem.IsLinux()) return false;
        // libgomp reads its wait policy once, when it is loaded. Its default keeps MKL's threads spinning for a
        // while after each threaded call, on the cores the plan's own threads are about to use: a character LSTM
        // trained 12% slower, and a transformer's loss gradient after an MKL exp took 19 ms instead of 3. A user's
        // OMP_WAIT_POLICY still wins (overwrite = 0).
        try { LibC.SetEnv("OMP_WAIT_POLICY", WaitPolicy, 0); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
        const int flags = LibC.RtldNow | LibC.RtldGlobal;
        try { return LibC.DlOpenLibC("libgomp.so.1", flags) != 0; }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
        try { return LibC.DlOpenLibDl("libgomp.so.1", flags) != 0; }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { return false; }
    }

    private static string ReadVersion()
    {
        const int size = 256;
        var buffer = stackalloc byte[size];
        new Span<byte>(buffer, size).Clear();
        MklNative.GetVersionString(buffer, size - 1);
        var text = new ReadOnlySpan<byte>(buffer, size);
        var end = text.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? text : text[..end]).Trim();
    }
}
