namespace Dlc.Compiler.Tests;

/// <summary>What a user reads for mistakes found after parsing: names, shapes, records. Exact text.</summary>
public class DiagnosticTests
{
    [Fact]
    public void An_unknown_layer_suggests_the_nearest_name()
    {
        Compile.Error("model M (x: Tensor[N, 4]) : Tensor[N, 2] =\n    x |> dense 2 |> reul\n").ShouldBe("""
            error DL0201: `reul` is not defined
              --> test.dl:2:21
               |
             2 |     x |> dense 2 |> reul
               |                     ^^^^
               = help: did you mean `relu`?
            """);
    }

    [Fact]
    public void A_shape_mismatch_in_plus_names_both_shapes_and_the_layer_to_change()
    {
        Compile.Error("""
            model R (x: Tensor[N, 784]) : Tensor[N, 10] =
                let h = x |> dense 256 |> relu
                let h = h + (h |> dense 128 |> relu)
                h |> dense 10
            """).ShouldBe("""
            error DL0301: shape mismatch in `+`: left is Tensor[N, 256], right is Tensor[N, 128]
              --> test.dl:3:13
               |
             3 |     let h = h + (h |> dense 128 |> relu)
               |             ^^^^^^^^^^^^^^^^^^^^^^^^^^^^
               = help: axis 1 is 256 on the left and 128 on the right, and neither is 1, so they do not broadcast; the right operand comes from `dense 128` (line 3); did you mean `dense 256`?
            """);
    }

    [Fact]
    public void A_four_dimensional_image_reaching_dense_suggests_flatten()
    {
        Compile.Error("model C (image: Tensor[N, 1, 28, 28]) : Tensor[N, 10] =\n    image |> dense 10\n").ShouldBe("""
            error DL0302: `dense 10` takes Tensor[N, features], but the input `image` gives Tensor[N, 1, 28, 28]
              --> test.dl:2:14
               |
             2 |     image |> dense 10
               |              ^^^^^^^^
               = help: flatten it first: `|> flatten |> dense 10`
            """);
    }

    [Fact]
    public void A_result_that_differs_from_the_declared_type_points_at_the_last_layer()
    {
        Compile.Error("model M (x: Tensor[N, 4]) : Tensor[N, 10] =\n    x |> dense 8\n").ShouldBe("""
            error DL0303: `model M` returns Tensor[N, 8], but its type says Tensor[N, 10]
              --> test.dl:2:10
               |
             2 |     x |> dense 8
               |          ^^^^^^^
               = help: the result comes from `dense 8` (line 2)
            """);
    }

    [Fact]
    public void An_unknown_train_field_suggests_the_nearest_field()
    {
        Compile.Error(Compile.Mlp.Replace("epochs    = 5", "epoch     = 5")).ShouldContain("""
            error DL0203: `train FashionMlp` has no field `epoch`
            """.Trim());
    }

    [Fact]
    public void A_learning_rate_below_zero_is_rejected_at_its_value()
    {
        Compile.Error(Compile.Mlp.Replace("lr = 1e-3", "lr = -1")).ShouldStartWith("error DL0402: `lr` must be above 0, found -1");
    }

    [Fact]
    public void A_train_record_for_a_missing_model_suggests_the_defined_one()
    {
        Compile.Error(Compile.Mlp.Replace("train FashionMlp", "train FashionMpl")).ShouldContain("did you mean `FashionMlp`?");
    }

    [Fact]
    public void A_layer_the_language_has_but_this_version_cannot_build_says_so()
    {
        Compile.Error("model C (x: Tensor[N, 8]) : Tensor[N, 8] =\n    x |> scaledDotProductAttention\n")
            .ShouldStartWith("error DL0406: `scaledDotProductAttention` is part of the language but this version of dlc cannot build it yet");
    }

    [Fact]
    public void Label_smoothing_outside_zero_to_one_is_rejected_at_its_value()
    {
        Compile.Error(Compile.Mlp.Replace("loss      = crossEntropy", "loss      = crossEntropy { labelSmoothing = 1.5 }"))
            .ShouldStartWith("error DL0402: `labelSmoothing` must be at least 0 and below 1, found 1.5");
    }

    [Fact]
    public void An_unknown_loss_setting_suggests_the_one_the_loss_has()
    {
        Compile.Error(Compile.Mlp.Replace("loss      = crossEntropy", "loss      = crossEntropy { labelSmooting = 0.1 }"))
            .ShouldContain("`crossEntropy` has no field `labelSmooting`");
        Compile.Error(Compile.Mlp.Replace("loss      = crossEntropy", "loss      = mse { labelSmoothing = 0.1 }"))
            .ShouldContain("`mse` has no field `labelSmoothing`");
    }
}
