using Dlc.Compiler.Jobs;
using Dlc.Runtime.Data;
using Dlc.Runtime.Training;

namespace Dlc.Runtime.Tests.Data;

/// <summary>
/// Genre classification of the Brown Corpus: texts cut into windows of words labelled by genre, the last short window
/// padded with 0 or dropped, and the split by whole texts.
/// </summary>
public class GenreDataTests
{
    private static string Tagged(params string[] words) => "\n\n\t" + string.Join(" ", words.Select(w => w + "/nn")) + "\n";

    [Fact]
    public void A_text_is_cut_into_windows_of_its_genre_with_the_short_last_one_padded_or_dropped()
    {
        var vocabulary = WordVocabulary.Build([["a", "b", "c", "d", "e"]], lowercase: false);
        var texts = new[]
        {
            // 10 words: windows of 4, 4 and 2 (kept: at least a quarter of 4) padded with 0.
            new BrownCorpus.TaggedDocument("ca01", "news", [new(["a", "b", "c", "d", "e"], new string[5]), new(["a", "b", "c", "d", "x"], new string[5])]),
            // 8 words: two whole windows.
            new BrownCorpus.TaggedDocument("cr01", "humor", [new(["e", "d", "c", "b", "a", "e", "d", "c"], new string[8])]),
        };
        var data = GenreData.Windows("t", texts, vocabulary, 4);
        data.Count.ShouldBe(5);
        data.Labels.ShouldBe([10, 10, 10, 6, 6]);
        data.ClassNames![10].ShouldBe("news");
        var x = new float[5 * 4];
        var y = new float[5];
        data.Gather([0, 1, 2, 3, 4], x, y);
        // a..e are 2..6 (0 is padding, 1 unknown: `x`).
        x.ShouldBe([2, 3, 4, 5, /**/ 6, 2, 3, 4, /**/ 5, 1, 0, 0, /**/ 6, 5, 4, 3, /**/ 2, 6, 5, 4]);
        // Windows of 9: the last of `ca01` has 1 word of 9, under a quarter, and is dropped.
        GenreData.Windows("t", texts[..1], vocabulary, 9).Count.ShouldBe(1);
    }

    [Fact]
    public void Every_tenth_text_is_held_out_whole_and_an_unknown_genre_names_the_catalogue()
    {
        using var folder = new TempDirectory();
        var ids = Enumerable.Range(1, 20).Select(i => $"c{(i <= 10 ? 'a' : 'r')}{i:00}").ToArray();
        folder.Write("cats.txt", string.Join("\n", ids.Select(id => $"{id} {(id[1] == 'a' ? "news" : "humor")}")) + "\n");
        foreach (var (id, i) in ids.Select((id, i) => (id, i))) folder.Write(id, Tagged(Enumerable.Repeat($"w{i}", 8).ToArray()));
        var spec = new DataSpec(DataKind.BrownCorpus, default) { Task = "genre", Level = "word", Sequence = 4, Validation = 0.2 };
        var data = GenreData.Load(spec, seed: 1, words: null, folder.Path);
        // Texts 10 and 20 are the test set: two windows each, of their own words only.
        data.Test!.Count.ShouldBe(4);
        data.Test.Labels.ShouldBe([10, 10, 6, 6]);
        data.Validation!.Count.ShouldBe(2 * 4);
        data.Train.Count.ShouldBe(2 * 14);
        // The test texts' words never occur in training, so they are unknown (1).
        var x = new float[4 * 4];
        data.Test.Gather([0, 1, 2, 3], x, new float[4]);
        x.ShouldAllBe(v => v == 1f);

        folder.Write("cats.txt", "ca01 poetry\n");
        var ex = Should.Throw<DataException>(() => GenreData.Load(spec, 1, null, folder.Path));
        ex.Message.ShouldBe("cats.txt gives ca01 the genre `poetry`, which is not one of the Brown Corpus's 15");
    }
}
