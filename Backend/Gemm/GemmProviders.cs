using Dlc.Backend.Native;

namespace Dlc.Backend.Gemm;

/// <summary>Picks a GEMM provider by name.</summary>
public static class GemmProviders
{
    public const string MklName = "mkl";
    public const string ManagedName = "managed";
    public const string AutoName = GemmTuner.AutoName;

    /// <summary>
    /// "mkl" (throws InvalidOperationException when MKL is missing), "managed", "auto" (a
    /// <see cref="GemmTuner"/> over MKL, when available, and the managed provider: plans ask it to
    /// <see cref="IGemm.Choose"/> per product shape), or null for MKL when it is available and the managed
    /// provider otherwise. In that fallback <paramref name="warning"/> gets a
    /// one-line explanation for the caller to show; this library never prints.
    /// </summary>
    /// <param name="threads">Threads for the provider; 0 or less means one per processor.</param>
    public static IGemm Create(string? name, int threads, out string? warning) =>
        Create(name, threads, Mkl.IsAvailable, Mkl.LoadError, out warning);

    /// <summary>The choice itself, with MKL's state passed in so the fallback can be tested.</summary>
    internal static IGemm Create(string? name, int threads, bool mklAvailable, string? mklError, out string? warning)
    {
        warning = null;
        if (threads <= 0) threads = Environment.ProcessorCount;
        switch (name?.Trim().ToLowerInvariant())
        {
            case MklName:
                if (!mklAvailable) throw new InvalidOperationException(mklError);
                return new MklGemm(threads);
            case ManagedName:
                return new ManagedGemm(threads);
            case AutoName:
                return new GemmTuner(mklAvailable ? [new MklGemm(threads), new ManagedGemm(threads)] : [new ManagedGemm(threads)], threads);
            case null or "":
                if (mklAvailable) return new MklGemm(threads);
                warning = $"using the managed GEMM: {mklError}";
                return new ManagedGemm(threads);
            default:
                throw new ArgumentException($"Unknown GEMM provider '{name}'; expected '{MklName}', '{ManagedName}' or '{AutoName}'.", nameof(name));
        }
    }
}
