using Dlc.Compiler.Ir;
using Dlc.Diagnostics;

namespace Dlc.Compiler.Elaboration;

/// <summary>A model input as declared: `(image: Tensor[N, 784])`; <see cref="IsIndex"/> for `of int`.</summary>
public sealed record ModelInput(string Name, Shape Shape, bool IsIndex, TextSpan Span);

/// <summary>
/// A model elaborated into IR for one mode: the graph (its single output is named `output`; a record
/// result gives `output.field` outputs), its declared inputs and the layer table.
/// </summary>
public sealed record ModelGraph(
    string Name,
    Graph Graph,
    IReadOnlyList<ModelInput> Inputs,
    IReadOnlyList<GraphOutput> Outputs,
    IReadOnlyList<LayerRow> Layers,
    bool Training)
{
    public const string OutputName = "output";

    /// <summary>The file the model is declared in.</summary>
    public required SourceText Source { get; init; }

    /// <summary>The model's name in its declaration.</summary>
    public TextSpan Span { get; init; }

    /// <summary>Nodes made by code of an imported file, and that file; every other node comes from <see cref="Source"/>.</summary>
    public IReadOnlyDictionary<int, SourceText> NodeSources { get; init; } = new Dictionary<int, SourceText>();

    public SourceText SourceOf(int node) => NodeSources.GetValueOrDefault(node) ?? Source;

    public bool HasSingleOutput => Graph.HasOutput(OutputName);

    public Shape OutputShape => Graph[Graph.Output(OutputName)].Shape;

    /// <summary>The batch symbol: the first dimension of the first input (`N`).</summary>
    public string? BatchSymbol => Inputs.Count > 0 && Inputs[0].Shape.Rank > 0 ? Inputs[0].Shape[0].Symbol : null;

    /// <summary>Trained parameters, as PyTorch counts them (running statistics are not parameters).</summary>
    public long ParameterCount => Graph.Parameters.Where(p => p.Trainable).Sum(p => Elements(p.Shape));

    /// <summary>State saved with the parameters but not trained (batch norm's running mean and variance).</summary>
    public long StateCount => Graph.Parameters.Where(p => !p.Trainable).Sum(p => Elements(p.Shape));

    private static long Elements(Shape shape) => shape.Dims.Aggregate(1L, (a, d) => a * d.Size);
}
