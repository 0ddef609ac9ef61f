using Dlc.Runtime.Data;

namespace Dlc.Runtime.Tests.Data;

/// <summary>GPT-2's BPE restricted to the tokens a training text uses, and its saved form.</summary>
public class BpeVocabularyTests
{
    [Fact]
    public void Gpt2_tokens_are_those_of_gpt2()
    {
        // " world" is one token with its leading space, as in GPT-2's own vocabulary.
        BpeVocabulary.Tokenize("Hello world").ShouldBe([15496, 995]);
    }

    [Fact]
    public void The_vocabulary_keeps_the_training_tokens_most_frequent_first_and_decodes_through_gpt2()
    {
        var vocabulary = BpeVocabulary.Build([BpeVocabulary.Tokenize("the cat and the dog and the bird")]);
        vocabulary.Ids[0].ShouldBe(BpeVocabulary.Tokenize(" the")[0]);
        vocabulary.Size.ShouldBe(vocabulary.Ids.Count + 1);
        var encoded = vocabulary.Encode("the dog and the cat");
        encoded.ShouldNotContain(BpeVocabulary.Unknown);
        vocabulary.Decode(encoded).ShouldBe("the dog and the cat");
        // " horse" was never seen: index 0, written as U+FFFD.
        vocabulary.Decode(vocabulary.Encode("the horse")).ShouldBe("the\uFFFD");

        var again = BpeVocabulary.Deserialize(vocabulary.Serialize());
        again.Ids.ShouldBe(vocabulary.Ids);
        again.Tokenizer.ShouldBe("gpt2");
        Should.Throw<FormatException>(() => BpeVocabulary.Deserialize("cl100k_base\n1 2")).Message
            .ShouldBe("the checkpoint's tokenizer is `cl100k_base`, and this version of dlc knows only `gpt2`");
    }

    [Fact]
    public void A_limit_keeps_the_most_frequent_tokens()
    {
        var vocabulary = BpeVocabulary.Build([BpeVocabulary.Tokenize("a a a b b c")], maxVocabulary: 3);
        vocabulary.Size.ShouldBe(3);
        vocabulary.Encode("a b c").Last().ShouldBe(BpeVocabulary.Unknown);
    }
}
