using Dlc.Runtime.Training;

namespace Dlc.Runtime.Tests.Training;

/// <summary>Per-class precision, recall and F1, checked against scikit-learn's classification_report on the same counts.</summary>
public class ClassificationReportTests
{
    [Fact]
    public void Precision_recall_and_f1_are_those_of_scikit_learn()
    {
        // y_true = [0,0,0,1,1,2], y_pred = [0,0,1,1,2,2]: sklearn gives precision [1, .5, .5], recall [.667, .5, 1],
        // f1 [.8, .5, .667], macro f1 0.6556.
        long[] confusion = [2, 1, 0, 0, 1, 1, 0, 0, 1];
        var report = ClassificationReport.From(confusion, 3, ["a", "b", "c"]);
        report.Classes.Select(c => c.Name).ShouldBe(["a", "b", "c"]);
        report.Classes.Select(c => c.Precision).ShouldBe([1, 0.5, 0.5], 1e-12);
        report.Classes.Select(c => c.Recall).ShouldBe([2 / 3.0, 0.5, 1], 1e-12);
        report.Classes.Select(c => c.F1).ShouldBe([0.8, 0.5, 2 / 3.0], 1e-12);
        report.Classes.Select(c => c.Support).ShouldBe([3L, 2, 1]);
        report.MacroF1.ShouldBe((0.8 + 0.5 + 2 / 3.0) / 3, 1e-12);
    }

    [Fact]
    public void A_class_never_predicted_has_precision_0_and_one_that_never_occurs_is_left_out()
    {
        long[] confusion = [2, 0, 0, 1, 0, 0, 0, 0, 0];
        var report = ClassificationReport.From(confusion, 3, null);
        report.Classes.Select(c => c.Name).ShouldBe(["0", "1"]);
        report.Classes[1].Precision.ShouldBe(0);
        report.Classes[1].F1.ShouldBe(0);
        report.MacroF1.ShouldBe(0.4, 1e-12);
    }
}
