using Dlc.Runtime.Data;

namespace Dlc.Runtime.Tests.Data;

/// <summary>A CSV column read as a series, and its windows.</summary>
public class TimeSeriesTests
{
    [Fact]
    public void A_column_is_read_by_its_quoted_header_name_or_by_position()
    {
        using var folder = new TempDirectory();
        var path = folder.Write("s.csv", "\"YEAR\",\"SUNACTIVITY\"\n1700,5\n1701,11\n1702,16.5\n");
        TimeSeries.Read(path, "SUNACTIVITY").ShouldBe([5, 11, 16.5]);
        TimeSeries.Read(path, "0").ShouldBe([1700, 1701, 1702]);
        TimeSeries.Read(path, null).ShouldBe([5, 11, 16.5]);
        Should.Throw<DataException>(() => TimeSeries.Read(path, "sunspots")).Message.ShouldBe("s.csv has no column `sunspots`");
    }

    [Fact]
    public void A_value_that_is_not_a_number_is_an_error_at_its_line()
    {
        using var folder = new TempDirectory();
        var path = folder.Write("s.csv", "t,v\n1,2\n2,NA\n");
        var ex = Should.Throw<DataException>(() => TimeSeries.Read(path, "v"));
        ex.Code.ShouldBe(DataException.Malformed);
        ex.Message.ShouldBe("s.csv:3: `NA` in column 2 (v) is not a number");
    }

    [Fact]
    public void Each_window_is_followed_by_its_horizon_of_targets_all_scaled_alike()
    {
        double[] values = [1, 2, 3, 4, 5, 6];
        var set = TimeSeries.Windows("s", values, window: 3, horizon: 2, mean: 1, std: 2);
        set.Count.ShouldBe(2);
        set.TargetSize.ShouldBe(2);
        var x = new float[6];
        var y = new float[4];
        set.Gather([0, 1], x, y);
        x.ShouldBe([0f, 0.5f, 1f, 0.5f, 1f, 1.5f]);
        y.ShouldBe([1.5f, 2f, 2f, 2.5f]);
    }
}
