using Dlc.Compiler.Autodiff;
using Dlc.Compiler.Ir;
using Dlc.Compiler.Jobs;

namespace Dlc.Compiler.Tests;

public class AutodiffTests
{
    [Fact]
    public void Every_parameter_gets_a_gradient_of_its_own_shape()
    {
        var file = Compile.Ok(Compile.Mlp);
        var gradients = TrainingGraph.Build(file.Elaborate("FashionMlp", training: true), LossKind.CrossEntropy);
        foreach (var p in gradients.Graph.Parameters)
            gradients.Graph[gradients.ParameterGradients[p.Name]].Shape.ShouldBe(p.Shape);
    }

    [Fact]
    public void No_gradient_is_computed_for_the_input_images()
    {
        var file = Compile.Ok(Compile.Mlp);
        var graph = TrainingGraph.Build(file.Elaborate("FashionMlp", training: true), LossKind.CrossEntropy).Graph;
        // Forward: 3 products. Backward: 3 weight gradients and 2 input gradients; the first layer's
        // input gradient (w.r.t. the images) is never built.
        graph.Nodes.Count(n => n.Op == Op.MatMul).ShouldBe(3 + 3 + 2);
    }

    [Fact]
    public void A_value_used_twice_sums_its_gradients()
    {
        var builder = new GraphBuilder();
        var w = builder.Parameter("w", new Shape(3), Init.Zeros);
        var y = builder.Add(Op.Add, w, w);
        builder.Output("loss", builder.Add(Op.Sum, y));
        var result = ReverseMode.Differentiate(builder.Build(), "loss");
        var gradient = result.Graph[result.ParameterGradients["w"]];
        gradient.Op.ShouldBe(Op.Add);
    }

    [Fact]
    public void The_loss_must_be_a_scalar()
    {
        var builder = new GraphBuilder();
        var w = builder.Parameter("w", new Shape(3), Init.Zeros);
        builder.Output("loss", builder.Add(Op.Relu, w));
        Should.Throw<ShapeException>(() => ReverseMode.Differentiate(builder.Build(), "loss"));
    }

    [Fact]
    public void Every_op_has_metadata_and_a_text_name_that_reads_back()
    {
        foreach (var op in Enum.GetValues<Op>())
        {
            var info = OpTable.Info(op);
            OpTable.TryParse(info.Name, out var parsed).ShouldBeTrue();
            parsed.ShouldBe(op);
        }
    }
}
