using Dlc.Compiler.Autodiff;
using Dlc.Compiler.Elaboration;
using Dlc.Compiler.Ir;
using Dlc.Diagnostics;

namespace Dlc.Compiler.Jobs;

/// <summary>
/// The graph a training step runs: the model in training mode, a target input, the loss, and the
/// gradient of the loss for every parameter (from <see cref="ReverseMode"/>).
/// </summary>
public static class TrainingGraph
{
    public const string TargetInput = "target";
    public const string LossOutput = "loss";

    public static GradientGraph Build(ModelGraph model, LossKind loss) =>
        ReverseMode.Differentiate(WithLoss(model, loss), LossOutput);

    /// <summary>The model with a target input and the loss as an extra output (evaluation needs no gradients).</summary>
    public static Graph WithLoss(ModelGraph model, LossKind loss)
    {
        var builder = new GraphBuilder(model.Graph);
        var output = model.Graph.Output(ModelGraph.OutputName);
        var outputShape = model.Graph[output].Shape;
        var lossNode = loss switch
        {
            LossKind.CrossEntropy => builder.Add(Op.SoftmaxCrossEntropy, [output, builder.Input(TargetInput, new Shape(outputShape[0]))]),
            _ => builder.Add(Op.Mse, [output, builder.Input(TargetInput, outputShape)]),
        };
        builder.Output(LossOutput, lossNode);
        return builder.Build();
    }

    /// <summary>Check that a loss fits the model's output before any data is read.</summary>
    public static Diagnostic? CheckLoss(SourceText source, ModelGraph model, TrainSpec spec)
    {
        if (!model.Graph.HasOutput(ModelGraph.OutputName))
            return DiagnosticCatalog.NotYetSupported.At(source, spec.ModelSpan, $"`{model.Name}` returns a record; training it needs a `loss` declaration, which this version cannot run yet");
        var shape = model.OutputShape;
        if (spec.Loss == LossKind.CrossEntropy && (shape.Rank != 2 || shape[1].IsSymbolic || shape[1].Size < 2))
            return DiagnosticCatalog.LossTargetMismatch.At(source, spec.ModelSpan,
                $"`crossEntropy` needs class scores Tensor[N, classes], but `{model.Name}` returns {shape}");
        return null;
    }
}
