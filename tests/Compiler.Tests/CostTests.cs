using Dlc.Compiler.Elaboration;
using Dlc.Compiler.Ir;

namespace Dlc.Compiler.Tests;

/// <summary>`check --summary`: forward FLOPs (a multiply-add counts 2) and activation bytes per sample, from the IR.</summary>
public class CostTests
{
    [Fact]
    public void A_dense_layer_costs_two_flops_per_weight_and_one_per_bias()
    {
        var cost = ModelCosts.Of(Compile.Ok(Compile.Mlp).Models[0]);
        cost.Layers.Select(c => c.Flops.Constant).ShouldBe([2 * 784 * 256 + 256, 256, 2 * 256 * 256 + 256, 256, 2 * 256 * 10 + 10]);
        cost.Flops.ShouldBe(Count.Of(538_634));
    }

    [Fact]
    public void Activations_are_the_float_results_with_the_bias_added_in_place()
    {
        var cost = ModelCosts.Of(Compile.Ok(Compile.Mlp).Models[0]);
        cost.Layers.Select(c => c.ActivationBytes.Constant).ShouldBe([1024, 1024, 1024, 1024, 40]);
        cost.ActivationBytes.ShouldBe(Count.Of(4136));
    }

    [Fact]
    public void A_convolution_costs_two_flops_per_tap_of_every_output_element()
    {
        var cost = ModelCosts.Of(Compile.Ok(LanguageSketchTests.FashionCnn).Models[0]);
        var conv = cost.Layers[0];
        conv.Row.Layer.ShouldBe("conv2d 32");
        conv.Flops.ShouldBe(Count.Of(32 * 28 * 28 * (2 * 9) + 32 * 28 * 28));
        conv.ActivationBytes.ShouldBe(Count.Of(32 * 28 * 28 * 4));
        cost.Layers.Single(c => c.Row.Layer == "flatten").ActivationBytes.ShouldBe(Count.Zero);
    }

    [Fact]
    public void Sequence_costs_grow_with_the_length_and_attention_with_its_square()
    {
        var lm = ModelCosts.Of(Compile.Ok(LanguageSketchTests.CharLm).Models[0]);
        lm.Layers[1].Flops.ToString().ShouldBe("659,456·T");
        lm.Layers[2].Flops.ToString().ShouldBe("49,248·T");
        var attention = ModelCosts.Of(Compile.Ok("model A (x: Tensor[N, T, 16]) =\n    x |> multiHeadAttention 4\n").Models[0]);
        // The in and out projections (2·16·64 per position) and their bias adds (64), then the scores and softmax.
        attention.Flops.ToString().ShouldBe("2,112·T + 76·T²");
        // The packed q, k, v [T, 48], the joined heads [T, 16] and the output [T, 16], as float32.
        attention.ActivationBytes.ToString().ShouldBe("320·T");
    }

    [Fact]
    public void Counts_add_and_multiply_term_by_term()
    {
        var t = Count.Elements(new Shape(Dim.Sym("N"), Dim.Sym("T"), 3), "N");
        t.ToString().ShouldBe("3·T");
        (t + Count.Of(2)).ToString().ShouldBe("2 + 3·T");
        (t * t * 2 + t).ToString().ShouldBe("3·T + 18·T²");
        (t + t * -1).ShouldBe(Count.Zero);
        Count.Zero.ToString().ShouldBe("0");
    }
}
