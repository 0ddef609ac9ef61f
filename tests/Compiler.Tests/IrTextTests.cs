using Dlc.Compiler.Autodiff;
using Dlc.Compiler.Ir;
using Dlc.Compiler.Jobs;
using Dlc.Compiler.Passes;
using Dlc.Diagnostics;

namespace Dlc.Compiler.Tests;

/// <summary>The IR's text form reads back as the graph it was printed from, and the verifier holds over every example.</summary>
public class IrTextTests
{
    public static TheoryData<string> Names => new(Examples.Files.Select(Path.GetFileName)!);

    /// <summary>Every graph a file's models give: evaluation and training mode, and the training step with its gradients.</summary>
    internal static IEnumerable<(string What, Graph Graph)> Graphs(string name)
    {
        var file = Examples.Compile(name);
        foreach (var model in file.Models)
        {
            yield return ($"{model.Name} (eval)", model.Graph);
            var training = file.Elaborate(model.Name, training: true);
            yield return ($"{model.Name} (training)", training.Graph);
            var spec = file.Trains.FirstOrDefault(t => t.Model == model.Name);
            if (spec is null || spec.Loss == LossKind.Declared || !model.HasSingleOutput) continue;
            GradientGraph? gradients = null;
            try
            {
                gradients = TrainingGraph.Build(training, spec.Loss);
            }
            catch (DiagnosticException)
            {
                // A model this version cannot train has no training step to print.
            }
            if (gradients is not null) yield return ($"{model.Name} (training step)", gradients.Graph);
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Printing_and_parsing_the_ir_of_every_example_gives_the_same_graph(string name)
    {
        foreach (var (what, graph) in Graphs(name))
        {
            var parsed = IrParser.Parse(IrPrinter.Print(graph));
            IrEquality.FirstDifference(graph, parsed).ShouldBeNull(what);
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void The_verifier_finds_nothing_in_any_example_before_or_after_every_pass(string name)
    {
        foreach (var (what, graph) in Graphs(name))
        {
            IrVerifier.Verify(DeadCode.Run(graph)).ShouldBeEmpty(what);
            PassPipeline.Run(graph, (pass, after) => IrVerifier.Verify(after).ShouldBeEmpty($"{what} after {pass.Name}"));
        }
    }

    [Fact]
    public void Comments_and_blank_lines_are_skipped_and_spans_read_back()
    {
        var graph = IrParser.Parse("""
            # a comment line
              %0 = input name="x" : [N,4] @10+5    # tiny.dl:2:3

              %1 = param name="Tiny.dense.weight" init=uniform(4) : [3,4] @20+7
              %2 = param name="Tiny.bn.running_mean" init=zeros state : [3]
              %3 = matmul transB %0, %1 : [N,3] @20+7
              out output = %3
            """);
        graph.Nodes.Count.ShouldBe(4);
        graph[0].Origin.ShouldBe(new TextSpan(10, 5));
        graph.Parameters[0].Init.ShouldBe(new Init(InitKind.UniformFanIn, 4));
        graph.Parameters[1].Trainable.ShouldBeFalse();
        graph.Output("output").ShouldBe(3);
        IrVerifier.Verify(graph).ShouldBeEmpty();
    }

    [Theory]
    [InlineData("  %0 = frobnicate : [2]", "line 1: unknown op `frobnicate`")]
    [InlineData("  %0 = input name=\"x\" : [2]\n  %1 = relu %3 : [2]", "line 2: %1 uses %3, which is not defined before it")]
    [InlineData("  %1 = input name=\"x\" : [2]", "line 1: expected node %0 next, found %1")]
    [InlineData("  %0 = input name=\"x\" sideways : [2]", "line 1: unknown attribute `sideways`")]
    [InlineData("  %0 = param name=\"w\" : [2]", "line 1: a parameter needs init=...")]
    [InlineData("  %0 = input name=\"x\" : [2\n", "line 1: expected `,` at the end of the line")]
    [InlineData("  out y = %4", "line 1: output `y` refers to %4, which is not defined")]
    public void Unreadable_ir_text_names_the_line_and_what_is_wrong(string text, string message) =>
        Should.Throw<IrParseException>(() => IrParser.Parse(text)).Message.ShouldBe(message);

    [Fact]
    public void The_verifier_reports_a_shape_its_op_does_not_give_and_a_dangling_node()
    {
        var graph = IrParser.Parse("""
              %0 = input name="x" : [N,4]
              %1 = relu %0 : [N,5]
              %2 = tanh %0 : [N,4]
              out y = %1
            """);
        IrVerifier.Verify(graph).ShouldBe([
            "%1 = relu has shape [N,5], its inputs give [N,4]",
            "%2 = tanh is dangling: nothing reads it and it is no output",
        ]);
    }

    [Fact]
    public void The_verifier_reports_a_wrong_arity()
    {
        var graph = IrParser.Parse("""
              %0 = input name="x" : [N,4]
              %1 = relu %0, %0 : [N,4]
              out y = %1
            """);
        IrVerifier.Verify(graph).ShouldBe(["%1 = relu has 2 inputs, the op takes 1"]);
    }

    [Fact]
    public void Dead_code_removes_unread_nodes_keeps_inputs_and_parameters_and_renumbers()
    {
        var before = IrParser.Parse("""
              %0 = input name="x" : [N,4]
              %1 = param name="w" init=zeros : [4]
              %2 = tanh %0 : [N,4]
              %3 = relu %0 : [N,4]
              out y = %3
            """);
        IrPrinter.Print(DeadCode.Run(before)).ShouldBe("""
              %0 = input name="x" : [N,4]
              %1 = param name="w" init=zeros : [4]
              %2 = relu %0 : [N,4]
              out y = %2

            """.Replace("\r\n", "\n"));
        var clean = DeadCode.Run(before);
        DeadCode.Run(clean).ShouldBeSameAs(clean);
    }
}
