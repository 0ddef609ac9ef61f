using Dlc.Cli.Tests.Support;
using Dlc.Compiler.Ir;

namespace Dlc.Cli.Tests;

/// <summary>`dlc compile`: each emitted form of a small model as golden text, and bad command lines.</summary>
public class CompileCommandTests : IDisposable
{
    private const string Source = """
        model Tiny (image: Tensor[N, 64]) : Tensor[N, 4] =
            image
            |> dense 16 |> relu
            |> dense 4

        train Tiny {
            data      = fashionMnist
            loss      = crossEntropy
            optimizer = adam { lr = 1e-2 }
            batch     = 32
        }
        """;

    private readonly TempFolder _folder = new();
    private readonly string _file;

    public CompileCommandTests() => _file = _folder.Write("tiny.dl", Source);

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void Emit_ir_prints_every_node_with_its_source_position_and_reads_back()
    {
        var run = Shell.Run("compile", _file, "--emit", "ir").ShouldSucceed();
        run.Out.ShouldBe("""
            # Tiny (inference)
              %0 = input name="image" : [N,64] @11+22    # tiny.dl:1:12
              %1 = param name="Tiny.dense1.weight" init=uniform(64) : [16,64] @68+8    # tiny.dl:3:8
              %2 = param name="Tiny.dense1.bias" init=uniform(64) : [16] @68+8    # tiny.dl:3:8
              %3 = matmul transB %0, %1 : [N,16] @68+8    # tiny.dl:3:8
              %4 = bias_add %3, %2 : [N,16] @68+8    # tiny.dl:3:8
              %5 = relu %4 : [N,16] @80+4    # tiny.dl:3:20
              %6 = param name="Tiny.dense2.weight" init=uniform(16) : [4,16] @92+7    # tiny.dl:4:8
              %7 = param name="Tiny.dense2.bias" init=uniform(16) : [4] @92+7    # tiny.dl:4:8
              %8 = matmul transB %5, %6 : [N,4] @92+7    # tiny.dl:4:8
              %9 = bias_add %8, %7 : [N,4] @92+7    # tiny.dl:4:8
              out output = %9

            """.Replace("\r\n", "\n"));
        IrVerifier.Verify(IrParser.Parse(run.Out)).ShouldBeEmpty();
    }

    [Fact]
    public void Emit_plan_lists_the_fused_steps_of_the_training_step_and_its_memory()
    {
        var run = Shell.Run("compile", _file, "--emit", "plan", "--train").ShouldSucceed();
        run.Out.ShouldStartWith("""
            plan of Tiny (training step), batch 32: 7 steps
                 1  %3 matmul+bias+relu transB [32x64] [16x64] -> [32x16]
                 2  %8 matmul+bias transB [32x16] [4x16] -> [32x4]
                 3  %12 const  -> []
                 4  %13 softmax_cross_entropy_grad [32x4] [32] [] -> [32x4]
                 5  %15 matmul+drelu [32x4] [4x16] -> [32x16]
                 6  %16 matmul+bias_grad transA [32x4] [32x16] -> [4x16]
                 7  %19 matmul+bias_grad transA [32x16] [32x64] -> [16x64]
            memory of activations and gradients (parameters and their gradients excluded):
              a buffer per value (naive)                     13.1 KiB
              planned peak (liveness, greedy by size)        13.2 KiB  100% of naive
              lower bound (most bytes alive at one step)     13.1 KiB
              held by the plan                               13.1 KiB  100% of naive
              (values share one arena by liveness; inputs, outputs and each kernel's scratch keep their own)

            """.Replace("\r\n", "\n"));
    }

    [Fact]
    public void A_sequence_model_compiles_for_the_length_given()
    {
        var file = _folder.Write("seq.dl", """
            model Lm (text: Tensor[N, T] of int) : Tensor[N, T, 20] =
                text |> embedding 20 8 |> lstm 16 |> dense 20
            """);
        var run = Shell.Run("compile", file, "--emit", "plan", "--length", "12", "--batch", "4").ShouldSucceed();
        run.Out.ShouldContain("lstm [4x12x8]");
    }

    [Fact]
    public void The_report_lists_each_fusion_with_its_source_lines_and_each_one_missed_with_the_reason()
    {
        var file = _folder.Write("shared.dl", """
            model Shared (x: Tensor[N, 8]) : Tensor[N, 8] =
                let h = x |> dense 8
                h + (h |> relu)
            """);
        var run = Shell.Run("compile", file, "--report").ShouldSucceed();
        run.Out.ShouldBe("""
            fusions in Shared (inference), batch 128: 2 fired, 2 not
              fused      bias add in the product: %3 matmul + %4 bias_add  (shared.dl:2)
              fused      relu into add (elementwise chain): %5 relu + %6 add  (shared.dl:3)
              not fused  relu after dense in the product: %3 matmul + %4 bias_add + %5 relu  (shared.dl:2-3)
                         because %4 bias_add's result is also read by %6 add
              not fused  residual add in the product: %3 matmul + %4 bias_add + %6 add  (shared.dl:2-3)
                         because %4 bias_add's result is also read by %5 relu

            """.Replace("\r\n", "\n"));
    }

    [Fact]
    public void Emit_ast_prints_the_syntax_tree_with_positions() =>
        Shell.Run("compile", _file, "--emit", "ast").ShouldSucceed().Out.ShouldStartWith("""
            ModelDecl 1:1
              Name: Tiny
              Parameters: [1]
                - Parameter 1:12
                    Name: image
            """.Replace("\r\n", "\n"));

    [Fact]
    public void Emit_dot_writes_graphviz_source_atomically_to_a_dot_file()
    {
        Shell.Run("compile", _file, "--emit", "dot", "--out", _folder["tiny.dot"]).ShouldSucceed();
        var text = File.ReadAllText(_folder["tiny.dot"]);
        text.ShouldStartWith("digraph \"Tiny\" {");
        text.ShouldContain("n3 -> n4 [label=\"[N,16]\"];");
        Directory.GetFiles(_folder.Path).Length.ShouldBe(2);
    }

    [Fact]
    public void Emit_dot_to_an_svg_is_drawn_by_graphviz_or_says_that_graphviz_is_missing()
    {
        var run = Shell.Run("compile", _file, "--emit", "dot", "--out", _folder["tiny.svg"]);
        var installed = Environment.GetEnvironmentVariable("PATH")!.Split(':').Any(d => File.Exists(Path.Combine(d, "dot")));
        if (installed)
        {
            run.ShouldSucceed();
            File.ReadAllText(_folder["tiny.svg"]).ShouldContain("<svg");
        }
        else
        {
            run.ShouldFailWith(ExitCodes.UserError, "drawing a graph needs Graphviz's `dot`, which is not installed");
            File.Exists(_folder["tiny.svg"]).ShouldBeFalse();
        }
        Directory.GetFiles(_folder.Path).Length.ShouldBe(installed ? 2 : 1);
    }

    [Theory]
    [InlineData("--emit", "bytecode")]
    [InlineData("--batch", "zero")]
    public void A_refused_option_value_exits_with_1(params string[] options) =>
        Shell.Run(["compile", _file, .. options]).ShouldFailWith(ExitCodes.UserError);

    [Theory]
    [InlineData("--frobnicate")]
    [InlineData("--emit")]
    public void A_command_line_that_does_not_parse_exits_with_2(params string[] options) =>
        Shell.Run(["compile", _file, .. options]).ShouldFailWith(ExitCodes.Usage);

    [Fact]
    public void A_bad_model_exits_with_1_and_its_diagnostic()
    {
        var file = _folder.Write("bad.dl", "model Bad (x: Tensor[N, 1, 28, 28]) : Tensor[N, 10] =\n    x |> dense 10\n");
        Shell.Run("compile", file, "--emit", "ir").ShouldFailWith(ExitCodes.UserError, "error DL0302", "bad.dl:2:10");
    }

    [Fact]
    public void Train_without_a_train_record_says_what_is_missing()
    {
        var file = _folder.Write("untrained.dl", "model M (x: Tensor[N, 4]) : Tensor[N, 2] =\n    x |> dense 2\n");
        Shell.Run("compile", file, "--train").ShouldFailWith(ExitCodes.UserError, "--train: `M` has no `train` record");
    }
}
