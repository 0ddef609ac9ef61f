using Dlc.Runtime.Data;

namespace Dlc.Runtime.Tests.Data;

/// <summary>Word lists made into a language-identification task: cleaning, shared words, balance, padding.</summary>
public class WordListTests
{
    [Fact]
    public void A_word_is_lower_cased_and_kept_only_when_it_is_letters_only()
    {
        WordLists.Clean("  Straße\n").ShouldBe("straße");
        WordLists.Clean("ABC").ShouldBe("abc");
        WordLists.Clean("cat's").ShouldBeNull();
        WordLists.Clean("aujourd'hui").ShouldBeNull();
        WordLists.Clean("abaisse-langue").ShouldBeNull();
        WordLists.Clean("100-jarig").ShouldBeNull();
        WordLists.Clean("").ShouldBeNull();
        WordLists.Clean("Café").ShouldBe("café");
    }

    [Fact]
    public void Words_of_several_languages_are_dropped_from_all_of_them_and_each_list_is_sorted()
    {
        using var folder = new TempDirectory();
        folder.Write("one", "taxi\nzebra\nApple\napple\ncat's\nhaus\n");
        folder.Write("two", "Haus\nTaxi\nbaum\nstraße\n");
        var (words, shared) = WordLists.Load(["one", "two"], folder.Path);
        shared.ShouldBe(2);
        words[0].ShouldBe(["apple", "zebra"]);
        words[1].ShouldBe(["baum", "straße"]);
    }

    [Fact]
    public void Every_language_keeps_as_many_words_as_the_smallest_has_drawn_by_the_seed()
    {
        string[][] words = [Enumerable.Range(0, 50).Select(i => $"a{i:D2}").ToArray(), ["b1", "b2", "b3", "b4", "b5"]];
        var balanced = WordLists.Balance(words, null, seed: 7);
        balanced.Select(w => w.Length).ShouldBe([5, 5]);
        balanced[1].ShouldBe(words[1]);
        balanced[0].ShouldBeSubsetOf(words[0]);
        WordLists.Balance(words, null, seed: 7)[0].ShouldBe(balanced[0]);
        WordLists.Balance(words, null, seed: 8)[0].ShouldNotBe(balanced[0]);
        WordLists.Balance(words, perLanguage: 3, seed: 7).Select(w => w.Length).ShouldBe([3, 3]);
    }

    [Fact]
    public void Words_are_padded_in_front_and_long_ones_keep_their_ending()
    {
        var vocabulary = CharVocabulary.Build(["abcdefgh"]);
        var encoded = WordLists.Encode(["bad", "abcdefgh"], vocabulary, 5);
        encoded.ShouldBe(new byte[] { 0, 0, 2, 1, 4, 4, 5, 6, 7, 8 });
        WordLists.Decode(encoded.AsSpan(0, 5).ToArray().Select(b => (float)b).ToArray(), vocabulary).ShouldBe("bad");
        // A character the training words never had is index 0, as the padding.
        WordLists.Encode(["axb"], vocabulary, 3).ShouldBe(new byte[] { 1, 0, 2 });
    }

    [Fact]
    public void A_missing_list_names_its_file_and_the_package_that_installs_it()
    {
        using var folder = new TempDirectory();
        var ex = Should.Throw<DataException>(() => WordLists.Load(["german", "french"], folder.Path));
        ex.Code.ShouldBe(DataException.NotFound);
        ex.Message.ShouldBe($"the word list of german, {Path.Combine(folder.Path, "ngerman")}, does not exist");
        ex.Help.ShouldBe("install it: apt-get install wngerman (bin/setup does)");
        folder.Write("klingon", "qapla\n");
        folder.Write("vulcan", "qapla\n");
        Should.Throw<DataException>(() => WordLists.Load(["klingon", "vulcan"], folder.Path)).Message
            .ShouldBe($"{Path.Combine(folder.Path, "klingon")} has 0 words of letters only that no other language has");
    }
}
