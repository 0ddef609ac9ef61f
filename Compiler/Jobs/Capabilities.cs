using Dlc.Compiler.Elaboration;
using Dlc.Compiler.Ir;
using Dlc.Diagnostics;

namespace Dlc.Compiler.Jobs;

/// <summary>
/// What this version of dlc can run, as opposed to what `dlc check` accepts. The language is ahead of the
/// engine: a model with a convolution checks, but training it needs kernels that do not exist yet. Commands
/// that run a model ask here first, so the user reads DL0406 at the line that needs the missing engine.
/// </summary>
public static class Capabilities
{
    /// <summary>The ops the plans of Backend/Plans have kernels for (ExecutionPlan.Kernels.cs and the GEMM step).</summary>
    public static readonly IReadOnlySet<Op> Kernels = new HashSet<Op>
    {
        Op.Input, Op.Parameter, Op.Constant, Op.MatMul, Op.BiasAdd, Op.BiasGrad,
        Op.Add, Op.Subtract, Op.Multiply, Op.Scale,
        Op.Relu, Op.ReluGrad, Op.Sigmoid, Op.SigmoidGrad, Op.Tanh, Op.TanhGrad, Op.Gelu, Op.GeluGrad,
        Op.Softmax, Op.SoftmaxGrad, Op.LogSoftmax, Op.LogSoftmaxGrad, Op.DropoutMask,
        Op.Sum, Op.Broadcast, Op.Reshape,
        Op.SoftmaxCrossEntropy, Op.SoftmaxCrossEntropyGrad, Op.Mse, Op.MseGrad,
        Op.Conv2d, Op.Conv2dInputGrad, Op.Conv2dWeightGrad, Op.Conv2dBiasGrad, Op.MaxPool, Op.MaxPoolGrad,
        Op.Conv1d, Op.ConvTranspose2d, Op.AvgPool, Op.AvgPoolGrad, Op.GlobalAvgPool, Op.GlobalAvgPoolGrad,
        Op.Upsample, Op.UpsampleGrad, Op.ChannelDropoutMask,
        Op.BatchNorm, Op.BatchNormInputGrad, Op.BatchNormWeightGrad, Op.LayerNorm, Op.LayerNormInputGrad, Op.LayerNormWeightGrad,
        Op.WeightNorm, Op.WeightNormDirectionGrad, Op.WeightNormScaleGrad,
        Op.Expand, Op.ReduceTo, Op.Divide,
        Op.Embedding, Op.EmbeddingGrad, Op.Rnn, Op.Lstm, Op.Gru, Op.RecurrentGrad, Op.RecurrentWeightGrad, Op.SequenceLengths,
        Op.SequenceMean, Op.SequenceMeanGrad, Op.CrossAttention, Op.CrossAttentionGrad,
        Op.Attention, Op.AttentionGrad, Op.PositionalEncoding,
    };

    /// <summary>
    /// Whether the engine runs this node. Products and cross-entropy fold leading axes into rows, so a dense
    /// layer or a loss over a sequence [N, T, D] runs as over a matrix [N·T, D].
    /// </summary>
    public static bool CanRun(Node node, Graph graph) => Kernels.Contains(node.Op) && node.Op switch
    {
        // Pooling runs over NCL and NCHW; a 3-D window waits for its own kernels.
        Op.MaxPool or Op.MaxPoolGrad or Op.AvgPool or Op.AvgPoolGrad => graph[node.Inputs[0]].Shape.Rank is 3 or 4,
        Op.GlobalAvgPool or Op.GlobalAvgPoolGrad => graph[node.Inputs[0]].Shape.Rank is 3 or 4,
        // Nearest upsampling only; bilinear waits for its kernel.
        Op.Upsample or Op.UpsampleGrad => node.Attributes.Mode is null or "nearest" && graph[node.Inputs[0]].Shape.Rank is 3 or 4,
        _ => true,
    };

    /// <summary>
    /// DL0406 at the source of the first node of a model the engine cannot run ("`conv2d` (line 3) cannot be
    /// trained by this version of dlc yet"), or null when every node runs. <paramref name="verb"/> says what
    /// was asked: "trained", "evaluated", "benchmarked".
    /// </summary>
    public static Diagnostic? FirstUnsupported(ModelGraph model, string verb)
    {
        var node = model.Graph.Nodes.FirstOrDefault(n => !CanRun(n, model.Graph));
        if (node is null) return null;
        var source = model.SourceOf(node.Id);
        var span = node.Origin ?? model.Span;
        var what = LayerName(source, span) ?? OpTable.Info(node.Op).Name;
        var line = source.GetPosition(span.Start).Line;
        return DiagnosticCatalog.NotYetSupported.At(source, span,
            $"`{what}` (line {line}) cannot be {verb} by this version of dlc yet",
            $"`dlc check` accepts it, but the engine has no kernel for `{OpTable.Info(node.Op).Name}`{Shapes(node, model.Graph)} yet");
    }

    /// <summary>
    /// Everything that stops a train record from running: the parts of the record the trainer does not run
    /// yet, then the first op of the model (or of each GAN network) without a kernel. Empty when it can train.
    /// `dlc train` (and eval and bench, which reuse the record) should call this before building plans.
    /// </summary>
    public static IReadOnlyList<Diagnostic> CheckTrain(CompiledFile file, TrainSpec spec)
    {
        var diagnostics = spec.Pending
            .Select(p => DiagnosticCatalog.NotYetSupported.At(file.Source, p.Span,
                $"`{p.What}` (line {file.Source.GetPosition(p.Span.Start).Line}) cannot be trained by this version of dlc yet",
                "`dlc check` accepts it; the trainer runs it in a later version"))
            .ToList();
        var models = spec.Gan is { } gan ? [gan.Generator, gan.Discriminator] : new[] { spec.Model };
        foreach (var name in models)
        {
            if (!file.Models.Any(m => m.Name == name)) continue;
            if (FirstUnsupported(file.Elaborate(name, training: true), "trained") is { } d) diagnostics.Add(d);
        }
        return diagnostics;
    }

    /// <summary>Throws the diagnostics of <see cref="CheckTrain"/> when there are any.</summary>
    public static void EnsureTrainable(CompiledFile file, TrainSpec spec)
    {
        var diagnostics = CheckTrain(file, spec);
        if (diagnostics.Count > 0) throw new DiagnosticException(diagnostics);
    }

    /// <summary>DL0406 for an agent: no engine runs agents yet.</summary>
    public static Diagnostic CheckAgent(CompiledFile file, AgentSpec agent) =>
        DiagnosticCatalog.NotYetSupported.At(file.Source, agent.Span,
            $"`agent {agent.Name}` (line {file.Source.GetPosition(agent.Span.Start).Line}) cannot be trained by this version of dlc yet",
            "`dlc check` accepts it; reinforcement learning needs an engine that a later version brings");

    /// <summary>The layer as the source names it: the first word at the node's origin (`conv2d` of `conv2d 32 (kernel = 3)`).</summary>
    private static string? LayerName(SourceText source, TextSpan span)
    {
        var text = source.Slice(span);
        var length = 0;
        while (length < text.Length && (char.IsLetterOrDigit(text[length]) || text[length] is '_' or '\'')) length++;
        return length > 0 ? text[..length] : null;
    }

    private static string Shapes(Node node, Graph graph) =>
        node.Op is Op.MatMul or Op.SoftmaxCrossEntropy or Op.MaxPool or Op.AvgPool or Op.Upsample ? $" on {graph[node.Inputs[0]].Shape}" : "";
}
