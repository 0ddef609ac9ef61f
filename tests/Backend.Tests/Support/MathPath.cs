using Dlc.Backend.Kernels;

namespace Dlc.Backend.Tests.Support;

/// <summary>
/// Runs a test body on one VectorMath path: "managed" always, "mkl" only when MKL is present (see MklGate).
/// The override is per thread, so parallel test classes do not disturb each other.
/// </summary>
internal static class MathPath
{
    public static TheoryData<string> Paths() => ["managed", "mkl"];

    /// <summary>Runs body on the named path; returns false (and runs nothing) for "mkl" without MKL.</summary>
    public static bool Run(string path, Action body)
    {
        var mkl = path == "mkl";
        if (mkl && !MklGate.Available()) return false;
        using (VectorMath.Force(mkl)) body();
        return true;
    }
}
