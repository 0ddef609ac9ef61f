using Dlc.Compiler.Ir;
using Dlc.Compiler.Ops;

namespace Dlc.Compiler.Tests;

/// <summary>Arithmetic on tensors of shapes that broadcast (NumPy's rule), checked when the file is compiled.</summary>
public class BroadcastingTests
{
    private static Shape ShapeOf(string text) =>
        new(text.Length == 0 ? [] : text.Split(',').Select(d => int.TryParse(d, out var size) ? Dim.Of(size) : Dim.Sym(d)));

    [Theory]
    [InlineData("N,4", "N,4", "N,4")]
    [InlineData("N,4", "N,1", "N,4")]
    [InlineData("N,4", "4", "N,4")]
    [InlineData("N,1", "1,5", "N,5")]
    [InlineData("N,T,4", "T,4", "N,T,4")]
    [InlineData("N,1,3", "2,1", "N,2,3")]
    [InlineData("", "N,3", "N,3")]
    [InlineData("1", "N", "N")]
    public void Shapes_broadcast_axis_by_axis_from_the_last(string a, string b, string result)
    {
        Broadcasting.Combine(ShapeOf(a), ShapeOf(b)).ShouldBe(ShapeOf(result));
        Broadcasting.Combine(ShapeOf(b), ShapeOf(a)).ShouldBe(ShapeOf(result));
    }

    [Theory]
    [InlineData("N,4", "N,5", 1)]
    [InlineData("N,4", "5,4", 0)]
    [InlineData("N", "5", 0)]
    [InlineData("N", "T", 0)]
    [InlineData("N,T", "N", 1)]
    [InlineData("N,3,4", "N,3", 2)]
    public void Sizes_that_differ_with_neither_1_do_not_broadcast_and_a_symbol_is_not_known_to_be_1(string a, string b, int axis)
    {
        Broadcasting.Combine(ShapeOf(a), ShapeOf(b), out var failing).ShouldBeNull();
        failing.ShouldBe(axis);
    }

    [Fact]
    public void Adding_a_column_to_a_matrix_expands_the_column_explicitly()
    {
        var model = Compile.Ok("model M (x: Tensor[N, 4]) : Tensor[N, 4] =\n    x + (x |> dense 1)\n").Models[0];
        var add = model.Graph.Nodes.Single(n => n.Op == Op.Add);
        add.Inputs.Select(i => model.Graph[i].Shape.ToString()).ShouldBe(["Tensor[N, 4]", "Tensor[N, 4]"]);
        var expand = model.Graph[add.Inputs[1]];
        expand.Op.ShouldBe(Op.Expand);
        model.Graph[expand.Inputs[0]].Shape.ShouldBe(ShapeOf("N,1"));
    }

    [Fact]
    public void Equal_shapes_need_no_expansion()
    {
        var model = Compile.Ok("model M (x: Tensor[N, 4]) : Tensor[N, 4] =\n    x * (x |> dense 4)\n").Models[0];
        model.Graph.Nodes.ShouldNotContain(n => n.Op == Op.Expand);
    }

    [Fact]
    public void Numbers_combine_with_tensors_on_either_side()
    {
        var model = Compile.Ok("model M (x: Tensor[N, 4]) : Tensor[N, 4] =\n    (1 - x) / (x + 2) + 0.5 * x - x / 4\n").Models[0];
        model.OutputShape.ShouldBe(ShapeOf("N,4"));
        model.Graph.Nodes.Count(n => n.Op == Op.Constant).ShouldBe(2);
        model.Graph.Nodes.Count(n => n.Op == Op.Scale).ShouldBe(2);
        model.Graph.Nodes.ShouldContain(n => n.Op == Op.Divide);
    }

    [Fact]
    public void A_channel_gate_multiplies_every_pixel_of_its_channel()
    {
        var model = Compile.Ok("""
            model Se (x: Tensor[N, 8, 5, 5]) : Tensor[N, 8, 5, 5] =
                x * (x |> globalAvgPool |> dense 8 |> sigmoid |> reshape [8; 1; 1])
            """).Models[0];
        model.OutputShape.ShouldBe(ShapeOf("N,8,5,5"));
    }

    [Fact]
    public void Tensors_that_do_not_broadcast_are_an_error_naming_both_shapes_and_the_axis()
    {
        Compile.Error("model M (x: Tensor[N, 3, 4]) =\n    x + (x |> flatten |> dense 3)\n").ShouldBe("""
            error DL0301: shape mismatch in `+`: left is Tensor[N, 3, 4], right is Tensor[N, 3]
              --> test.dl:2:5
               |
             2 |     x + (x |> flatten |> dense 3)
               |     ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
               = help: aligned at their last axes, the last axis is 4 on the left and 3 on the right, and neither is 1, so they do not broadcast; the right operand comes from `dense 3` (line 2)
            """);
    }

    [Fact]
    public void The_batch_symbol_does_not_broadcast_with_a_fixed_size()
    {
        Compile.Error("model M (x: Tensor[N, 4]) (y: Tensor[5, 4]) =\n    x - y\n").ShouldBe("""
            error DL0301: shape mismatch in `-`: left is Tensor[N, 4], right is Tensor[5, 4]
              --> test.dl:2:5
               |
             2 |     x - y
               |     ^^^^^
               = help: axis 0 is N on the left and 5 on the right, and neither is 1, so they do not broadcast; the right operand comes from the input `y` (line 1)
            """);
    }
}
