using System.Diagnostics;
using System.Globalization;

namespace Dlc.Cli;

/// <summary>
/// Seconds since dlc started, for "time to first step". bin/dlc checks the install and may rebuild before it execs
/// the program in the same process, so the process's own start time would count a build; the wrapper stamps
/// DLC_EXEC_AT (Unix seconds) just before the exec, and that is the start when it is present and not older than the
/// process. Run directly, the process start.
/// </summary>
internal static class StartClock
{
    private static readonly DateTime Start = StartOf(Environment.GetEnvironmentVariable("DLC_EXEC_AT"), Process.GetCurrentProcess().StartTime.ToUniversalTime());

    public static double Seconds() => (DateTime.UtcNow - Start).TotalSeconds;

    /// <summary>The stamp when it parses and falls after the process started (to the clock's 10 ms), else the process start.</summary>
    internal static DateTime StartOf(string? stamp, DateTime processStart)
    {
        if (!double.TryParse(stamp, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) || !double.IsFinite(seconds)) return processStart;
        var at = DateTime.UnixEpoch.AddSeconds(seconds);
        return at >= processStart.AddMilliseconds(-20) && at <= DateTime.UtcNow ? at : processStart;
    }
}
