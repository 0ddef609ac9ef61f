using Dlc.Diagnostics;

namespace Dlc.DslParser.Tests;

public class NameSuggestionsTests
{
    private static readonly string[] Layers = ["dense", "relu", "conv2d", "maxPool", "dropout", "batchNorm", "sigmoid", "flatten"];

    [Theory]
    [InlineData("dens", "dense")]
    [InlineData("reul", "relu")]
    [InlineData("Dense", "dense")]
    [InlineData("maxpool", "maxPool")]
    [InlineData("conv2", "conv2d")]
    [InlineData("batchnrom", "batchNorm")]
    [InlineData("dropuot", "dropout")]
    public void A_near_miss_suggests_the_intended_name(string typed, string meant) =>
        NameSuggestions.Closest(typed, Layers).ShouldBe(meant);

    [Theory]
    [InlineData("lstm")]
    [InlineData("transformer")]
    [InlineData("x")]
    [InlineData("")]
    public void A_name_far_from_every_candidate_suggests_nothing(string typed) =>
        NameSuggestions.Closest(typed, Layers).ShouldBeNull();

    [Fact]
    public void The_closest_of_several_candidates_wins() =>
        NameSuggestions.Closest("rellu", ["elu", "relu", "gelu"]).ShouldBe("relu");

    [Fact]
    public void Did_you_mean_phrases_the_suggestion()
    {
        NameSuggestions.DidYouMean("dens", Layers).ShouldBe("did you mean `dense`?");
        NameSuggestions.DidYouMean("zzz", Layers).ShouldBeNull();
    }

    [Fact]
    public void An_adjacent_swap_is_a_single_edit() => NameSuggestions.Distance("reul", "relu").ShouldBe(1);
}
