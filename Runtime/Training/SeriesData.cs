using Dlc.Compiler.Jobs;
using Dlc.Runtime.Data;

namespace Dlc.Runtime.Training;

/// <summary>
/// How a series was scaled for training: a value v is stored as (v − Mean) / Std, with the training part's mean and
/// standard deviation, so an error in stored units times Std is an error in the series' own units.
/// </summary>
public sealed record SeriesScale(double Mean, double Std);

/// <summary>
/// `timeSeries { name | path; column; window; horizon; validation; test }`: the windows of a series in time order,
/// split chronologically, never shuffled: the first windows train, the next `validation` fraction validate, the last
/// `test` fraction test, so every validation and test target comes after every training target. The mean and std
/// that scale the whole series are those of the values the training windows read (inputs and targets), so nothing
/// of the held-out future leaks into training.
/// </summary>
internal static class SeriesData
{
    public static JobData Load(DataSpec spec, Func<string, string> resolve)
    {
        var settings = spec.Series!;
        var (path, column, name) = settings.Name is { } builtIn
            ? (TimeSeries.PathOf(builtIn), settings.Column ?? TimeSeries.DefaultColumn(builtIn), builtIn)
            : (resolve(spec.Path!), settings.Column, Path.GetFileNameWithoutExtension(spec.Path!));
        var help = settings.Name is null ? null : "install it: apt-get install python3-statsmodels (bin/setup does)";
        var values = TimeSeries.Read(path, column, help);
        var (window, horizon) = (settings.Window, settings.Horizon);
        var count = values.Length - window - horizon + 1;
        var testCount = Held(count, settings.Test);
        var validationCount = Held(count, spec.Validation);
        var trainCount = count - testCount - validationCount;
        if (trainCount < 1)
            throw new DataException(DataException.Malformed, path,
                $"{Path.GetFileName(path)} has {values.Length} values: {Math.Max(0, count)} windows of {window} and {horizon} after, which leave none to train on after {testCount} test and {validationCount} validation windows",
                "shorten `window`, or hold out less");
        // The training windows read values[0 .. trainCount − 1 + window + horizon).
        var seen = values.AsSpan(0, trainCount - 1 + window + horizon);
        var mean = Mean(seen);
        var std = Math.Sqrt(Mean(seen, mean));
        if (!(std > 1e-12)) std = 1;
        Dataset Part(string part, int first, int windows) =>
            TimeSeries.Windows($"{name}/{part}", values.AsSpan(first, windows - 1 + window + horizon), window, horizon, mean, std);
        return new JobData(
            Part("train", 0, trainCount),
            validationCount == 0 ? null : Part("validation", trainCount, validationCount),
            testCount == 0 ? null : Part("test", trainCount + validationCount, testCount))
        {
            Scale = new SeriesScale(mean, std),
        };
    }

    private static double Mean(ReadOnlySpan<double> values, double? around = null)
    {
        double sum = 0;
        foreach (var v in values) sum += around is { } m ? (v - m) * (v - m) : v;
        return sum / values.Length;
    }

    private static int Held(int count, double fraction) =>
        fraction == 0 || count < 1 ? 0 : Math.Max(1, (int)Math.Round(count * fraction, MidpointRounding.AwayFromZero));
}
