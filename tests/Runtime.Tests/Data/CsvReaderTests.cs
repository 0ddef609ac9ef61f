using Dlc.Runtime.Data;

namespace Dlc.Runtime.Tests.Data;

public class CsvReaderTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private DataException Fails(string text, CsvOptions? options = null, string code = DataException.Malformed)
    {
        var path = _dir.Write("data.csv", text);
        var e = Should.Throw<DataException>(() => CsvReader.Load(path, options));
        e.Code.ShouldBe(code);
        e.Path.ShouldBe(path);
        return e;
    }

    [Fact]
    public void A_headed_file_with_integer_labels_in_the_last_column_is_a_classification_set()
    {
        var path = _dir.Write("data.csv", "a,b,label\n1.5,2,0\n-3e2, 4 ,2\n\n5,6,1\n");
        var data = CsvReader.Load(path);
        data.Name.ShouldBe("data");
        data.Count.ShouldBe(3);
        data.SampleShape.ShouldBe([2]);
        data.ClassCount.ShouldBe(3);
        data.Labels.ShouldBe([0f, 2f, 1f]);
        var x = new float[6];
        data.Gather([0, 1, 2], x, new float[3]);
        x.ShouldBe([1.5f, 2f, -300f, 4f, 5f, 6f]);
    }

    [Fact]
    public void A_header_names_every_feature_column_but_the_label_and_a_file_without_one_names_none()
    {
        CsvReader.Load(_dir.Write("h.csv", "a,b,label\n1.5,2,0\n5,6,1\n")).FeatureNames.ShouldBe(["a", "b"]);
        CsvReader.Load(_dir.Write("m.csv", "species,w,h\n1,10,20\n0,30,40\n"), new CsvOptions { LabelColumn = "species" })
            .FeatureNames.ShouldBe(["w", "h"]);
        CsvReader.Load(_dir.Write("n.csv", "1,2,0\n3,4,1\n")).FeatureNames.ShouldBeNull();
    }

    [Fact]
    public void The_names_line_under_the_scikit_learn_line_names_the_features()
    {
        CsvReader.Load(_dir.Write("b.csv", "2,2\nCRIM,ZN,MEDV\n0.1,18,24.0\n0.2,0,21.6\n")).FeatureNames.ShouldBe(["CRIM", "ZN"]);
    }

    [Fact]
    public void A_header_that_leaves_a_column_unnamed_is_malformed_naming_the_file_its_line_and_the_column()
    {
        // The first column is the index pandas writes by default.
        var e = Fails("\n,height,label\n0,1.5,0\n1,1.7,1\n");
        e.Message.ShouldBe("data.csv:2: the header leaves column 1 without a name");
        e.Help.ShouldBe("name every column of the header (a column pandas wrote for its index is left out with to_csv(..., index=False)), " +
                        "or name the features with the record's `features`");
        Fails("a, ,c,label\n1,2,3,0\n").Message.ShouldBe("data.csv:1: the header leaves column 2 without a name");
        Fails("2,3\nCRIM,,,MEDV\n0.1,18,3,24.0\n0.2,0,3,21.6\n").Message.ShouldBe("data.csv:2: the header leaves columns 2 and 3 without a name");
    }

    [Fact]
    public void A_header_that_names_two_columns_alike_is_malformed_naming_both()
    {
        var e = Fails("age,bmi,age,label\n1,2,3,0\n4,5,6,1\n");
        e.Message.ShouldBe("data.csv:1: the header names 2 columns 'age' (columns 1 and 3)");
        e.Help.ShouldBe("give every column a name of its own, or name the features with the record's `features`");
        Fails("x,x,x,y\n1,2,3,0\n").Message.ShouldBe("data.csv:1: the header names 3 columns 'x' (columns 1, 2 and 3)");
        // Names are compared as written: a header may tell `Age` from `age`.
        CsvReader.Load(_dir.Write("case.csv", "Age,age,label\n1,2,0\n")).FeatureNames.ShouldBe(["Age", "age"]);
    }

    [Fact]
    public void Names_the_caller_gives_leave_the_header_unchecked_but_a_label_named_twice_stays_ambiguous()
    {
        var path = _dir.Write("given.csv", ",x,x,label\n0,1,2,0\n1,3,4,1\n");
        CsvReader.Load(path, new CsvOptions { NamesGiven = true }).SampleSize.ShouldBe(3);
        var e = Should.Throw<DataException>(() => CsvReader.Load(path, new CsvOptions { NamesGiven = true, LabelColumn = "x" }));
        e.Message.ShouldBe("given.csv has 2 columns named 'x', so the label column is ambiguous");
    }

    [Fact]
    public void A_targets_files_column_is_not_taken_for_a_second_target_in_the_header()
    {
        var path = _dir.Write("x.csv", "a,target\n1,2\n3,4\n");
        var targets = _dir.Write("y.csv", "5\n6\n");
        CsvReader.Load(path, new CsvOptions { TargetsPath = targets, Classification = false }).FeatureNames.ShouldBe(["a", "target"]);
    }

    [Fact]
    public void Fractional_labels_make_a_regression_set()
    {
        var data = CsvReader.Load(_dir.Write("r.csv", "x,y\n1,0.5\n2,1.25\n"));
        data.ClassCount.ShouldBe(0);
        data.Labels.ShouldBe([0.5f, 1.25f]);
    }

    [Fact]
    public void Classification_can_be_turned_off_for_whole_number_targets()
    {
        var data = CsvReader.Load(_dir.Write("r.csv", "1,3\n2,4\n"), new CsvOptions { Classification = false });
        data.ClassCount.ShouldBe(0);
        data.Labels.ShouldBe([3f, 4f]);
    }

    [Fact]
    public void The_label_column_can_be_chosen_by_name_or_by_index()
    {
        var path = _dir.Write("d.csv", "species,w,h\n1,10,20\n0,30,40\n");
        var byName = CsvReader.Load(path, new CsvOptions { LabelColumn = "species" });
        byName.Labels.ShouldBe([1f, 0f]);
        byName.SampleSize.ShouldBe(2);
        var byIndex = CsvReader.Load(path, new CsvOptions { LabelColumn = 0 });
        var x = new float[2];
        byIndex.Gather([1], x, new float[1]);
        x.ShouldBe([30f, 40f]);
        var e = Should.Throw<DataException>(() => CsvReader.Load(path, new CsvOptions { LabelColumn = "colour" }));
        e.Message.ShouldBe("d.csv has no column named 'colour'; its columns are species, w, h");
    }

    [Fact]
    public void A_file_without_header_is_detected_as_such()
    {
        var data = CsvReader.Load(_dir.Write("n.csv", "1,2,0\n3,4,1\n"));
        data.Count.ShouldBe(2);
        CsvReader.Load(_dir.Write("h.csv", "1,2,0\n3,4,1\n"), new CsvOptions { HasHeader = true }).Count.ShouldBe(1);
    }

    [Fact]
    public void Text_labels_become_classes_in_sorted_order()
    {
        var data = CsvReader.Load(_dir.Write("t.csv", "5.1,3.5,setosa\n6.0,2.2,virginica\n5.5,2.4,versicolor\n4.9,3.0,setosa\n"));
        data.ClassNames.ShouldBe(["setosa", "versicolor", "virginica"]);
        data.Labels.ShouldBe([0f, 2f, 1f, 0f]);
    }

    [Fact]
    public void The_scikit_learn_first_line_gives_the_count_and_class_names()
    {
        var path = _dir.Write("iris.csv", "3,2,setosa,versicolor,virginica\n5.1,3.5,0\n7.0,3.2,1\n6.3,3.3,2\n");
        var data = CsvReader.Load(path);
        data.Count.ShouldBe(3);
        data.SampleShape.ShouldBe([2]);
        data.ClassNames.ShouldBe(["setosa", "versicolor", "virginica"]);
        data.Labels.ShouldBe([0f, 1f, 2f]);
    }

    [Fact]
    public void The_scikit_learn_form_with_a_names_line_and_no_classes_is_regression()
    {
        var data = CsvReader.Load(_dir.Write("b.csv", "2,2\nCRIM,ZN,MEDV\n0.1,18,24.0\n0.2,0,21.6\n"));
        data.ClassCount.ShouldBe(0);
        data.Labels.ShouldBe([24f, 21.6f]);
    }

    [Fact]
    public void Fewer_rows_than_the_scikit_learn_line_announces_is_truncation()
    {
        Fails("4,2,a,b\n1,2,0\n3,4,1\n", code: DataException.Truncated)
            .Message.ShouldBe("data.csv announces 4 samples on its first line but has 2 data rows");
    }

    [Fact]
    public void A_ragged_row_names_the_line_and_both_column_counts()
    {
        Fails("a,b,c\n1,2,3\n4,5\n").Message.ShouldBe("data.csv:3: expected 3 columns, found 2");
    }

    [Fact]
    public void A_value_that_is_not_a_number_names_the_line_and_column()
    {
        Fails("a,b,c\n1,2,0\n4,x,1\n").Message.ShouldBe("data.csv:3: column 2 (b) holds 'x', which is not a finite number");
        Fails("a,b,c\n1,,0\n").Message.ShouldBe("data.csv:2: column 2 (b) is empty");
        Fails("a,b,c\n1,NaN,0\n").Message.ShouldContain("not a finite number");
    }

    [Fact]
    public void A_text_label_in_a_regression_file_is_an_error()
    {
        Fails("x,y\n1,2.5\n2,high\n", new CsvOptions { Classification = false })
            .Message.ShouldBe("data.csv:3: column 2 (y) holds 'high', which is not a finite number");
    }

    [Fact]
    public void A_fractional_label_in_a_classification_file_is_an_error()
    {
        Fails("x,y\n1,2.5\n", new CsvOptions { Classification = true })
            .Message.ShouldBe("data.csv:2: label '2.5' in column 2 (y) is not a class index (a whole number from 0)");
    }

    [Fact]
    public void A_file_with_only_a_header_has_no_data()
    {
        Fails("a,b\n", new CsvOptions { HasHeader = true }).Message.ShouldBe("data.csv has no data rows");
    }

    [Fact]
    public void A_missing_file_is_not_found()
    {
        Should.Throw<DataException>(() => CsvReader.Load(_dir.File("none.csv"))).Code.ShouldBe(DataException.NotFound);
    }

    [Fact]
    public void Quoted_headers_and_gzip_files_are_read()
    {
        var text = "\"petal, length\",\"class\"\n1.5,0\n2.5,1\n"u8.ToArray();
        var data = CsvReader.Load(_dir.Write("q.csv.gz", IdxReaderTests.Gzip(text)), new CsvOptions { LabelColumn = "class" });
        data.Name.ShouldBe("q");
        data.Labels.ShouldBe([0f, 1f]);
    }

    [Fact]
    public void Blank_separated_features_take_their_targets_from_a_second_file()
    {
        // scikit-learn's diabetes form: a header-less table of features and a file of targets.
        var features = _dir.Write("x.csv", "59 2 32.1 101.0\n48  1\t21.6 87.0\n");
        var targets = _dir.Write("y.csv", "151\n75\n");
        var data = CsvReader.Load(features, new CsvOptions { TargetsPath = targets, Classification = false });
        data.SampleShape.ShouldBe([4]);
        data.Labels.ShouldBe([151f, 75f]);
        var x = new float[8];
        data.Gather([0, 1], x, new float[2]);
        x.ShouldBe([59f, 2f, 32.1f, 101f, 48f, 1f, 21.6f, 87f]);
    }

    [Fact]
    public void A_targets_file_with_another_row_count_is_an_error_naming_both_files()
    {
        var features = _dir.Write("x.csv", "1 2\n3 4\n5 6\n");
        var targets = _dir.Write("y.csv", "1\n2\n");
        var e = Should.Throw<DataException>(() => CsvReader.Load(features, new CsvOptions { TargetsPath = targets }));
        e.Path.ShouldBe(targets);
        e.Message.ShouldBe("y.csv has 2 targets, but x.csv has 3 data rows");
    }
}
