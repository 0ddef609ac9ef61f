namespace Dlc.Runtime.Training;

/// <summary>Precision, recall and F1 of one class, and how many samples have it as their label.</summary>
public sealed record ClassScores(string Name, double Precision, double Recall, double F1, long Support);

/// <summary>
/// Per-class precision, recall and F1 from a confusion matrix, and their unweighted mean over the classes (macro),
/// as scikit-learn's <c>classification_report</c> gives them. A class never predicted has precision 0, one never
/// a label recall 0 (scikit-learn's <c>zero_division = 0</c>); classes that are neither a label nor a prediction
/// are left out of the macro mean, as scikit-learn leaves out labels that do not occur.
/// </summary>
public sealed record ClassificationReport(IReadOnlyList<ClassScores> Classes, double MacroPrecision, double MacroRecall, double MacroF1)
{
    /// <param name="confusion">[classes, classes]: row = label, column = prediction.</param>
    public static ClassificationReport From(long[] confusion, int classes, IReadOnlyList<string>? names)
    {
        if (confusion.Length != classes * classes) throw new ArgumentException($"{confusion.Length} cells for {classes} classes", nameof(confusion));
        var rows = new List<ClassScores>();
        for (var c = 0; c < classes; c++)
        {
            long truePositives = confusion[c * classes + c], labelled = 0, predicted = 0;
            for (var k = 0; k < classes; k++)
            {
                labelled += confusion[c * classes + k];
                predicted += confusion[k * classes + c];
            }
            if (labelled == 0 && predicted == 0) continue;
            var precision = predicted == 0 ? 0 : truePositives / (double)predicted;
            var recall = labelled == 0 ? 0 : truePositives / (double)labelled;
            var f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
            rows.Add(new ClassScores(names is not null && c < names.Count ? names[c] : c.ToString(System.Globalization.CultureInfo.InvariantCulture),
                precision, recall, f1, labelled));
        }
        return new ClassificationReport(rows, rows.Average(r => r.Precision), rows.Average(r => r.Recall), rows.Average(r => r.F1));
    }
}

/// <summary>
/// A forecaster's mean absolute error in the series' own units, next to the naive forecast's: every value of the
/// horizon predicted to be the window's last value.
/// </summary>
public sealed record ForecastErrors(double ModelMae, double NaiveMae, double ModelRmse, double NaiveRmse);
