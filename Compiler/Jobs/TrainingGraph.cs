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

    /// <summary>
    /// The training graph. A model with an op the engine cannot run, or a declared loss, is reported as
    /// DL0406 here rather than failing later inside a plan.
    /// </summary>
    /// <param name="labelSmoothing">ε of `crossEntropy { labelSmoothing = ε }`; 0 for plain cross-entropy.</param>
    public static GradientGraph Build(ModelGraph model, LossKind loss, double labelSmoothing = 0)
    {
        if (Capabilities.FirstUnsupported(model, "trained") is { } unsupported) throw new DiagnosticException(unsupported);
        if (loss == LossKind.Declared)
            throw new DiagnosticException(DiagnosticCatalog.NotYetSupported.At(model.Source, model.Span,
                $"`{model.Name}` is trained with a `loss` declaration, which this version of dlc cannot train yet"));
        return ReverseMode.Differentiate(WithLoss(model, loss, labelSmoothing), LossOutput);
    }

    /// <summary>The model with a target input and the loss as an extra output (evaluation needs no gradients).</summary>
    public static Graph WithLoss(ModelGraph model, LossKind loss, double labelSmoothing = 0)
    {
        var builder = new GraphBuilder(model.Graph);
        var output = model.Graph.Output(ModelGraph.OutputName);
        var outputShape = model.Graph[output].Shape;
        var lossNode = loss switch
        {
            // One class label per row of scores: [N] for [N, C], [N, T] for [N, T, C].
            LossKind.CrossEntropy => builder.Add(Op.SoftmaxCrossEntropy, [output, builder.Input(TargetInput, new Shape(outputShape.Dims.Take(outputShape.Rank - 1)))],
                labelSmoothing == 0 ? null : new OpAttributes { Value = labelSmoothing }),
            LossKind.Mse => builder.Add(Op.Mse, [output, builder.Input(TargetInput, outputShape)]),
            _ => throw new InvalidOperationException("a declared loss is elaborated with its model, not added here"),
        };
        builder.Output(LossOutput, lossNode);
        return builder.Build();
    }

    /// <summary>Check that a built-in loss fits the model's output before any data is read.</summary>
    public static Diagnostic? CheckLoss(SourceText source, ModelGraph model, TrainSpec spec)
    {
        var name = spec.Loss == LossKind.CrossEntropy ? "crossEntropy" : "mse";
        if (!model.HasSingleOutput)
            return DiagnosticCatalog.LossTargetMismatch.At(source, spec.ModelSpan,
                $"`{model.Name}` returns a record of {model.Outputs.Count} tensors, so `{name}` has no single result to score",
                "declare how its results make a loss, `loss name (x, out) = ...`, and train with `loss = name`");
        var shape = model.OutputShape;
        if (spec.Loss == LossKind.CrossEntropy && (shape.Rank < 2 || shape.Last.IsSymbolic || shape.Last.Size < 2))
            return DiagnosticCatalog.LossTargetMismatch.At(source, spec.ModelSpan,
                $"`crossEntropy` needs class scores Tensor[N, classes], but `{model.Name}` returns {shape}");
        return null;
    }
}
