using Dlc.Compiler.Elaboration;
using Dlc.Compiler.Ir;

namespace Dlc.Compiler.Tests;

/// <summary>Output shapes and parameters of every layer, as the matching torch.nn module computes them.</summary>
public class LayerShapeTests
{
    private static ModelGraph Model(string input, string body, bool training = false)
    {
        var file = Compile.Ok($"model M (x: {input}) =\n    x |> {body}\n");
        return training ? file.Elaborate("M", training: true) : file.Models[0];
    }

    private static string Last(string input, string body) => Model(input, body).OutputShape.ToString();

    private static IEnumerable<string> Parameters(ModelGraph m) => m.Graph.Parameters.Select(p => $"{p.Name[2..]} {p.Shape.ToIrString()}");

    [Theory]
    [InlineData("conv2d 16 (kernel = 3)", "Tensor[N, 16, 30, 30]")]
    [InlineData("conv2d 16 (kernel = 3, padding = 1)", "Tensor[N, 16, 32, 32]")]
    [InlineData("conv2d 16 (kernel = 3, padding = same)", "Tensor[N, 16, 32, 32]")]
    [InlineData("conv2d 16 (kernel = 4, padding = same)", "Tensor[N, 16, 32, 32]")]
    [InlineData("conv2d 16 (kernel = 3, stride = 2, padding = 1)", "Tensor[N, 16, 16, 16]")]
    [InlineData("conv2d 16 (kernel = 3, dilation = 2)", "Tensor[N, 16, 28, 28]")]
    [InlineData("conv2d 16 (kernel = (3, 5), padding = (1, 0))", "Tensor[N, 16, 32, 28]")]
    [InlineData("conv2d 16 (kernel = 5, stride = 3, padding = valid)", "Tensor[N, 16, 10, 10]")]
    [InlineData("convTranspose2d 8 (kernel = 2, stride = 2)", "Tensor[N, 8, 64, 64]")]
    [InlineData("convTranspose2d 8 (kernel = 3, stride = 2, padding = 1, outputPadding = 1)", "Tensor[N, 8, 64, 64]")]
    [InlineData("maxPool 2", "Tensor[N, 3, 16, 16]")]
    [InlineData("maxPool 3 (stride = 2, padding = 1)", "Tensor[N, 3, 16, 16]")]
    [InlineData("avgPool (2, 4)", "Tensor[N, 3, 16, 8]")]
    [InlineData("globalAvgPool", "Tensor[N, 3]")]
    [InlineData("upsample 2", "Tensor[N, 3, 64, 64]")]
    [InlineData("upsample 2 (mode = bilinear)", "Tensor[N, 3, 64, 64]")]
    [InlineData("batchNorm", "Tensor[N, 3, 32, 32]")]
    [InlineData("dropout2d 0.2", "Tensor[N, 3, 32, 32]")]
    [InlineData("reshape [3; 1024]", "Tensor[N, 3, 1024]")]
    [InlineData("reshape [-1; 32]", "Tensor[N, 96, 32]")]
    public void Image_layers_give_the_shapes_torch_gives(string layer, string shape) =>
        Last("Tensor[N, 3, 32, 32]", layer).ShouldBe(shape);

    [Theory]
    [InlineData("conv1d 8 (kernel = 5)", "Tensor[N, 8, 96]")]
    [InlineData("conv1d 8 (kernel = 3, padding = same, groups = 4)", "Tensor[N, 8, 100]")]
    [InlineData("maxPool 4", "Tensor[N, 4, 25]")]
    [InlineData("upsample 3", "Tensor[N, 4, 300]")]
    [InlineData("batchNorm", "Tensor[N, 4, 100]")]
    public void One_dimensional_layers_work_on_channels_and_length(string layer, string shape) =>
        Last("Tensor[N, 4, 100]", layer).ShouldBe(shape);

    [Theory]
    [InlineData("lstm 32", "Tensor[N, T, 32]")]
    [InlineData("lstm 32 (returnSequences = false)", "Tensor[N, 32]")]
    [InlineData("gru 32 (bidirectional = true)", "Tensor[N, T, 64]")]
    [InlineData("rnn 32 (layers = 3, returnSequences = false)", "Tensor[N, 32]")]
    [InlineData("dense 10", "Tensor[N, T, 10]")]
    [InlineData("layerNorm", "Tensor[N, T, 16]")]
    [InlineData("multiHeadAttention 4", "Tensor[N, T, 16]")]
    [InlineData("transformerBlock 2 (hidden = 32, causal = true)", "Tensor[N, T, 16]")]
    [InlineData("positionalEncoding", "Tensor[N, T, 16]")]
    public void Sequence_layers_keep_the_symbolic_length(string layer, string shape) =>
        Last("Tensor[N, T, 16]", layer).ShouldBe(shape);

    [Fact]
    public void A_grouped_convolution_has_in_over_groups_input_channels_per_filter()
    {
        Parameters(Model("Tensor[N, 8, 10, 10]", "conv2d 16 (kernel = 3, groups = 4, bias = false)")).ShouldBe(["conv2d.weight [16,2,3,3]"]);
    }

    [Fact]
    public void A_transposed_convolution_stores_its_weight_input_channels_first()
    {
        Parameters(Model("Tensor[N, 8, 10, 10]", "convTranspose2d 4 (kernel = 2, stride = 2, groups = 2)"))
            .ShouldBe(["convTranspose2d.weight [8,2,2,2]", "convTranspose2d.bias [4]"]);
    }

    [Fact]
    public void A_bidirectional_two_layer_gru_has_pytorch_names_and_shapes()
    {
        Parameters(Model("Tensor[N, T, 10]", "gru 6 (layers = 2, bidirectional = true, bias = false)")).ShouldBe(
        [
            "gru.weight_ih_l0 [18,10]", "gru.weight_hh_l0 [18,6]", "gru.weight_ih_l0_reverse [18,10]", "gru.weight_hh_l0_reverse [18,6]",
            "gru.weight_ih_l1 [18,12]", "gru.weight_hh_l1 [18,6]", "gru.weight_ih_l1_reverse [18,12]", "gru.weight_hh_l1_reverse [18,6]",
        ]);
    }

    [Fact]
    public void Multi_head_attention_has_the_parameters_of_nn_multihead_attention()
    {
        var model = Model("Tensor[N, T, 16]", "multiHeadAttention 4");
        Parameters(model).ShouldBe(
            ["multiHeadAttention.in_proj_weight [48,16]", "multiHeadAttention.in_proj_bias [48]",
             "multiHeadAttention.out_proj.weight [16,16]", "multiHeadAttention.out_proj.bias [16]"]);
        model.Graph.Parameters[0].Init.ShouldBe(new Init(InitKind.XavierUniform, 16) { FanOut = 48 });
    }

    [Fact]
    public void A_transformer_block_has_the_parameter_names_of_a_transformer_encoder_layer()
    {
        var model = Model("Tensor[N, T, 16]", "transformerBlock 2");
        Parameters(model).Select(p => p.Split(' ')[0]["transformerBlock.".Length..]).ShouldBe(
        [
            "self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight", "self_attn.out_proj.bias",
            "linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias", "norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias",
        ]);
        model.ParameterCount.ShouldBe(4 * 16 * 16 + 4 * 16 + 2 * (64 * 16) + 64 + 16 + 4 * 16);
    }

    [Fact]
    public void An_embedding_is_normal_initialised_and_adds_a_feature_axis()
    {
        var file = Compile.Ok("model E (tokens: Tensor[N, T] of int) =\n    tokens |> embedding 1000 32\n");
        file.Models[0].OutputShape.ToString().ShouldBe("Tensor[N, T, 32]");
        file.Models[0].Graph.Parameters.Single().Init.Kind.ShouldBe(InitKind.Normal);
    }

    [Fact]
    public void Conv_and_its_bias_start_uniform_in_one_over_root_fan_in_as_pytorch()
    {
        var model = Model("Tensor[N, 8, 10, 10]", "conv2d 16 (kernel = 3, groups = 2)");
        model.Graph.Parameters.Select(p => p.Init).ShouldAllBe(i => i == new Init(InitKind.UniformFanIn, 4 * 9));
    }

    [Fact]
    public void Concat_joins_channels_by_default_and_any_axis_when_told()
    {
        Compile.Ok("model C (x: Tensor[N, 3, 8, 8]) =\n    concat [x; x |> conv2d 5 (kernel = 3, padding = 1)]\n")
            .Models[0].OutputShape.ToString().ShouldBe("Tensor[N, 8, 8, 8]");
        Compile.Ok("model C (x: Tensor[N, T, 4]) =\n    concat [x; x |> dense 6] (axis = -1)\n")
            .Models[0].OutputShape.ToString().ShouldBe("Tensor[N, T, 10]");
    }

    [Fact]
    public void Dropout2d_and_batch_norm_behave_differently_while_training()
    {
        var training = Model("Tensor[N, 3, 8, 8]", "batchNorm |> dropout2d 0.5", training: true);
        training.Graph.Nodes.Single(n => n.Op == Op.BatchNorm).Attributes.Training.ShouldBeTrue();
        training.Graph.Nodes.ShouldContain(n => n.Op == Op.ChannelDropoutMask);
        var evaluation = Model("Tensor[N, 3, 8, 8]", "batchNorm |> dropout2d 0.5");
        evaluation.Graph.Nodes.Single(n => n.Op == Op.BatchNorm).Attributes.Training.ShouldBeFalse();
        evaluation.Graph.Nodes.ShouldNotContain(n => n.Op == Op.ChannelDropoutMask);
    }

    [Fact]
    public void A_conv_layer_applied_twice_to_equal_channels_shares_its_weights()
    {
        var model = Compile.Ok("""
            model S (x: Tensor[N, 8, 10, 10]) =
                let conv = conv2d 8 (kernel = 3, padding = 1)
                x |> conv |> relu |> conv
            """).Models[0];
        model.Graph.Parameters.Count.ShouldBe(2);
        model.Graph.Nodes.Count(n => n.Op == Op.Conv2d).ShouldBe(2);
        model.Graph.Parameters[0].Name.ShouldBe("S.conv.weight");
    }
}
