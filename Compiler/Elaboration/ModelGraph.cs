using Dlc.Compiler.Ir;
using Dlc.Diagnostics;

namespace Dlc.Compiler.Elaboration;

/// <summary>A model input as declared: `(image: Tensor[N, 784])`.</summary>
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

    public Shape OutputShape => Graph[Graph.Output(OutputName)].Shape;

    public long ParameterCount => Graph.Parameters.Sum(p => (long)p.Shape.Dims.Aggregate(1L, (a, d) => a * d.Size));
}
