using Dlc.Compiler.Jobs;
using Dlc.Diagnostics;
using Dlc.Runtime.Explain;
using Dlc.Runtime.Training;

namespace Dlc.Runtime.Tests.Explain;

/// <summary>
/// Token attributions checked: deletion and insertion of whole tokens against random orders, the cascading randomisation
/// test over the tokens that count, and models that score every position explained at one.
/// </summary>
public class TokenCheckTests
{
    private const string Lm = """
        model Lm (tokens: Tensor[N, 6] of int) : Tensor[N, 6, 5] =
            tokens |> embedding 5 4 |> lstm 8 |> dense 5
        """;

    [Fact]
    public void A_language_model_is_explained_at_one_position_by_the_tokens_up_to_it()
    {
        using var runtime = ExplainModels.Compile(Lm, "Lm", LossKind.CrossEntropy, seed: 3);
        var tokens = ExplainModels.Values(3 * 6, seed: 8).Select(v => MathF.Floor((v + 1) * 1.99f) + 1).ToArray();
        var result = TokenAttributions.Compute(runtime, tokens, 3, new ExplainSettings(), TokenBaseline.Padding, position: 3);

        using var model = new TokenModel(runtime);
        var outputs = model.Model.Predict(model.Embed(tokens), 3);
        result.Positions.ShouldBe([3, 3, 3]);
        for (var i = 0; i < 3; i++)
        {
            // The target is the class scored highest at position 3, and the score is its logit there.
            var row = outputs.AsSpan(i * 30 + 3 * 5, 5).ToArray();
            result.Targets[i].ShouldBe(Array.IndexOf(row, row.Max()));
            result.Scores[i].ShouldBe(row.Max(), 1e-5f);
            var softmax = row.Select(v => Math.Exp(v - row.Max())).ToArray();
            result.Probabilities![i].ShouldBe(softmax.Max() / softmax.Sum(), 1e-6);
            // Later tokens keep their embeddings along the path: no attribution.
            result.Of(i)[4].ShouldBe(0);
            result.Of(i)[5].ShouldBe(0);
            result.Deltas[i].ShouldBeLessThanOrEqualTo(0.005);
            result.Of(i).ToArray().Sum().ShouldBe(result.Scores[i] - result.BaselineScores[i], 0.005 + 1e-6);
        }
        // Without a position, the last one.
        TokenAttributions.Compute(runtime, tokens, 3, new ExplainSettings { Target = 2 }, TokenBaseline.Zeros).Positions.ShouldBe([5, 5, 5]);
    }

    [Fact]
    public void A_position_outside_the_sequence_or_asked_of_a_classifier_is_a_diagnostic_at_the_model()
    {
        using var runtime = ExplainModels.Compile(Lm, "Lm", LossKind.CrossEntropy);
        var ex = Should.Throw<DiagnosticException>(() => TokenAttributions.Compute(runtime, new float[6], 1, new ExplainSettings(), TokenBaseline.Padding, position: 6));
        ex.Diagnostics[0].Code.ShouldBe("DL0407");
        ex.Diagnostics[0].Location.ShouldBe("test.dl:1:7");
        ex.Diagnostics[0].Message.ShouldBe("--position 6: `Lm` scores 6 positions of each sequence (0 to 5)");
        Should.Throw<DiagnosticException>(() => TokenAttributions.Compute(runtime, new float[6], 1, new ExplainSettings { Target = 5 }, TokenBaseline.Padding))
            .Diagnostics[0].Message.ShouldBe("--target 5: `Lm` has 5 classes at each position (0 to 4)");

        using var classifier = ExplainModels.Compile("""
            model Bag (tokens: Tensor[N, 4] of int) : Tensor[N, 2] =
                tokens |> embedding 5 3 |> flatten |> dense 2
            """, "Bag", LossKind.CrossEntropy);
        var fits = Should.Throw<DiagnosticException>(() => TokenAttributions.Compute(classifier, new float[4], 1, new ExplainSettings(), TokenBaseline.Padding, position: 1));
        fits.Diagnostics[0].Code.ShouldBe("DL0409");
        fits.Diagnostics[0].Message.ShouldBe("--position 1: `Bag` returns Tensor[N, 2], one prediction per sequence, not one per position");
    }

    [Fact]
    public void Deleting_tokens_in_the_order_of_their_attributions_drops_the_probability_faster_than_random_orders()
    {
        var (runtime, tokens, _) = TrainedBag();
        using var _ = runtime;
        using var model = new TokenModel(runtime);
        var selected = tokens[..(16 * 8)];
        var none = Enumerable.Repeat(-1, 16).ToArray();
        var targets = model.Targets(selected, 16, null, none);
        var result = TokenAttributions.Attribute(model, selected, 16, targets, new ExplainSettings(), TokenBaseline.Padding, none);
        var (attributed, random) = TokenAttributions.Faithfulness(model, result, new ExplainSettings());

        attributed.Deletion.ShouldBeLessThan(random.Deletion);
        attributed.Insertion.ShouldBeGreaterThan(random.Insertion);
        // Both start from the sequences as they are and end at the baseline (every token but the padding deleted).
        attributed.DeletionCurve[0].ShouldBe(result.Probabilities!.Average(), 1e-5);
        random.DeletionCurve[0].ShouldBe(attributed.DeletionCurve[0], 1e-9);
        attributed.DeletionCurve[^1].ShouldBe(random.DeletionCurve[^1], 1e-6);
        attributed.InsertionCurve[^1].ShouldBe(attributed.DeletionCurve[0], 1e-6);
    }

    [Fact]
    public void The_randomisation_test_of_token_attributions_redraws_each_layer_and_puts_the_weights_back()
    {
        var (runtime, tokens, _) = TrainedBag();
        using var _ = runtime;
        var trained = runtime.Parameters.Values.Span.ToArray();
        using var model = new TokenModel(runtime);
        var selected = tokens[..(16 * 8)];
        var settings = new ExplainSettings();
        var none = Enumerable.Repeat(-1, 16).ToArray();
        var result = TokenAttributions.Attribute(model, selected, 16, model.Targets(selected, 16, null, none), settings, TokenBaseline.Padding, none);
        var sanity = TokenAttributions.Sanity(model, result, settings);

        sanity.Steps.Select(s => s.Layer).ShouldBe(["Bag.dense2", "Bag.dense1", "Bag.embedding"]);
        sanity.Final.ShouldBeLessThan(SanityCheck.PassBelow);
        sanity.Passed.ShouldBeTrue();
        runtime.Parameters.Values.Span.ToArray().ShouldBe(trained);
        // Recomputed with the trained weights, the attributions are the same again.
        var again = TokenAttributions.Attribute(model, selected, 16, result.Targets, settings, TokenBaseline.Padding, none);
        SanityCheck.MeanCorrelation(TokenAttributions.AsInput(model, result), TokenAttributions.AsInput(model, again)).ShouldBe(1, 1e-9);
    }

    [Fact]
    public void Rank_correlations_over_counted_tokens_leave_out_the_padding_both_sides_agree_on()
    {
        float[] a = [0, 0, 0, 0, 1, 2, 3];
        float[] b = [0, 0, 0, 0, 3, 2, 1];
        var x = new InputAttribution(MethodKind.IntegratedGradients, [7], [0], [0f], a);
        var y = x with { Values = b };
        SanityCheck.MeanCorrelation(x, y).ShouldBeGreaterThan(0.5);
        SanityCheck.MeanCorrelation(x, y, [false, false, false, false, true, true, true]).ShouldBe(-1, 1e-12);
    }

    /// <summary>
    /// Sequences of 8 tokens from 1 to 7, padded in front to lengths 3 to 8; the class is whether token 7 occurs. A
    /// bag of embeddings with a hidden layer learns it by full-batch gradient descent in a fraction of a second.
    /// </summary>
    private static (ModelRuntime Runtime, float[] Tokens, float[] Labels) TrainedBag()
    {
        var runtime = ExplainModels.Compile("""
            model Bag (tokens: Tensor[N, 8] of int) : Tensor[N, 2] =
                tokens |> embedding 8 4 |> flatten |> dense 16 |> relu |> dense 2
            """, "Bag", LossKind.CrossEntropy, seed: 6);
        const int count = 256;
        var rng = new Backend.Rng(21);
        var tokens = new float[count * 8];
        var labels = new float[count];
        for (var i = 0; i < count; i++)
        {
            var length = 3 + rng.NextInt(6);
            for (var t = 8 - length; t < 8; t++) tokens[i * 8 + t] = 1 + rng.NextInt(7);
            labels[i] = tokens.AsSpan(i * 8, 8).Contains(7f) ? 1 : 0;
        }
        var plan = runtime.TrainingPlan(count);
        for (var step = 0; step < 300; step++)
        {
            tokens.CopyTo(plan.Input(runtime.Input.Name));
            labels.CopyTo(plan.Input(TrainingGraph.TargetInput));
            plan.Run();
            var values = runtime.Parameters.Values.Span;
            var gradients = runtime.Parameters.Gradients.Span;
            for (var i = 0; i < runtime.Parameters.TrainableLength; i++) values[i] -= 0.5f * gradients[i];
        }
        return (runtime, tokens, labels);
    }
}
