using Dlc.Compiler.Jobs;
using Dlc.Compiler.Elaboration;
using Dlc.Diagnostics;
using Dlc.Runtime.Data;
using Dlc.Runtime.Explain;
using Dlc.Runtime.Training;

namespace Dlc.Runtime.Tests.Explain;

/// <summary>
/// Token attributions of sentences of their own lengths (`maskZero`, padded at the end) under a tagger that scores every
/// word: each sentence is explained over its own words, as the packed model reads it, whatever padding its batch has.
/// </summary>
public class PackedTokenTests
{
    private const string Tagger = """
        model Tagger (tokens: Tensor[N, T] of int) : Tensor[N, T, 4] =
            tokens |> embedding 9 5 (maskZero = true) |> lstm 6 (bidirectional = true) |> dense 4
        """;

    // Sentences of 3, 5 and 2 words, padded at the end to the longest.
    private static readonly float[] Sentences = [3, 7, 2, 0, 0, 1, 4, 8, 5, 6, 6, 2, 0, 0, 0];

    /// <summary>The whole model's scores [count, T, classes] over the padded tokens, run as training and evaluation run it.</summary>
    private static float[] Scores(ModelRuntime runtime, float[] tokens, int count, int width)
    {
        var plan = runtime.InferencePlan(count, steps: width);
        tokens.CopyTo(plan.Input(runtime.Input.Name));
        plan.Run();
        return plan.Output(ModelGraph.OutputName).ToArray();
    }

    [Fact]
    public void Each_sentence_is_explained_at_its_last_word_by_all_its_words_and_the_words_add_up_to_the_change_of_the_score()
    {
        using var runtime = ExplainModels.Compile(Tagger, "Tagger", LossKind.CrossEntropy, seed: 5);
        var result = TokenAttributions.Compute(runtime, Sentences, 3, new ExplainSettings(), TokenBaseline.Padding);

        result.Lengths.ShouldBe([3, 5, 2]);
        result.Positions.ShouldBe([2, 4, 1]);
        // A bidirectional layer reads ahead: the context of a word is its whole sentence.
        result.Contexts.ShouldBe([2, 4, 1]);
        var scores = Scores(runtime, Sentences, 3, 5);
        for (var i = 0; i < 3; i++)
        {
            // The score is the packed model's own at that word, padding and all: the explanation runs the same model.
            var row = scores.AsSpan((i * 5 + result.Positions[i]) * 4, 4).ToArray();
            result.Targets[i].ShouldBe(Array.IndexOf(row, row.Max()));
            result.Scores[i].ShouldBe(row.Max(), 1e-5f);
            result.Deltas[i].ShouldBeLessThanOrEqualTo(0.005);
            result.Of(i).ToArray().Sum().ShouldBe(result.Scores[i] - result.BaselineScores[i], 0.005 + 1e-6);
            for (var p = 0; p < 5; p++)
            {
                if (p < result.Lengths[i]) result.Of(i)[p].ShouldNotBe(0);
                else result.Of(i)[p].ShouldBe(0);
            }
        }
    }

    [Fact]
    public void A_sentence_gets_the_same_attributions_alone_as_in_a_batch_padded_to_a_longer_one()
    {
        using var runtime = ExplainModels.Compile(Tagger, "Tagger", LossKind.CrossEntropy, seed: 5);
        var settings = new ExplainSettings { Target = 1 };
        var batch = TokenAttributions.Compute(runtime, Sentences, 3, settings, TokenBaseline.Padding, position: 1);
        var alone = TokenAttributions.Compute(runtime, [3, 7, 2], 1, settings, TokenBaseline.Padding, position: 1);

        alone.Scores[0].ShouldBe(batch.Scores[0], 1e-6f);
        for (var p = 0; p < 3; p++) alone.Of(0)[p].ShouldBe(batch.Of(0)[p], 1e-6);
        // The word after the explained one counts too: the reverse direction reads it.
        batch.Of(0)[2].ShouldNotBe(0);
        batch.Contexts.ShouldBe([2, 4, 1]);
    }

    [Fact]
    public void A_tagger_that_reads_one_way_is_explained_by_the_words_up_to_the_position()
    {
        using var runtime = ExplainModels.Compile(Tagger.Replace(" (bidirectional = true)", "", StringComparison.Ordinal), "Tagger", LossKind.CrossEntropy, seed: 5);
        var result = TokenAttributions.Compute(runtime, Sentences, 3, new ExplainSettings(), TokenBaseline.Zeros, position: 1);

        result.Contexts.ShouldBe([1, 1, 1]);
        for (var i = 0; i < 3; i++)
        {
            result.Of(i)[2].ShouldBe(0);
            result.Of(i).ToArray().Sum().ShouldBe(result.Scores[i] - result.BaselineScores[i], 0.005 + 1e-6);
        }
    }

    [Fact]
    public void A_transformer_classifier_of_padded_sentences_is_explained_over_each_ones_own_words()
    {
        using var runtime = ExplainModels.Compile("""
            model Genre (tokens: Tensor[N, T] of int) : Tensor[N, 3] =
                tokens |> embedding 9 8 (maskZero = true) |> positionalEncoding |> transformerBlock 2 (hidden = 8) |> sequenceMean |> dense 3
            """, "Genre", LossKind.CrossEntropy, seed: 2);
        var result = TokenAttributions.Compute(runtime, Sentences, 3, new ExplainSettings(), TokenBaseline.Padding);

        result.Positions.ShouldBe([-1, -1, -1]);
        result.Contexts.ShouldBe([2, 4, 1]);
        var scores = Scores(runtime, Sentences, 3, 5);
        for (var i = 0; i < 3; i++)
        {
            // Attention masks the padding, so the score over the padded batch is the sentence's own.
            result.Scores[i].ShouldBe(scores[i * 3 + result.Targets[i]], 1e-5f);
            result.Deltas[i].ShouldBeLessThanOrEqualTo(0.005);
            result.Of(i).ToArray().Sum().ShouldBe(result.Scores[i] - result.BaselineScores[i], 0.005 + 1e-6);
        }
    }

    [Fact]
    public void A_position_past_a_sentences_end_is_a_diagnostic_at_the_model_naming_the_sentence()
    {
        using var runtime = ExplainModels.Compile(Tagger, "Tagger", LossKind.CrossEntropy);
        var ex = Should.Throw<DiagnosticException>(() => TokenAttributions.Compute(runtime, Sentences, 3, new ExplainSettings(), TokenBaseline.Padding, position: 2));
        ex.Diagnostics[0].Code.ShouldBe("DL0407");
        ex.Diagnostics[0].Location.ShouldBe("test.dl:1:7");
        ex.Diagnostics[0].Message.ShouldBe("--position 2: sequence 2 has 2 tokens (positions 0 to 1), and `Tagger` scores only those");
        ex.Diagnostics[0].Help.ShouldBe("choose a position from 0 to 1 (the shortest sequence chosen has 2), or leave out --position for each one's last");
    }

    [Fact]
    public void Deletion_insertion_and_the_randomisation_test_run_over_sentences_of_several_lengths()
    {
        using var runtime = ExplainModels.Compile(Tagger, "Tagger", LossKind.CrossEntropy, seed: 5);
        using var model = new TokenModel(runtime);
        var settings = new ExplainSettings();
        var positions = model.Positions(null, model.Lengths(Sentences, 3));
        var result = TokenAttributions.Attribute(model, Sentences, 3, model.Targets(Sentences, 3, null, positions), settings, TokenBaseline.Padding, positions);
        var trained = runtime.Parameters.Values.Span.ToArray();

        var (attributed, random) = TokenAttributions.Faithfulness(model, result, settings);
        // Every word deleted is the baseline of every sentence; none deleted is the sentences themselves.
        attributed.DeletionCurve[0].ShouldBe(result.Probabilities!.Average(), 1e-5);
        random.DeletionCurve[0].ShouldBe(attributed.DeletionCurve[0], 1e-9);
        attributed.DeletionCurve[^1].ShouldBe(attributed.InsertionCurve[0], 1e-9);
        var sanity = TokenAttributions.Sanity(model, result, settings);
        sanity.Steps.Select(s => s.Layer).ShouldBe(["Tagger.dense", "Tagger.lstm", "Tagger.embedding"]);
        runtime.Parameters.Values.Span.ToArray().ShouldBe(trained);
    }

    [Fact]
    public void A_plan_for_a_length_and_batch_is_compiled_once_and_reused_by_every_later_step()
    {
        using var runtime = ExplainModels.Compile(Tagger, "Tagger", LossKind.CrossEntropy, seed: 5);
        using var model = new TokenModel(runtime);
        var settings = new ExplainSettings();
        var positions = model.Positions(null, model.Lengths(Sentences, 3));
        var targets = model.Targets(Sentences, 3, null, positions);
        // One sentence of each of three lengths: a forward plan of 1 row for the targets, per length.
        model.PlansCompiled.ShouldBe(3);
        var result = TokenAttributions.Attribute(model, Sentences, 3, targets, settings, TokenBaseline.Padding, positions);
        TokenAttributions.Faithfulness(model, result, settings);
        var compiled = model.PlansCompiled;
        // The same lengths and counts again (and the randomisation test's recomputations): nothing new is compiled.
        TokenAttributions.Attribute(model, Sentences, 3, targets, settings, TokenBaseline.Padding, positions);
        TokenAttributions.Faithfulness(model, result, settings);
        TokenAttributions.Sanity(model, result, settings);
        TokenAttributions.Attribute(model, [3, 7, 2], 1, [targets[0]], settings, TokenBaseline.Padding, [positions[0]]);
        model.PlansCompiled.ShouldBe(compiled);
        model.At(3).ShouldBeSameAs(model.At(3));
    }

    [Fact]
    public void The_summary_names_words_and_tags_and_the_word_explained()
    {
        using var runtime = ExplainModels.Compile(Tagger, "Tagger", LossKind.CrossEntropy, seed: 5);
        var words = new WordVocabulary(["the", "dog", "runs", ".", "a", "cat", "sat"], lowercase: true);
        var result = TokenAttributions.Compute(runtime, Sentences, 3, new ExplainSettings(), TokenBaseline.Padding, position: 1);
        var labels = new float[15];
        Array.Fill(labels, -100);
        labels[1] = 2;
        var inputs = new ExplainInputs("test", 4, Sentences, labels) { TargetSize = 5 };
        var summary = TokenOutput.Summarize("Tagger", "model.safetensors", inputs, result, 0, null, ["NOUN", "VERB", "ADJ", "."], classifier: true, words);

        summary.Unit.ShouldBe("words");
        summary.Position.ShouldBe(1);
        summary.ReadsAhead.ShouldBeTrue();
        summary.ClassesAreTokens.ShouldBeFalse();
        summary.Inputs[0].Text.ShouldBe("dog cat the");
        summary.Inputs[1].Text.ShouldBe("<unk> runs sat . a");
        summary.Inputs[0].Tokens.Select(t => t.Position).ShouldBe([0, 1, 2]);
        summary.Inputs[0].Position.ShouldBe(1);
        summary.Inputs[0].LabelName.ShouldBe("ADJ");
        summary.Inputs[1].Label.ShouldBeNull();
        summary.Inputs[0].TargetName.ShouldBeOneOf("NOUN", "VERB", "ADJ", ".");
        var csv = TokenOutput.Csv(summary).Split('\n');
        csv[0].ShouldBe("input,position,token,index,attribution,target,explained");
        csv[2].ShouldStartWith("4,1,cat,7,");
        csv[2].ShouldEndWith(",1");
        TokenOutput.Html(summary).ShouldContain(" <span class=\"t x\"");
    }
}
