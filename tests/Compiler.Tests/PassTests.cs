using Dlc.Compiler.Ir;
using Dlc.Compiler.Passes;

namespace Dlc.Compiler.Tests;

/// <summary>
/// Each graph pass on IR text, before and after: where it must fire, and where it must leave the graph alone.
/// Every result also passes the verifier. The numbers the rewritten graphs compute are checked against the
/// originals in the backend's tests (PassParityTests).
/// </summary>
public class PassTests
{
    private static string Run(Func<Graph, Graph> pass, string before)
    {
        var graph = IrParser.Parse(before);
        IrVerifier.Verify(graph).ShouldBeEmpty("the test's own graph");
        var after = pass(graph);
        IrVerifier.Verify(after).ShouldBeEmpty();
        return IrPrinter.Print(after);
    }

    private static string Lines(string text) => string.Join("\n", text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0));

    private static void ShouldRewrite(Func<Graph, Graph> pass, string before, string after) =>
        Lines(Run(pass, before)).ShouldBe(Lines(after));

    private static void ShouldKeep(Func<Graph, Graph> pass, string graph)
    {
        var parsed = IrParser.Parse(graph);
        pass(parsed).ShouldBeSameAs(parsed);
    }

    [Fact]
    public void Constant_folding_computes_ops_of_constants_in_float32()
    {
        ShouldRewrite(ConstantFolding.Run, """
            %0 = input name="x" : [N,4]
            %1 = const value=0.1 : []
            %2 = const value=0.2 : []
            %3 = add %1, %2 : []
            %4 = scale value=2 %3 : []
            %5 = broadcast %4 : [N,4]
            %6 = mul %0, %5 : [N,4]
            out y = %6
            """, $"""
            %0 = input name="x" : [N,4]
            %1 = const value={(double)((0.1f + 0.2f) * 2f):R} : [N,4]
            %2 = mul %0, %1 : [N,4]
            out y = %2
            """);
    }

    [Fact]
    public void Constant_folding_removes_exact_identities_and_reshapes_of_reshapes()
    {
        ShouldRewrite(ConstantFolding.Run, """
            %0 = input name="x" : [N,4]
            %1 = const value=1 : [N,4]
            %2 = mul %0, %1 : [N,4]
            %3 = const value=0 : [N,4]
            %4 = sub %2, %3 : [N,4]
            %5 = scale value=1 %4 : [N,4]
            %6 = reshape %5 : [N,2,2]
            %7 = reshape %6 : [N,4,1]
            %8 = reshape %7 : [N,4,1]
            out y = %8
            """, """
            %0 = input name="x" : [N,4]
            %1 = reshape %0 : [N,4,1]
            out y = %1
            """);
    }

    [Fact]
    public void Constant_folding_keeps_what_is_not_an_exact_identity()
    {
        // x + 0 turns −0 into +0; x · 0 is NaN for x = ∞; 1 · x that broadcasts x changes its shape; relu of a
        // non-constant is not foldable.
        ShouldKeep(ConstantFolding.Run, """
            %0 = input name="x" : [N,4]
            %1 = const value=0 : [N,4]
            %2 = add %0, %1 : [N,4]
            %3 = mul %2, %1 : [N,4]
            %4 = relu %3 : [N,4]
            %5 = scale value=3 %4 : [N,4]
            out y = %5
            """);
    }

    [Fact]
    public void Cse_merges_equal_expressions_and_keeps_their_first_place()
    {
        ShouldRewrite(CommonSubexpressions.Run, """
            %0 = input name="x" : [N,4]
            %1 = param name="M.w" init=uniform(4) : [3,4]
            %2 = matmul transB %0, %1 : [N,3]
            %3 = matmul transB %0, %1 : [N,3]
            %4 = relu %2 : [N,3]
            %5 = relu %3 : [N,3]
            %6 = add %4, %5 : [N,3]
            %7 = scale value=2 %2 : [N,3]
            %8 = scale value=3 %3 : [N,3]
            out y = %6
            out z = %7
            out u = %8
            """, """
            %0 = input name="x" : [N,4]
            %1 = param name="M.w" init=uniform(4) : [3,4]
            %2 = matmul transB %0, %1 : [N,3]
            %3 = relu %2 : [N,3]
            %4 = add %3, %3 : [N,3]
            %5 = scale value=2 %2 : [N,3]
            %6 = scale value=3 %2 : [N,3]
            out y = %4
            out z = %5
            out u = %6
            """);
    }

    [Fact]
    public void Cse_never_merges_random_draws_or_training_batch_norms()
    {
        ShouldKeep(CommonSubexpressions.Run, """
            %0 = input name="x" : [N,4]
            %1 = dropout_mask value=0.5 %0 : [N,4]
            %2 = dropout_mask value=0.5 %0 : [N,4]
            %3 = mul %0, %1 : [N,4]
            %4 = mul %0, %2 : [N,4]
            %5 = add %3, %4 : [N,4]
            out y = %5
            """);
    }

    [Fact]
    public void An_evaluation_batch_norm_folds_into_the_convolution_before_it()
    {
        ShouldRewrite(ConvBatchNormFolding.Run, """
            %0 = input name="x" : [N,2,5,5]
            %1 = param name="M.conv.weight" init=uniform(18) : [4,2,3,3]
            %2 = conv2d stride=[1,1] pads=[1,1,1,1] dilation=[1,1] %0, %1 : [N,4,5,5]
            %3 = param name="M.bn.weight" init=ones : [4]
            %4 = param name="M.bn.bias" init=zeros : [4]
            %5 = param name="M.bn.running_mean" init=zeros state : [4]
            %6 = param name="M.bn.running_var" init=ones state : [4]
            %7 = param name="M.bn.num_batches_tracked" init=zeros state : []
            %8 = batch_norm value=1E-05 momentum=0.1 %2, %3, %4, %5, %6, %7 : [N,4,5,5]
            %9 = relu %8 : [N,4,5,5]
            out y = %9
            """, """
            %0 = input name="x" : [N,2,5,5]
            %1 = param name="M.conv.weight" init=uniform(18) : [4,2,3,3]
            %2 = param name="M.bn.weight" init=ones : [4]
            %3 = param name="M.bn.bias" init=zeros : [4]
            %4 = param name="M.bn.running_mean" init=zeros state : [4]
            %5 = param name="M.bn.running_var" init=ones state : [4]
            %6 = param name="M.bn.num_batches_tracked" init=zeros state : []
            %7 = const : [4]
            %8 = batch_norm_fold_weight value=1E-05 %1, %2, %5 : [4,2,3,3]
            %9 = batch_norm_fold_bias value=1E-05 %7, %2, %3, %4, %5 : [4]
            %10 = conv2d stride=[1,1] pads=[1,1,1,1] dilation=[1,1] %0, %8, %9 : [N,4,5,5]
            %11 = relu %10 : [N,4,5,5]
            out y = %11
            """);
    }

    [Fact]
    public void A_training_batch_norm_or_a_convolution_read_elsewhere_is_not_folded()
    {
        ShouldKeep(ConvBatchNormFolding.Run, """
            %0 = input name="x" : [N,2,5,5]
            %1 = param name="M.conv.weight" init=uniform(18) : [4,2,3,3]
            %2 = param name="M.conv.bias" init=uniform(18) : [4]
            %3 = conv2d stride=[1,1] pads=[1,1,1,1] dilation=[1,1] %0, %1, %2 : [N,4,5,5]
            %4 = param name="M.bn.weight" init=ones : [4]
            %5 = param name="M.bn.bias" init=zeros : [4]
            %6 = param name="M.bn.running_mean" init=zeros state : [4]
            %7 = param name="M.bn.running_var" init=ones state : [4]
            %8 = param name="M.bn.num_batches_tracked" init=zeros state : []
            %9 = batch_norm value=1E-05 momentum=0.1 training %3, %4, %5, %6, %7, %8 : [N,4,5,5]
            %10 = conv2d stride=[1,1] pads=[1,1,1,1] dilation=[1,1] %0, %1, %2 : [N,4,5,5]
            %11 = batch_norm value=1E-05 momentum=0.1 %10, %4, %5, %6, %7, %8 : [N,4,5,5]
            %12 = add %9, %10 : [N,4,5,5]
            %13 = add %12, %11 : [N,4,5,5]
            out y = %13
            """);
    }

    [Fact]
    public void Pass_names_parse_and_unknown_names_are_refused()
    {
        PassSet.Parse(null, [], out var error).IsAll.ShouldBeTrue();
        error.ShouldBeNull();
        PassSet.Parse("none", [], out _).ToString().ShouldBe("none");
        var some = PassSet.Parse("cse,relu-fusion", [], out _);
        some.Has(CommonSubexpressions.Name).ShouldBeTrue();
        some.Has(ConstantFolding.Name).ShouldBeFalse();
        some.ToString().ShouldBe("cse,relu-fusion");
        PassSet.Parse(null, ["gemm-epilogue", "dead-code,cse"], out _).ToString()
            .ShouldBe("constant-folding,conv-bn-fold,gemm-chain,relu-fusion,loss-fusion,norm-fusion,conv-grad-fusion,elementwise-fusion,share-memory");
        PassSet.Parse("cse,fold", [], out error);
        error.ShouldNotBeNull().ShouldContain("there is no pass `fold`");
    }
}
