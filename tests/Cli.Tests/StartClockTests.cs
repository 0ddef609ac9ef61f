using System.Globalization;

namespace Dlc.Cli.Tests;

/// <summary>"First step" counts from bin/dlc's exec, not from the wrapper's checks and build in the same process.</summary>
public class StartClockTests
{
    private static readonly DateTime ProcessStart = DateTime.UtcNow.AddSeconds(-30);

    private static string Stamp(DateTime at) => (at - DateTime.UnixEpoch).TotalSeconds.ToString("0.000000", CultureInfo.InvariantCulture);

    [Fact]
    public void The_wrappers_stamp_after_the_process_started_is_the_start()
    {
        var exec = ProcessStart.AddSeconds(12.5);
        (StartClock.StartOf(Stamp(exec), ProcessStart) - exec).Duration().ShouldBeLessThan(TimeSpan.FromMilliseconds(1));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("soon")]
    [InlineData("NaN")]
    public void Without_a_usable_stamp_the_process_start_counts(string? stamp) =>
        StartClock.StartOf(stamp, ProcessStart).ShouldBe(ProcessStart);

    [Fact]
    public void A_stamp_from_before_the_process_or_from_the_future_is_ignored()
    {
        // A DLC_EXEC_AT left in a shell from an earlier run, and a clock stamp not yet reached.
        StartClock.StartOf(Stamp(ProcessStart.AddMinutes(-5)), ProcessStart).ShouldBe(ProcessStart);
        StartClock.StartOf(Stamp(DateTime.UtcNow.AddHours(1)), ProcessStart).ShouldBe(ProcessStart);
    }
}
