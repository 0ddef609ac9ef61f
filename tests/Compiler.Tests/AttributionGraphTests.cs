using Dlc.Compiler.Elaboration;
using Dlc.Compiler.Ir;
using Dlc.Compiler.Jobs;
using Dlc.Diagnostics;

namespace Dlc.Compiler.Tests;

/// <summary>The graph of d(score)/d(input) that attributions run, and finding a layer by its source name.</summary>
public class AttributionGraphTests
{
    private const string Cnn = """
        model Cnn (image: Tensor[N, 1, 28, 28]) : Tensor[N, 10] =
            let features = image |> conv2d 8 (kernel = 3, padding = 1) |> relu |> maxPool 2
            features
            |> conv2d 16 (kernel = 3, padding = 1) |> relu |> maxPool 2
            |> flatten
            |> dense 10
        """;

    private static ModelGraph Model(string text, string name) => Compile.Ok(text).Elaborate(name, training: false);

    [Fact]
    public void The_input_gets_a_gradient_of_its_own_shape_and_no_parameter_gets_one()
    {
        var model = Model(Compile.Mlp, "FashionMlp");
        var graph = AttributionGraph.Build(model).Graph;
        graph[graph.Output(AttributionGraph.InputGradientOutput)].Shape.ShouldBe(model.Inputs[0].Shape);
        graph[graph.Output(AttributionGraph.ScoreOutput)].Shape.ShouldBe(Shape.Scalar);
        graph.Outputs.ShouldNotContain(o => o.Name.StartsWith(Autodiff.ReverseMode.GradientPrefix));
        // Forward: 3 products. Backward: only the input gradients of the 3 layers, no weight gradient.
        graph.Nodes.Count(n => n.Op == Op.MatMul).ShouldBe(3 + 3);
        graph.Nodes.ShouldNotContain(n => n.Op == Op.BiasGrad);
    }

    [Fact]
    public void A_convolution_over_the_input_gets_its_input_gradient_and_the_layer_its_own()
    {
        var model = Model(Cnn, "Cnn");
        var layer = AttributionGraph.FindLayer(model, "conv2d2");
        var graph = AttributionGraph.Build(model, layer).Graph;
        graph.Nodes.Count(n => n.Op == Op.Conv2dInputGrad).ShouldBe(2);
        graph.Nodes.ShouldNotContain(n => n.Op == Op.Conv2dWeightGrad);
        graph[graph.Output(AttributionGraph.LayerGradientOutput)].Shape.ShouldBe(graph[graph.Output(AttributionGraph.LayerOutput)].Shape);
        graph[graph.Output(AttributionGraph.LayerOutput)].Shape.ToString().ShouldBe("Tensor[N, 16, 14, 14]");
    }

    [Fact]
    public void A_layer_is_found_by_its_full_name_or_without_the_model_prefix()
    {
        var model = Model(Cnn, "Cnn");
        AttributionGraph.FindLayer(model, "Cnn.conv2d1").Name.ShouldBe("Cnn.conv2d1");
        AttributionGraph.FindLayer(model, "dense").Name.ShouldBe("Cnn.dense");
        AttributionGraph.FeatureMapLayers(model).Select(l => l.Name).ShouldBe(["Cnn.conv2d2", "Cnn.conv2d1"]);
    }

    [Fact]
    public void An_unknown_layer_name_is_DL0208_with_the_nearest_name()
    {
        var model = Model(Cnn, "Cnn");
        var error = Should.Throw<DiagnosticException>(() => AttributionGraph.FindLayer(model, "conv2")).Diagnostics.Single();
        error.Code.ShouldBe("DL0208");
        error.Message.ShouldBe("`Cnn` has no layer named `conv2`");
        error.Help.ShouldBe("did you mean `conv2d1`?");
        var far = Should.Throw<DiagnosticException>(() => AttributionGraph.FindLayer(model, "attention")).Diagnostics.Single();
        far.Help.ShouldBe("its layers are `conv2d1`, `conv2d2`, `dense`");
    }
}
