using Dlc.Runtime.Data;

namespace Dlc.Runtime.Tests.Data;

/// <summary>The Brown Corpus reader, character vocabularies and the sequences a language model trains on.</summary>
public class TextDataTests
{
    [Fact]
    public void Tagged_sentences_become_prose_with_ordinary_spacing_one_sentence_a_line()
    {
        const string tagged = "\n\n\tThe/at jury/nn said/vbd ,/, ``/`` it/pps did/dod (/( not/* )/) ''/'' ./.\n\n\n\tAtlanta's/np$ mayor/nn ?/.\n";
        BrownCorpus.Detokenize(tagged).ShouldBe("The jury said, \"it did (not)\".\nAtlanta's mayor?\n");
    }

    [Fact]
    public void The_corpus_is_read_in_the_order_of_its_catalogue()
    {
        using var folder = new TempDirectory();
        folder.Write("cats.txt", "cb02 editorial\nca01 news\n");
        folder.Write("ca01", "\n\n\tThe/at Fulton/np-tl jury/nn ./.\n");
        folder.Write("cb02", "\n\n\tAssembly/nn-tl session/nn ./.\n");
        var documents = BrownCorpus.Load(folder.Path);
        documents.Select(d => (d.Id, d.Genre, d.Text)).ShouldBe([("cb02", "editorial", "Assembly session.\n"), ("ca01", "news", "The Fulton jury.\n")]);
    }

    [Fact]
    public void A_missing_corpus_or_text_is_an_error_that_names_the_file()
    {
        using var folder = new TempDirectory();
        var missing = Path.Combine(folder.Path, "nowhere");
        Should.Throw<DataException>(() => BrownCorpus.Load(missing)).Message.ShouldBe($"the Brown Corpus folder {missing} does not exist");
        folder.Write("cats.txt", "ca01 news\n");
        var ex = Should.Throw<DataException>(() => BrownCorpus.Load(folder.Path));
        ex.Code.ShouldBe(DataException.NotFound);
        ex.Message.ShouldBe($"{Path.Combine(folder.Path, "ca01")} does not exist, but cats.txt lists it");
        folder.Write("cats.txt", "ca01\n");
        Should.Throw<DataException>(() => BrownCorpus.Load(folder.Path)).Message.ShouldEndWith("line 1: expected a text and its genre (`ca01 news`), found `ca01`");
    }

    [Fact]
    public void A_vocabulary_numbers_the_characters_from_1_and_keeps_0_for_unseen_ones()
    {
        var vocabulary = CharVocabulary.Build(["hello", "world"]);
        vocabulary.Characters.ShouldBe("dehlorw");
        vocabulary.Size.ShouldBe(8);
        vocabulary.Encode('d').ShouldBe(1);
        vocabulary.Encode('w').ShouldBe(7);
        vocabulary.Encode('z').ShouldBe(0);
        vocabulary.Decode(0).ShouldBe(CharVocabulary.Unknown);
        new CharVocabulary(vocabulary.Characters).Encode('r').ShouldBe(vocabulary.Encode('r'));
    }

    [Fact]
    public void Windows_predict_each_next_character_and_follow_each_other_without_overlap()
    {
        var vocabulary = CharVocabulary.Build(["abcdefgh"]);
        var data = CharSequences.Windows("t", "abcdefgh", vocabulary, 3, vocabulary.Size);
        data.Count.ShouldBe(2);
        data.TargetSize.ShouldBe(3);
        var (x, y) = (new float[6], new float[6]);
        data.Gather([1, 0], x, y);
        x.ShouldBe([4f, 5, 6, 1, 2, 3]);
        y.ShouldBe([5f, 6, 7, 2, 3, 4]);
        var (xs, ys) = (new float[3], new float[3]);
        data.Subset([1]).Gather([0], xs, ys);
        ys.ShouldBe([5f, 6, 7]);
    }

    [Fact]
    public void Held_out_documents_depend_on_the_seed_alone_and_keep_their_order()
    {
        var documents = Enumerable.Range(0, 50).Select(i => $"doc{i}").ToArray();
        var (train, validation) = CharSequences.SplitDocuments(documents, 0.1, 7);
        validation.Count.ShouldBe(5);
        train.Concat(validation).Order().ShouldBe(documents.Order());
        validation.ShouldBe(validation.OrderBy(d => int.Parse(d[3..])));
        CharSequences.SplitDocuments(documents, 0.1, 7).Validation.ShouldBe(validation);
        CharSequences.SplitDocuments(documents, 0.1, 8).Validation.ShouldNotBe(validation);
        CharSequences.SplitDocuments(documents, 0.001, 7).Validation.Count.ShouldBe(1);
    }
}
