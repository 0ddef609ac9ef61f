using Dlc.Compiler.Ir;

namespace Dlc.Compiler.Tests;

public class ElaborationTests
{
    [Fact]
    public void The_fashion_mlp_elaborates_into_three_dense_layers_with_pytorch_shaped_weights()
    {
        var model = Compile.Ok(Compile.Mlp).Models.ShouldHaveSingleItem();
        model.OutputShape.ToString().ShouldBe("Tensor[N, 10]");
        model.Graph.Parameters.Select(p => $"{p.Name} {p.Shape}").ShouldBe(
        [
            "FashionMlp.dense1.weight Tensor[256, 784]",
            "FashionMlp.dense1.bias Tensor[256]",
            "FashionMlp.dense2.weight Tensor[256, 256]",
            "FashionMlp.dense2.bias Tensor[256]",
            "FashionMlp.dense3.weight Tensor[10, 256]",
            "FashionMlp.dense3.bias Tensor[10]",
        ]);
        model.ParameterCount.ShouldBe(784 * 256 + 256 + 256 * 256 + 256 + 256 * 10 + 10);
    }

    [Fact]
    public void A_single_layer_of_a_kind_is_not_numbered_and_a_let_bound_layer_takes_the_let_name()
    {
        var model = Compile.Ok("""
            let encoder = dense 32

            model M (x: Tensor[N, 8]) : Tensor[N, 2] =
                x |> encoder |> relu |> dense 2
            """).Models[0];
        model.Graph.Parameters.Select(p => p.Name).ShouldBe(["M.encoder.weight", "M.encoder.bias", "M.dense.weight", "M.dense.bias"]);
    }

    [Fact]
    public void Applying_one_layer_value_twice_shares_its_parameters()
    {
        var model = Compile.Ok("""
            model Shared (x: Tensor[N, 16]) : Tensor[N, 16] =
                let layer = dense 16
                let h = x |> layer |> relu
                h |> layer
            """).Models[0];
        model.Graph.Parameters.Count.ShouldBe(2);
        model.Graph.Nodes.Count(n => n.Op == Op.MatMul).ShouldBe(2);
    }

    [Fact]
    public void Calling_a_layer_function_twice_makes_two_numbered_instances()
    {
        var model = Compile.Ok("""
            let block (width: int) = dense width >> relu

            model Two (x: Tensor[N, 4]) : Tensor[N, 3] =
                x |> block 8 |> block 3
            """).Models[0];
        model.Graph.Parameters.Select(p => p.Name).ShouldBe(
            ["Two.block1.dense.weight", "Two.block1.dense.bias", "Two.block2.dense.weight", "Two.block2.dense.bias"]);
    }

    [Fact]
    public void Dropout_builds_a_mask_only_in_the_training_graph()
    {
        var file = Compile.Ok("""
            model D (x: Tensor[N, 4]) : Tensor[N, 4] =
                x |> dropout 0.5 |> dense 4
            """);
        file.Elaborate("D", training: false).Graph.Nodes.ShouldNotContain(n => n.Op == Op.DropoutMask);
        file.Elaborate("D", training: true).Graph.Nodes.ShouldContain(n => n.Op == Op.DropoutMask);
    }

    [Fact]
    public void Composition_and_pipes_give_the_same_graph()
    {
        var piped = Compile.Ok("model A (x: Tensor[N, 4]) : Tensor[N, 2] =\n    x |> dense 3 |> relu |> dense 2\n").Models[0];
        var composed = Compile.Ok("model A (x: Tensor[N, 4]) : Tensor[N, 2] =\n    x |> (dense 3 >> relu >> dense 2)\n").Models[0];
        // The two are written differently, so only the source spans (`@start+length`) may differ.
        static string WithoutSpans(Graph g) => System.Text.RegularExpressions.Regex.Replace(IrPrinter.Print(g), @" @\d+\+\d+", "");
        WithoutSpans(composed.Graph).ShouldBe(WithoutSpans(piped.Graph));
    }

    [Fact]
    public void A_residual_connection_adds_two_tensors_of_one_shape()
    {
        var model = Compile.Ok("""
            model ResidualMlp (x: Tensor[N, 784]) : Tensor[N, 10] =
                let h = x |> dense 256 |> relu
                let h = h + (h |> dense 256 |> relu)
                h |> dense 10
            """).Models[0];
        model.Graph.Nodes.Count(n => n.Op == Op.Add).ShouldBe(1);
    }

    [Fact]
    public void The_train_record_is_read_with_its_values_and_torch_defaults()
    {
        var spec = Compile.Ok(Compile.Mlp).Trains.ShouldHaveSingleItem();
        spec.Epochs.ShouldBe(5);
        spec.Batch.ShouldBe(128);
        spec.Seed.ShouldBe(42UL);
        spec.Optimizer.Kind.ShouldBe(Jobs.OptimizerKind.Adam);
        spec.Optimizer.LearningRate.ShouldBe(1e-3);
        spec.Optimizer.Beta2.ShouldBe(0.999);
        spec.Data.Kind.ShouldBe(Jobs.DataKind.FashionMnist);
    }

    [Fact]
    public void Sgd_with_nesterov_momentum_and_weight_decay_is_read()
    {
        var spec = Compile.Ok(Compile.Mlp.Replace("adam { lr = 1e-3 }", "sgd { lr = 0.1; momentum = 0.9; nesterov = true; weightDecay = 5e-4 }")).Trains[0];
        spec.Optimizer.ShouldBe(new Jobs.OptimizerSpec(Jobs.OptimizerKind.Sgd, 0.1) { Momentum = 0.9, Nesterov = true, WeightDecay = 5e-4 });
    }

    [Fact]
    public void Cross_entropy_reads_its_label_smoothing_and_names_it_in_the_summary()
    {
        var spec = Compile.Ok(Compile.Mlp.Replace("loss      = crossEntropy", "loss      = crossEntropy { labelSmoothing = 0.1 }")).Trains[0];
        spec.Loss.ShouldBe(Jobs.LossKind.CrossEntropy);
        spec.LabelSmoothing.ShouldBe(0.1);
        spec.DescribeLoss().ShouldBe("crossEntropy labelSmoothing=0.1");
        Compile.Ok(Compile.Mlp).Trains[0].LabelSmoothing.ShouldBe(0);
    }

    [Fact]
    public void A_warm_up_may_be_a_fraction_of_an_epoch()
    {
        var spec = Compile.Ok(Compile.Mlp.Replace("epochs    = 5", "epochs    = 5\n    schedule  = cosine { warmup = 0.5 }")).Trains[0];
        spec.Schedule!.Warmup.ShouldBe(0.5);
        spec.Schedule.Describe().ShouldBe("cosine warmup=0.5 minLr=0");
    }
}
