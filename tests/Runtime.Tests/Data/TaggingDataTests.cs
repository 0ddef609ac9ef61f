using Dlc.Backend.Kernels;
using Dlc.Runtime.Data;

namespace Dlc.Runtime.Tests.Data;

/// <summary>
/// Word vocabularies, the Brown-to-universal tag mapping, the document split of the tagging task, padded
/// sentences and batches of sentences of similar length.
/// </summary>
public class TaggingDataTests
{
    private static readonly string[][] Sentences =
    [
        ["The", "cat", "saw", "the", "dog"],
        ["the", "dog", "ran"],
        ["A", "cat", "ran", "."],
    ];

    [Fact]
    public void A_word_vocabulary_keeps_0_for_padding_and_1_for_unknown_then_the_words_by_frequency()
    {
        var vocabulary = WordVocabulary.Build(Sentences, lowercase: true);
        // the ×3, cat ×2, dog ×2, ran ×2, then the words seen once in ordinal order.
        vocabulary.Words.ShouldBe(["the", "cat", "dog", "ran", ".", "a", "saw"]);
        vocabulary.Size.ShouldBe(9);
        vocabulary.Encode("The").ShouldBe(2);
        vocabulary.Encode("THE").ShouldBe(2);
        vocabulary.Encode("zebra").ShouldBe(WordVocabulary.Unknown);
        vocabulary.Decode(0).ShouldBe("<pad>");
        vocabulary.Decode(1).ShouldBe("<unk>");
        vocabulary.Decode(3).ShouldBe("cat");
    }

    [Fact]
    public void Min_count_and_max_vocabulary_drop_the_rare_words_and_case_can_be_kept()
    {
        WordVocabulary.Build(Sentences, lowercase: true, minCount: 2).Words.ShouldBe(["the", "cat", "dog", "ran"]);
        // At most 4 indices: padding, unknown and the two most frequent words.
        WordVocabulary.Build(Sentences, lowercase: true, maxVocabulary: 4).Words.ShouldBe(["the", "cat"]);
        var cased = WordVocabulary.Build(Sentences, lowercase: false);
        cased.Words.Take(4).ShouldBe(["cat", "dog", "ran", "the"]);
        cased.Encode("The").ShouldNotBe(cased.Encode("the"));
    }

    [Fact]
    public void A_saved_vocabulary_encodes_as_the_one_it_was_saved_from()
    {
        var vocabulary = WordVocabulary.Build(Sentences, lowercase: true, minCount: 2);
        var loaded = WordVocabulary.Deserialize(vocabulary.Serialize());
        loaded.Words.ShouldBe(vocabulary.Words);
        loaded.Lowercase.ShouldBeTrue();
        loaded.Encode("Dog").ShouldBe(vocabulary.Encode("Dog"));
        Should.Throw<FormatException>(() => WordVocabulary.Deserialize("the\ncat"));
    }

    [Theory]
    [InlineData("at", "DET")]
    [InlineData("np-tl", "NOUN")]
    [InlineData("NN$", "NOUN")]
    [InlineData("pps+bez", "PRT")]
    [InlineData("ber*", "VERB")]
    [InlineData("*", "ADV")]
    [InlineData("''", ".")]
    [InlineData("pp$", "DET")]
    [InlineData("wp$", "DET")]
    [InlineData("abn", "PRT")]
    [InlineData("ex", "PRT")]
    [InlineData("od", "ADJ")]
    [InlineData("cs", "ADP")]
    [InlineData("fw-nn", "X")]
    [InlineData("no-such-tag", "X")]
    public void Brown_tags_map_to_the_universal_tags_as_nltk_maps_them(string brown, string universal) =>
        BrownTagset.Universal[BrownTagset.ToUniversal(brown)].ShouldBe(universal);

    [Fact]
    public void The_mapping_lists_each_of_the_472_tags_of_the_corpus_once_into_12_universal_tags()
    {
        BrownTagset.Count.ShouldBe(472);
        BrownTagset.Universal.Count.ShouldBe(12);
        BrownTagset.Universal.Distinct().Count().ShouldBe(12);
    }

    [Fact]
    public void The_installed_corpus_has_nltks_universal_tag_counts()
    {
        // NLTK: brown.tagged_words(categories='news', tagset='universal'), counted by tag.
        if (!Directory.Exists(BrownCorpus.ResolveRoot())) return;
        var counts = new int[12];
        var tags = BrownCorpus.LoadTagged().Where(d => d.Genre == "news").SelectMany(d => d.Sentences).SelectMany(s => s.Tags);
        foreach (var tag in tags) counts[BrownTagset.ToUniversal(tag)]++;
        var byName = BrownTagset.Universal.Select((t, i) => (t, counts[i])).ToDictionary();
        byName.ShouldBe(new Dictionary<string, int>
        {
            ["NOUN"] = 30654, ["VERB"] = 14399, ["ADP"] = 12355, ["."] = 11928, ["DET"] = 11389, ["ADJ"] = 6706,
            ["ADV"] = 3349, ["CONJ"] = 2717, ["PRON"] = 2535, ["PRT"] = 2264, ["NUM"] = 2166, ["X"] = 92,
        }, ignoreOrder: true);
    }

    [Fact]
    public void Tagged_lines_split_each_word_at_its_last_slash_and_a_token_without_a_tag_names_its_line()
    {
        var sentences = BrownCorpus.ParseTagged("\n\n\tThe/at 1/2/cd ./.\n\n\tOK/uh\n", "ca01");
        sentences.Select(s => string.Join(" ", s.Words)).ShouldBe(["The 1/2 .", "OK"]);
        sentences[0].Tags.ShouldBe(["at", "cd", "."]);
        Should.Throw<DataException>(() => BrownCorpus.ParseTagged("The/at\njury/nn said\n", "ca01"))
            .Message.ShouldBe("ca01, line 2: `said` is not a tagged word (a word, a slash and its tag, as `The/at`)");
    }

    [Fact]
    public void Every_tenth_document_is_the_test_set_and_validation_is_drawn_from_the_rest_by_the_seed()
    {
        var documents = Enumerable.Range(1, 100).ToArray();
        var (train, validation, test) = TaggedSequences.SplitDocuments(documents, 0.1, seed: 3);
        test.ShouldBe([10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
        validation.Count.ShouldBe(9);
        train.Count.ShouldBe(81);
        train.Concat(validation).Concat(test).Order().ShouldBe(documents);
        validation.ShouldBe(validation.Order());
        TaggedSequences.SplitDocuments(documents, 0.1, seed: 3).Validation.ShouldBe(validation);
        TaggedSequences.SplitDocuments(documents, 0.1, seed: 4).Validation.ShouldNotBe(validation);
        TaggedSequences.SplitDocuments(documents, 0.1, seed: 4).Test.ShouldBe(test);
    }

    [Fact]
    public void Sentences_are_padded_with_index_0_and_the_ignore_label_and_a_batch_is_cut_to_its_steps()
    {
        var sentences = Sentences.Select(w => new BrownCorpus.TaggedSentence(w, w.Select(_ => "nn").ToArray())).ToArray();
        var vocabulary = WordVocabulary.Build(Sentences, lowercase: true);
        var data = TaggedSequences.Encode("t", sentences, vocabulary, BrownTagset.ToUniversal, BrownTagset.Universal);
        data.Count.ShouldBe(3);
        data.HasLengths.ShouldBeTrue();
        data.LengthOf(1).ShouldBe(3);
        var (x, y) = (new float[3 * 4], new float[3 * 4]);
        // Sentences 1 and 2 in a batch of three rows of 4 steps: the third row is padding only.
        data.GatherSequences([1, 2], x, y, steps: 4, rows: 3);
        x.ShouldBe([2, 4, 5, 0, /**/ 7, 3, 5, 6, /**/ 0, 0, 0, 0]);
        const float pad = Losses.IgnoreLabel;
        y.ShouldBe([0, 0, 0, pad, /**/ 0, 0, 0, 0, /**/ pad, pad, pad, pad]);
        Should.Throw<ArgumentException>(() => data.GatherSequences([0], x, y, steps: 4, rows: 3)).Message.ShouldContain("has 5 positions");
        // A subset keeps each sample's length.
        data.Subset([2, 0]).LengthOf(1).ShouldBe(5);
    }

    [Fact]
    public void Bucketed_batches_hold_sentences_of_similar_length_and_each_epoch_is_a_permutation_fixed_by_the_seed()
    {
        var lengths = Enumerable.Range(0, 1000).Select(i => 1 + i * 7919 % 97).ToArray();
        var sampler = new BatchSampler(1000, 10, shuffle: true, dropLast: false, seed: 5, lengthOf: i => lengths[i]);
        var spread = new List<int>();
        var order = new List<int>();
        for (var b = 0; b < sampler.BatchesPerEpoch; b++)
        {
            var batch = sampler.Batch(b).ToArray();
            order.AddRange(batch);
            spread.Add(batch.Max(i => lengths[i]) - batch.Min(i => lengths[i]));
        }
        order.Order().ShouldBe(Enumerable.Range(0, 1000));
        // Sorted within 500 samples, a batch of 10 spans about 2 of the 97 lengths; at random it would span most of them.
        spread.Average().ShouldBeLessThan(5);
        var again = new BatchSampler(1000, 10, shuffle: true, dropLast: false, seed: 5, lengthOf: i => lengths[i]);
        again.Batch(7).ToArray().ShouldBe(sampler.Batch(7).ToArray());
        sampler.StartEpoch(2);
        sampler.Batch(7).ToArray().ShouldNotBe(again.Batch(7).ToArray());
    }
}
