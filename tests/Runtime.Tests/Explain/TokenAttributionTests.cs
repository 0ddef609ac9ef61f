using Dlc.Compiler.Jobs;
using Dlc.Diagnostics;
using Dlc.Runtime.Explain;

namespace Dlc.Runtime.Tests.Explain;

/// <summary>Integrated gradients of token sequences, through the embedding output, summed per token.</summary>
public class TokenAttributionTests
{
    [Fact]
    public void Over_a_linear_model_each_token_gets_its_weights_times_its_embedding_minus_the_paddings()
    {
        using var runtime = ExplainModels.Compile("""
            model Bag (tokens: Tensor[N, 4] of int) : Tensor[N, 2] =
                tokens |> embedding 5 3 |> flatten |> dense 2
            """, "Bag", LossKind.CrossEntropy, seed: 4);
        var table = runtime.Parameters.Value("Bag.embedding.weight").ToArray();
        var weight = runtime.Parameters.Value("Bag.dense.weight").ToArray();
        float[] tokens = [0, 0, 3, 1, 2, 4, 4, 1];
        var result = TokenAttributions.Compute(runtime, tokens, 2, new ExplainSettings { Target = 1 }, TokenBaseline.Padding);
        for (var i = 0; i < 2; i++)
        {
            for (var t = 0; t < 4; t++)
            {
                var token = (int)tokens[i * 4 + t];
                double expected = 0;
                for (var d = 0; d < 3; d++) expected += weight[12 + t * 3 + d] * (table[token * 3 + d] - table[d]);
                result.Of(i)[t].ShouldBe(expected, 1e-4);
            }
            result.Deltas[i].ShouldBeLessThan(1e-4);
        }
        // Padding positions are the baseline itself: nothing to attribute.
        result.Of(0)[0].ShouldBe(0);
        result.Of(0)[1].ShouldBe(0);
        result.Targets.ShouldBe([1, 1]);
    }

    [Fact]
    public void Over_a_recurrent_classifier_the_tokens_add_up_to_the_change_of_the_score()
    {
        using var runtime = ExplainModels.Compile("""
            model Words (word: Tensor[N, 8] of int) : Tensor[N, 3] =
                word |> embedding 12 6 |> gru 10 (bidirectional = true, returnSequences = false) |> dense 3
            """, "Words", LossKind.CrossEntropy, seed: 5);
        var tokens = ExplainModels.Values(4 * 8, seed: 11).Select((v, i) => i % 8 < 3 && i < 16 ? 0f : MathF.Floor((v + 1) * 5.99f)).ToArray();
        foreach (var baseline in new[] { TokenBaseline.Padding, TokenBaseline.Zeros })
        {
            var result = TokenAttributions.Compute(runtime, tokens, 4, new ExplainSettings(), baseline);
            for (var i = 0; i < 4; i++)
            {
                var total = result.Of(i).ToArray().Sum();
                result.Deltas[i].ShouldBeLessThanOrEqualTo(0.005);
                total.ShouldBe(result.Scores[i] - result.BaselineScores[i], 0.005 + 1e-6);
            }
            result.Probabilities!.ShouldAllBe(p => p > 0 && p < 1);
        }
    }

    [Fact]
    public void Tokens_that_feed_more_than_one_embedding_are_reported()
    {
        using var runtime = ExplainModels.Compile("""
            model Two (tokens: Tensor[N, 4] of int) : Tensor[N, 2] =
                let a = tokens |> embedding 5 3
                let b = tokens |> embedding 5 3
                a + b |> flatten |> dense 2
            """, "Two", LossKind.CrossEntropy);
        var ex = Should.Throw<DiagnosticException>(() => TokenAttributions.Compute(runtime, new float[4], 1, new ExplainSettings(), TokenBaseline.Padding));
        ex.Diagnostics[0].Code.ShouldBe("DL0409");
        ex.Diagnostics[0].Message.ShouldBe("token attributions follow the embedding of the tokens, but the tokens `tokens` of `Two` do not go into one `embedding` alone");
    }
}
