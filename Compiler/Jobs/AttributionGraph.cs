using Dlc.Compiler.Autodiff;
using Dlc.Compiler.Elaboration;
using Dlc.Compiler.Ir;
using Dlc.Diagnostics;

namespace Dlc.Compiler.Jobs;

/// <summary>
/// The graph attributions run: the model in evaluation mode, a <see cref="SelectInput"/> of the output's
/// shape that weights the outputs into one scalar score (a one-hot row picks the score of a target class),
/// and the gradient of that score with respect to the model's input and, for Grad-CAM, one layer's output.
/// Samples do not interact in evaluation mode, so the gradient of the summed score for sample n is the
/// gradient of sample n's own score: one run gives every sample's attribution.
/// </summary>
public sealed record AttributionGraph(Graph Graph, string Input, LayerRow? Layer)
{
    public const string SelectInput = "select";
    public const string ScoreOutput = "score";
    public const string InputGradientOutput = "input_gradient";
    public const string LayerOutput = "layer";
    public const string LayerGradientOutput = "layer_gradient";

    /// <summary>
    /// d(Σ select ⊙ output)/d(input), and d/d(layer output) when <paramref name="layer"/> is given. Parameters are
    /// constants here: no parameter gradient is computed.
    /// </summary>
    public static AttributionGraph Build(ModelGraph model, LayerRow? layer = null)
    {
        if (model.Training) throw new ArgumentException("attributions are taken of a model in evaluation mode", nameof(model));
        var builder = new GraphBuilder(model.Graph);
        var output = model.Graph.Output(ModelGraph.OutputName);
        var select = builder.Input(SelectInput, model.Graph[output].Shape);
        var score = builder.Add(Op.Sum, builder.Add(Op.Multiply, output, select));
        builder.Output(ScoreOutput, score);
        var input = model.Graph.Input(model.Inputs[0].Name).Id;
        var sources = layer is null ? new[] { input } : [input, layer.LastNode];
        var (graph, gradients) = ReverseMode.GradientsWithRespectTo(builder.Build(), ScoreOutput, sources);
        var outputs = graph.Outputs.Append(new GraphOutput(InputGradientOutput, gradients[input])).ToList();
        if (layer is not null)
        {
            outputs.Add(new GraphOutput(LayerOutput, layer.LastNode));
            outputs.Add(new GraphOutput(LayerGradientOutput, gradients[layer.LastNode]));
        }
        return new AttributionGraph(graph.WithOutputs(outputs), model.Inputs[0].Name, layer);
    }

    /// <summary>The input of <see cref="FromEmbedding"/>'s model: the embedding's output, [N, T, D].</summary>
    public const string EmbeddedInput = "embedded";

    /// <summary>
    /// The second input of <see cref="FromEmbedding"/>'s model when its tokens are padded at the end
    /// (`embedding ... (maskZero = true)`): each sequence's length [N], which packed layers run over.
    /// </summary>
    public const string LengthsInput = "lengths";

    /// <summary>
    /// The model from its embedding on, for attributions of token sequences: token indices have no gradient, so
    /// the embedding's output [N, T, D] becomes the input (<see cref="EmbeddedInput"/>) and the embedding lookup
    /// is done outside, from its table (<paramref name="table"/>, [V, D]). The lengths of tokens padded at the end,
    /// which `maskZero` reads from the tokens, become an input too (<see cref="LengthsInput"/>): the caller gives
    /// them. The token input must feed one embedding (and its lengths) and nothing else; DL0409 otherwise.
    /// </summary>
    public static ModelGraph FromEmbedding(ModelGraph model, out string table)
    {
        if (model.Inputs.Count != 1)
            throw NotFitting(model, $"`{model.Name}` takes {model.Inputs.Count} inputs; token attributions explain one sequence of tokens");
        var tokens = model.Graph.Input(model.Inputs[0].Name).Id;
        var users = model.Graph.Nodes.Where(n => n.Inputs.Contains(tokens)).ToList();
        var embeddings = users.Where(n => n.Op == Op.Embedding).ToList();
        var lengths = users.Where(n => n.Op == Op.SequenceLengths).ToList();
        if (embeddings.Count != 1 || lengths.Count > 1 || embeddings.Count + lengths.Count != users.Count || embeddings[0].Inputs[0] != tokens
            || model.Graph[embeddings[0].Inputs[1]].Op != Op.Parameter || model.Graph.Outputs.Any(o => o.Node == tokens))
            throw NotFitting(model, $"token attributions follow the embedding of the tokens, but the tokens `{model.Inputs[0].Name}` of `{model.Name}` do not go into one `embedding` alone",
                $"begin the model with `{model.Inputs[0].Name} |> embedding vocabulary dim`");
        var embedding = embeddings[0];
        table = model.Graph[embedding.Inputs[1]].Name!;
        var nodes = model.Graph.Nodes.ToArray();
        nodes[embedding.Id] = new Node(embedding.Id, Op.Input, [], embedding.Shape, new OpAttributes { Name = EmbeddedInput }, embedding.Origin);
        foreach (var node in lengths)
            nodes[node.Id] = new Node(node.Id, Op.Input, [], node.Shape, new OpAttributes { Name = LengthsInput }, node.Origin);
        var graph = new Graph(nodes, model.Graph.Parameters, model.Graph.Outputs);
        return model with { Graph = graph, Inputs = [new ModelInput(EmbeddedInput, embedding.Shape, false, model.Inputs[0].Span)] };
    }

    /// <summary>Whether <see cref="FromEmbedding"/>'s model takes each sequence's length (<see cref="LengthsInput"/>).</summary>
    public static bool TakesLengths(ModelGraph view) => view.Graph.Nodes.Any(n => n.Op == Op.Input && n.Name == LengthsInput);

    /// <summary>
    /// Whether the output at a position can depend on the positions after it: the model has a bidirectional recurrent
    /// layer, attention that is not causal, a convolution over time or a mean over the sequence. A language model
    /// (one direction, causal attention) reads only what came before each position.
    /// </summary>
    public static bool ReadsAhead(ModelGraph model) => model.Graph.Nodes.Any(n =>
        n.Op is Op.Rnn or Op.Lstm or Op.Gru && n.Attributes.Bidirectional
        || n.Op is Op.Attention or Op.CrossAttention && !n.Attributes.Causal
        || n.Op is Op.Conv1d or Op.SequenceMean);

    private static DiagnosticException NotFitting(ModelGraph model, string message, string? help = null) =>
        new(DiagnosticCatalog.MethodDoesNotFit.At(model.Source, model.Span, message, help));

    /// <summary>
    /// The layer a command line names: its full source-derived name (`FashionCnn.conv2d2`) or the name
    /// without the model's prefix (`conv2d2`, `encoder`); DL0208 with the nearest name otherwise.
    /// </summary>
    public static LayerRow FindLayer(ModelGraph model, string name)
    {
        var named = model.Layers.Where(l => l.Instance is not null).ToList();
        var prefix = model.Name + ".";
        string Short(LayerRow l) => l.Name.StartsWith(prefix, StringComparison.Ordinal) ? l.Name[prefix.Length..] : l.Name;
        var found = named.FirstOrDefault(l => l.Name == name) ?? named.FirstOrDefault(l => Short(l) == name);
        if (found is not null) return found;
        var names = named.Select(Short).ToList();
        var help = NameSuggestions.DidYouMean(name, names) ?? NameSuggestions.DidYouMean(name, named.Select(l => l.Name));
        throw new DiagnosticException(DiagnosticCatalog.UnknownLayerName.At(null, default,
            $"`{model.Name}` has no layer named `{name}`",
            help ?? (names.Count == 0 ? "the model has no named layers" : $"its layers are {string.Join(", ", names.Select(n => $"`{n}`"))}")));
    }

    /// <summary>
    /// The layers whose output is a feature map [N, C, H, W], Grad-CAM's candidates: convolutions last first, then
    /// the others (batch norm, pooling) last first. The first is the default layer, the last convolution as in the paper.
    /// </summary>
    public static IEnumerable<LayerRow> FeatureMapLayers(ModelGraph model)
    {
        var maps = model.Layers.Where(l => l.Instance is not null && model.Graph[l.LastNode].Shape.Rank == 4).Reverse().ToList();
        return maps.Where(IsConvolution).Concat(maps.Where(l => !IsConvolution(l)));
    }

    private static bool IsConvolution(LayerRow layer) => layer.Instance!.Kind.StartsWith("conv", StringComparison.Ordinal);
}
