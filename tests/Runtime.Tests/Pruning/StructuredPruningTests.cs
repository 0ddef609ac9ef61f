using Dlc.Backend;
using Dlc.Backend.Plans;
using Dlc.Compiler.Elaboration;
using Dlc.Compiler.Ir;
using Dlc.Compiler.Pruning;
using Dlc.Diagnostics;
using Dlc.Runtime.Pruning;

namespace Dlc.Runtime.Tests.Pruning;

/// <summary>
/// Structured pruning: the smaller model computes exactly what the full one does with the pruned units
/// zeroed, residual adds prune their operands together, and the source keeps all but its widths.
/// </summary>
public class StructuredPruningTests
{
    private const string Cnn = """
        model Small (image: Tensor[N, 2, 8, 8]) : Tensor[N, 3] =
            image
            |> conv2d 8 (kernel = 3, padding = 1) |> batchNorm |> relu |> maxPool 2
            |> conv2d 6 (kernel = 3, padding = 1) |> relu
            |> flatten
            |> dense 10 |> relu
            |> dense 3
        """;

    private const string Residual = """
        let width = 12

        model Res (x: Tensor[N, 5]) : Tensor[N, 4] =
            let h = x |> dense width |> relu
            let h = h + (h |> dense width |> tanh)
            h |> dense 4
        """;

    // Widths given where a function is called, as in examples/fashion_cnn.dl.
    private const string Blocks = """
        let convBlock (channels: int) =
            conv2d channels (kernel = 3, padding = 1) >> batchNorm >> relu >> maxPool 2

        model M (x: Tensor[N, 1, 8, 8]) : Tensor[N, 2] =
            x |> convBlock 8 |> convBlock 6 |> flatten |> dense 2
        """;

    private static readonly Dictionary<string, int> Batch = new() { ["N"] = 3 };

    [Theory]
    [InlineData(Cnn, 0.5)]
    [InlineData(Cnn, 0.3)]
    [InlineData(Residual, 0.5)]
    [InlineData(Blocks, 0.5)]
    public void The_smaller_model_gives_exactly_the_outputs_of_the_full_one_with_the_pruned_units_zeroed(string text, double keep)
    {
        var file = Compile(text);
        var model = file.Models[0];
        using var store = RandomStore(model.Graph);
        var selection = StructuredPruning.Select(ChannelGroups.Analyze(model.Graph), store, keep);
        selection.ChannelsAfter.ShouldBeLessThan(selection.ChannelsBefore);
        var tensors = StructuredPruning.Slice(selection, store);
        var smaller = Compile(WidthEditor.Rewrite(file, model, selection.Widths())).Models[0];
        smaller.Graph.Parameters.Select(p => p.Shape.Bind(Batch)).ShouldBe(tensors.Select(t => t.Shape));

        var input = Input(model.Graph);
        var feeds = tensors.ToDictionary(t => t.Name, t => t.Data.ToArray().Select(v => (double)v).ToArray());
        feeds[input.Name!] = Data(input.Shape.ElementCount(Batch));
        var small = Output(smaller.Graph, feeds);

        StructuredPruning.ZeroPruned(selection, store);
        var zeroed = Feeds(store);
        zeroed[input.Name!] = feeds[input.Name!];
        Output(model.Graph, zeroed).ShouldBe(small);
    }

    [Fact]
    public void Channels_joined_by_a_residual_add_form_one_group_and_the_width_let_is_rewritten()
    {
        var file = Compile(Residual);
        var plan = ChannelGroups.Analyze(file.Models[0].Graph);
        var joined = plan.Groups.Single(g => g.Producers.Count == 2);
        joined.Producers.ShouldBe(["Res.dense1.weight", "Res.dense2.weight"]);
        joined.Frozen.ShouldBeFalse();
        plan.Groups.Single(g => g.Producers.Contains("Res.dense3.weight")).FrozenBecause.ShouldBe("it is the model's output `output`");
        var widths = new Dictionary<string, int> { ["Res.dense1.weight"] = 6, ["Res.dense2.weight"] = 6 };
        WidthEditor.Rewrite(file, file.Models[0], widths).ShouldBe(Residual.Replace("let width = 12", "let width = 6"));
    }

    [Fact]
    public void A_weight_normalised_layer_and_the_channels_it_reads_are_kept_whole_with_the_reason()
    {
        var file = Compile("""
            model Wn (x: Tensor[N, 10]) : Tensor[N, 3] =
                x |> dense 12 |> relu |> weightNorm (dense 8) |> relu |> dense 6 |> relu |> dense 3
            """);
        var plan = ChannelGroups.Analyze(file.Models[0].Graph);
        plan.Groups.Single(g => g.Producers.Contains("Wn.dense1.weight")).FrozenBecause.ShouldNotBeNull().ShouldContain("through a `weightNorm` layer");
        plan.Groups.Single(g => g.Producers.Contains("Wn.dense2.weight_g")).FrozenBecause.ShouldBe("a `weightNorm` layer keeps its channels");
        // The plain layer after it is pruned as usual.
        plan.Groups.Single(g => g.Producers.Contains("Wn.dense3.weight")).Frozen.ShouldBeFalse();
    }

    [Fact]
    public void A_batch_norm_scale_decides_which_channels_stay()
    {
        var file = Compile(Cnn);
        var graph = file.Models[0].Graph;
        using var store = RandomStore(graph);
        var scale = store.Value("Small.batchNorm.weight");
        scale.Fill(0.01f);
        scale[2] = 5f;
        scale[7] = -4f;
        var plan = ChannelGroups.Analyze(graph);
        var group = plan.Groups.Single(g => g.Producers.Contains("Small.conv2d1.weight"));
        group.Scales.ShouldBe(["Small.batchNorm.weight"]);
        StructuredPruning.Select(plan, store, 0.25).Kept[group.Id].ShouldBe([2, 7]);
    }

    [Fact]
    public void A_width_from_a_function_parameter_is_rewritten_where_the_function_is_called()
    {
        var file = Compile(Blocks);
        var widths = new Dictionary<string, int> { ["M.convBlock1.conv2d.weight"] = 4, ["M.convBlock2.conv2d.weight"] = 3 };
        WidthEditor.Rewrite(file, file.Models[0], widths)
            .ShouldBe(Blocks.Replace("convBlock 8", "convBlock 4").Replace("convBlock 6", "convBlock 3"));
    }

    [Fact]
    public void One_number_that_sets_two_widths_cannot_give_them_different_ones()
    {
        var file = Compile("""
            let block (channels: int) = dense channels >> relu
            let twice (c: int) = block c >> block c

            model M (x: Tensor[N, 4]) : Tensor[N, 2] =
                x |> twice 8 |> dense 2
            """);
        var error = Should.Throw<DiagnosticException>(() => WidthEditor.Rewrite(file, file.Models[0],
            new Dictionary<string, int> { ["M.twice.block1.dense.weight"] = 4, ["M.twice.block2.dense.weight"] = 5 }));
        var d = error.Diagnostics.ShouldHaveSingleItem();
        d.Code.ShouldBe("DL0408");
        d.Message.ShouldContain("`8` sets the width of");
    }

    private static CompiledFile Compile(string text)
    {
        var file = ProgramCompiler.Compile(new SourceText("m.dl", text));
        file.Diagnostics.ShouldBeEmpty();
        return file;
    }

    private static ParameterStore RandomStore(Graph graph)
    {
        var store = new ParameterStore(graph.Parameters);
        var rng = new Rng(7);
        foreach (var p in graph.Parameters) rng.FillUniform(store.Value(p.Name), p.Name.EndsWith("running_var", StringComparison.Ordinal) ? 0.5f : -1f, 1f);
        return store;
    }

    private static Node Input(Graph graph) => graph.Inputs.Single();

    private static double[] Data(int count)
    {
        var rng = new Rng(11);
        return Enumerable.Range(0, count).Select(_ => rng.NextDouble() * 2 - 1).ToArray();
    }

    private static Dictionary<string, double[]> Feeds(ParameterStore store) =>
        store.Parameters.ToDictionary(p => p.Name, p => store.Value(p.Name).ToArray().Select(v => (double)v).ToArray());

    private static double[] Output(Graph graph, Dictionary<string, double[]> feeds) =>
        ReferenceInterpreter.Run(graph, Batch, feeds)[graph.Output("output")];
}
