using System.Globalization;
using Dlc.Compiler.Ir;
using Dlc.Diagnostics;

namespace Dlc.Compiler.Elaboration;

/// <summary>
/// `embedding vocabulary dim`: integer indices [N, T] of int to vectors [N, T, dim], as nn.Embedding:
/// weight [vocabulary, dim], initialised N(0, 1). With `maskZero = true` (Keras's name) index 0 is padding at the
/// end of each sequence: the layers after it know each sequence's length, recurrent layers run each sequence
/// over its own steps only (packed), and the result is zero past its end.
/// </summary>
public sealed class EmbeddingLayer(int vocabulary, int dim, LayerInstance instance, bool maskZero = false) : Layer
{
    private int _weight = -1;

    public LayerInstance Instance { get; } = instance;

    public bool MaskZero { get; } = maskZero;

    public override string Describe() => $"embedding {vocabulary.ToString(CultureInfo.InvariantCulture)} {dim.ToString(CultureInfo.InvariantCulture)}";

    protected override bool TakesIndices => true;

    public override Layer Configure(Elaborator e, NamedArgsValue arguments)
    {
        var o = new LayerOptions(e, arguments, Describe(), ["maskZero"]);
        return new EmbeddingLayer(vocabulary, dim, Instance, o.Bool("maskZero", MaskZero)) { Site = Site };
    }

    protected override TensorValue Forward(Elaborator e, TensorValue x, TextSpan span)
    {
        if (!x.IsIndex)
            throw e.Error(DiagnosticCatalog.WrongArgumentType, span,
                $"`{Describe()}` takes integer indices, but {x.Producer} gives {x.Shape} of numbers",
                "declare the input as indices, for example `(tokens: Tensor[N, T] of int)`");
        var first = e.Builder.Nodes.Count;
        var created = _weight < 0;
        if (created) _weight = e.CreateParameter(Instance, "weight", new Shape(vocabulary, dim), new Init(InitKind.Normal), Site);
        var node = Emit(e, Op.Embedding, [x.Node, _weight]);
        int? lengths = null;
        if (MaskZero)
        {
            if (x.Shape.Rank != 2)
                throw e.Error(DiagnosticCatalog.WrongRank, span, $"`{Describe()} (maskZero = true)` masks sequences of tokens [N, T], but {x.Producer} gives {x.Shape}");
            lengths = Emit(e, Op.SequenceLengths, [x.Node]);
        }
        Record(e, Instance, e.Builder[node].Shape, created ? (long)vocabulary * dim : 0, first);
        return Result(e, node, span) with { Lengths = lengths };
    }
}

/// <summary>The options of a recurrent layer, as torch.nn's RNN/LSTM/GRU name them (always batch-first).</summary>
public sealed record RecurrentSettings(int Layers, bool Bidirectional, bool ReturnSequences, bool Bias, string Nonlinearity)
{
    public static RecurrentSettings Default { get; } = new(1, false, true, true, "tanh");
}

/// <summary>
/// `rnn`, `lstm` and `gru hidden` (options `layers`, `bidirectional`, `returnSequences` (default true),
/// `bias`, and for rnn `nonlinearity`): [N, T, features] to [N, T, hidden] (every step) or [N, hidden]
/// (the last state); bidirectional doubles the features. Parameters as PyTorch's: weight_ih_l0 [G·H, in],
/// weight_hh_l0 [G·H, H], bias_ih_l0, bias_hh_l0 [G·H] (and `_reverse`), with G = 1, 4, 3, all U(±1/√H).
/// </summary>
public sealed class RecurrentLayer(Op op, int hidden, RecurrentSettings settings, LayerInstance instance) : Layer
{
    private List<int>? _weights;
    private Dim _inFeatures;

    public LayerInstance Instance { get; } = instance;

    private string Kind => op switch { Op.Lstm => "lstm", Op.Gru => "gru", _ => "rnn" };

    public override string Describe() => $"{Kind} {hidden.ToString(CultureInfo.InvariantCulture)}";

    public override Layer Configure(Elaborator e, NamedArgsValue arguments)
    {
        string[] known = op == Op.Rnn
            ? ["layers", "bidirectional", "returnSequences", "bias", "nonlinearity"]
            : ["layers", "bidirectional", "returnSequences", "bias"];
        var o = new LayerOptions(e, arguments, Describe(), known);
        var s = new RecurrentSettings(
            o.PositiveInt("layers", settings.Layers),
            o.Bool("bidirectional", settings.Bidirectional),
            o.Bool("returnSequences", settings.ReturnSequences),
            o.Bool("bias", settings.Bias),
            o.Symbol("nonlinearity", ["tanh", "relu"]) ?? settings.Nonlinearity);
        return new RecurrentLayer(op, hidden, s, Instance) { Site = Site };
    }

    protected override TensorValue Forward(Elaborator e, TensorValue x, TextSpan span)
    {
        if (x.Shape.Rank != 3 || x.Shape[2].IsSymbolic)
            throw e.Error(DiagnosticCatalog.WrongRank, span, $"`{Describe()}` takes a sequence Tensor[N, T, features], but {x.Producer} gives {x.Shape}",
                x.Shape.Rank == 2 ? "a recurrent layer reads one vector per step; add a time axis, or use `dense` for a single vector" : null);
        var first = e.Builder.Nodes.Count;
        var created = _weights is null;
        if (_weights is null)
        {
            _inFeatures = x.Shape[2];
            _weights = CreateWeights(e, x.Shape[2].Size);
        }
        else if (_inFeatures != x.Shape[2])
        {
            throw e.Error(DiagnosticCatalog.ShapeMismatch, span,
                $"this `{Describe()}` is shared: it was first applied to {_inFeatures} features, here to {x.Shape[2]}",
                $"applying one layer value twice shares its weights; call `{Kind}` again for a layer of its own");
        }
        var perLayer = _weights.Count / settings.Layers;
        var node = x.Node;
        for (var layer = 0; layer < settings.Layers; layer++)
        {
            var attributes = new OpAttributes
            {
                Bidirectional = settings.Bidirectional,
                ReturnSequences = layer < settings.Layers - 1 || settings.ReturnSequences,
                Mode = op == Op.Rnn ? settings.Nonlinearity : null,
                Packed = x.Lengths is not null,
            };
            // Padded sequences (an embedding with maskZero) run packed: each over its own steps.
            int[] lengths = x.Lengths is { } l ? [l] : [];
            node = Emit(e, op, [node, .. _weights.Skip(layer * perLayer).Take(perLayer), .. lengths], attributes);
        }
        var parameters = created ? e.Builder.Parameters.Where(p => _weights.Contains(p.Node)).Sum(p => p.Shape.Dims.Aggregate(1L, (a, d) => a * d.Size)) : 0;
        Record(e, Instance, e.Builder[node].Shape, parameters, first);
        return Result(e, node, span);
    }

    private List<int> CreateWeights(Elaborator e, int inFeatures)
    {
        var gates = Ops.SequenceOps.Gates(op) * hidden;
        var directions = settings.Bidirectional ? 2 : 1;
        var init = new Init(InitKind.UniformFanIn, hidden);
        var weights = new List<int>();
        for (var layer = 0; layer < settings.Layers; layer++)
        {
            var input = layer == 0 ? inFeatures : hidden * directions;
            for (var d = 0; d < directions; d++)
            {
                var suffix = $"l{layer}{(d == 1 ? "_reverse" : "")}";
                weights.Add(e.CreateParameter(Instance, $"weight_ih_{suffix}", new Shape(gates, input), init, Site));
                weights.Add(e.CreateParameter(Instance, $"weight_hh_{suffix}", new Shape(gates, hidden), init, Site));
                if (!settings.Bias) continue;
                weights.Add(e.CreateParameter(Instance, $"bias_ih_{suffix}", new Shape(gates), init, Site));
                weights.Add(e.CreateParameter(Instance, $"bias_hh_{suffix}", new Shape(gates), init, Site));
            }
        }
        return weights;
    }
}

/// <summary>`positionalEncoding`: adds the sinusoidal encoding of each position to [N, T, features] (features even).</summary>
public sealed class PositionalEncodingLayer : Layer
{
    public override string Describe() => "positionalEncoding";

    protected override TensorValue Forward(Elaborator e, TensorValue x, TextSpan span)
    {
        if (x.Shape.Rank != 3 || x.Shape[2].IsSymbolic || x.Shape[2].Size % 2 != 0)
            throw e.Error(DiagnosticCatalog.WrongRank, span,
                $"`positionalEncoding` takes Tensor[N, T, features] with an even number of features, but {x.Producer} gives {x.Shape}");
        var first = e.Builder.Nodes.Count;
        var node = Emit(e, Op.PositionalEncoding, [x.Node]);
        Record(e, null, x.Shape, 0, first);
        return x with { Node = node, Span = span };
    }
}

/// <summary>
/// `sequenceMean`: the mean over the time axis, [N, T, D] → [N, D]. After `embedding ... (maskZero = true)` each
/// sample's mean is over its own positions only (Keras's GlobalAveragePooling1D under a mask), so a sequence classifier
/// reads the same features whatever padding its batch adds.
/// </summary>
public sealed class SequenceMeanLayer : Layer
{
    public override string Describe() => "sequenceMean";

    protected override TensorValue Forward(Elaborator e, TensorValue x, TextSpan span)
    {
        if (x.Shape.Rank != 3)
            throw e.Error(DiagnosticCatalog.WrongRank, span, $"`sequenceMean` takes a sequence Tensor[N, T, features], but {x.Producer} gives {x.Shape}");
        var first = e.Builder.Nodes.Count;
        var node = x.Lengths is { } lengths
            ? Emit(e, Op.SequenceMean, [x.Node, lengths], new OpAttributes { Packed = true })
            : Emit(e, Op.SequenceMean, [x.Node]);
        Record(e, null, e.Builder[node].Shape, 0, first);
        return Result(e, node, span);
    }
}
