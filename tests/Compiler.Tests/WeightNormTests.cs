using Dlc.Compiler.Ir;

namespace Dlc.Compiler.Tests;

/// <summary>`weightNorm layer`: PyTorch's weight_norm names and shapes, the graph it builds, and the layers it refuses.</summary>
public class WeightNormTests
{
    [Fact]
    public void A_dense_layer_gets_weight_v_and_weight_g_as_pytorch_names_them()
    {
        var model = Compile.Ok("""
            model M (x: Tensor[N, 8]) : Tensor[N, 3] =
                x |> weightNorm (dense 5) |> relu |> dense 3
            """).Models.ShouldHaveSingleItem();
        model.Graph.Parameters.Select(p => $"{p.Name} {p.Shape} {IrPrinter.FormatInit(p.Init)}").ShouldBe(
        [
            "M.dense1.weight_v Tensor[5, 8] uniform(8)",
            "M.dense1.weight_g Tensor[5, 1] row_norm",
            "M.dense1.bias Tensor[5] uniform(8)",
            "M.dense2.weight Tensor[3, 5] uniform(5)",
            "M.dense2.bias Tensor[3] uniform(5)",
        ]);
        model.Graph.Nodes.Count(n => n.Op == Op.WeightNorm).ShouldBe(1);
        model.ParameterCount.ShouldBe(5 * 8 + 5 + 5 + 3 * 5 + 3);
        model.Layers[0].Parameters.ShouldBe(5 * 8 + 5 + 5);
    }

    [Fact]
    public void Convolutions_keep_the_rank_of_their_weight_in_g_and_recurrent_layers_normalise_each_matrix()
    {
        var model = Compile.Ok("""
            model C (x: Tensor[N, 2, 6, 6]) : Tensor[N, 4, 6, 6] =
                x |> weightNorm (conv2d 4 (kernel = 3, padding = 1))

            model R (x: Tensor[N, 5, 3]) : Tensor[N, 5, 4] =
                x |> weightNorm (lstm 4 (bias = false))
            """).Models.ToArray();
        model[0].Graph.Parameters.Select(p => $"{p.Name} {p.Shape}").ShouldBe(
            ["C.conv2d.weight_v Tensor[4, 2, 3, 3]", "C.conv2d.weight_g Tensor[4, 1, 1, 1]", "C.conv2d.bias Tensor[4]"]);
        model[1].Graph.Parameters.Select(p => $"{p.Name} {p.Shape}").ShouldBe(
        [
            "R.lstm.weight_ih_l0_v Tensor[16, 3]", "R.lstm.weight_ih_l0_g Tensor[16, 1]",
            "R.lstm.weight_hh_l0_v Tensor[16, 4]", "R.lstm.weight_hh_l0_g Tensor[16, 1]",
        ]);
    }

    [Fact]
    public void A_shared_weight_normalised_layer_builds_its_weight_once()
    {
        var model = Compile.Ok("""
            model S (x: Tensor[N, 4]) : Tensor[N, 4] =
                let layer = weightNorm (dense 4)
                x |> layer |> relu |> layer
            """).Models.ShouldHaveSingleItem();
        model.Graph.Parameters.Select(p => p.Name).ShouldBe(["S.layer.weight_v", "S.layer.weight_g", "S.layer.bias"]);
        model.Graph.Nodes.Count(n => n.Op == Op.WeightNorm).ShouldBe(1);
    }

    [Fact]
    public void Weight_normalising_a_layer_without_weight_matrices_says_which_layers_can_be()
    {
        Compile.Error("model C (x: Tensor[N, 8]) : Tensor[N, 8] =\n    x |> weightNorm (dense 8 >> relu)\n")
            .ShouldStartWith("error DL0304: `weightNorm` normalises the weights of one dense, convolution or recurrent layer, not `dense 8 >> relu`");
    }
}
