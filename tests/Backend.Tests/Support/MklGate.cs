using Dlc.Backend.Native;

namespace Dlc.Backend.Tests.Support;

/// <summary>
/// Guards the tests that need Intel MKL. xunit 2 has no runtime skip, so without MKL such a test returns early
/// and passes; set DLC_REQUIRE_MKL=1 (as CI does where MKL is installed) to make it fail with MKL's load error
/// instead. Test names carrying "when_mkl_is_present" use this gate.
/// </summary>
internal static class MklGate
{
    public const string RequireVariable = "DLC_REQUIRE_MKL";

    public static bool Available()
    {
        if (Mkl.IsAvailable) return true;
        if (Environment.GetEnvironmentVariable(RequireVariable) == "1")
            throw new ShouldAssertException($"{RequireVariable}=1 but MKL cannot be used: {Mkl.LoadError}");
        return false;
    }
}
