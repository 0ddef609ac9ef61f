using Dlc.Backend.Gemm;
using Dlc.Backend.Kernels;
using Dlc.Backend.Tests.Support;

namespace Dlc.Backend.Tests.Conformance;

/// <summary>
/// dlc's kernels reproduce PyTorch's own outputs from ONNX's backend test data (tests/conformance/onnx),
/// within the ONNX runner's tolerances rtol 1e-3, atol 1e-7. "managed" uses ManagedGemm and the managed
/// math; "mkl" uses MklGemm and VML, returning early without MKL unless DLC_REQUIRE_MKL=1.
/// </summary>
public class PyTorchConformanceTests
{
    // What each case's graph holds (read from model.onnx); a changed file fails here before it can pass
    // for the wrong reason.
    private static readonly Dictionary<string, string[]> Graphs = new()
    {
        ["test_Linear"] = ["Gemm"],
        ["test_Linear_no_bias"] = ["Transpose", "MatMul"],
        ["test_ReLU"] = ["Relu"],
        ["test_Sigmoid"] = ["Sigmoid"],
        ["test_Tanh"] = ["Tanh"],
        ["test_Softmax"] = ["Softmax"],
        ["test_LogSoftmax"] = ["LogSoftmax"],
        ["test_softmax_lastdim"] = ["Softmax"],
        ["test_log_softmax_lastdim"] = ["LogSoftmax"],
        ["test_softmax_functional_dim3"] = ["Softmax"],
        ["test_log_softmax_dim3"] = ["LogSoftmax"],
        ["test_Conv2d"] = ["Conv"],
        ["test_Conv2d_depthwise"] = ["Conv"],
        ["test_Conv2d_depthwise_padded"] = ["Conv"],
        ["test_Conv2d_depthwise_strided"] = ["Conv"],
        ["test_Conv2d_depthwise_with_multiplier"] = ["Conv"],
        ["test_Conv2d_dilated"] = ["Conv"],
        ["test_Conv2d_groups"] = ["Conv"],
        ["test_Conv2d_groups_thnn"] = ["Conv"],
        ["test_Conv2d_no_bias"] = ["Conv"],
        ["test_Conv2d_padding"] = ["Conv"],
        ["test_Conv2d_strided"] = ["Conv"],
        ["test_MaxPool2d"] = ["MaxPool"],
        ["test_MaxPool2d_stride_padding_dilation"] = ["MaxPool"],
        ["test_MaxPool1d"] = ["MaxPool"],
        ["test_MaxPool1d_stride"] = ["MaxPool"],
        ["test_MaxPool1d_stride_padding_dilation"] = ["MaxPool"],
        ["test_AvgPool1d"] = ["Unsqueeze", "AveragePool", "Squeeze"],
        ["test_AvgPool1d_stride"] = ["Unsqueeze", "AveragePool", "Squeeze"],
        ["test_AvgPool2d"] = ["AveragePool"],
        ["test_AvgPool2d_stride"] = ["AveragePool"],
        ["test_Conv1d"] = ["Conv"],
        ["test_Conv1d_dilated"] = ["Conv"],
        ["test_Conv1d_groups"] = ["Conv"],
        ["test_Conv1d_pad1"] = ["Conv"],
        ["test_Conv1d_pad1size1"] = ["Conv"],
        ["test_Conv1d_pad2"] = ["Conv"],
        ["test_Conv1d_pad2size1"] = ["Conv"],
        ["test_Conv1d_stride"] = ["Conv"],
        ["test_ConvTranspose2d"] = ["ConvTranspose"],
        ["test_ConvTranspose2d_no_bias"] = ["ConvTranspose"],
        ["test_BatchNorm1d_3d_input_eval"] = ["BatchNormalization"],
        ["test_BatchNorm2d_eval"] = ["BatchNormalization"],
        ["test_BatchNorm2d_momentum_eval"] = ["BatchNormalization"],
        ["test_BatchNorm3d_eval"] = ["BatchNormalization"],
        ["test_BatchNorm3d_momentum_eval"] = ["BatchNormalization"],
        ["test_Embedding"] = ["Gather"],
        ["test_Embedding_sparse"] = ["Gather"],
    };

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var name in Graphs.Keys)
            foreach (var path in new[] { "managed", "mkl" }) data.Add(name, path);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Kernels_reproduce_pytorch_outputs_of_the_onnx_case(string name, string path)
    {
        var test = OnnxCase.Load(name);
        test.Model.Graph.Node.Select(n => n.OpType).ShouldBe(Graphs[name], $"{name} graph");
        IGemm? gemm = path == "mkl" ? (MklGate.Available() ? new MklGemm(2) : null) : new ManagedGemm(1);
        if (gemm is null) return;
        MathPath.Run(path, () =>
        {
            var actual = new OnnxRunner(gemm).Run(test);
            actual.Dims.ShouldBe(test.Output.Dims, $"{name} output shape");
            Close.All(actual.Data, test.Output.Data, 1e-3, 1e-7, $"{name} ({path})");
        });
        (gemm as IDisposable)?.Dispose();
    }

    [Fact]
    public void Every_case_folder_is_present_with_model_input_and_output()
    {
        foreach (var name in Graphs.Keys)
        {
            var folder = Path.Combine(OnnxCase.Root(), name);
            File.Exists(Path.Combine(folder, "model.onnx")).ShouldBeTrue(folder);
            File.Exists(Path.Combine(folder, "test_data_set_0", "input_0.pb")).ShouldBeTrue(folder);
            File.Exists(Path.Combine(folder, "test_data_set_0", "output_0.pb")).ShouldBeTrue(folder);
        }
    }
}
