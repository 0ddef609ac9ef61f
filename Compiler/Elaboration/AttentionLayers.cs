using System.Globalization;
using Dlc.Compiler.Ir;
using Dlc.Diagnostics;

namespace Dlc.Compiler.Elaboration;

/// <summary>
/// `multiHeadAttention heads` (options `causal`, `bias`): self-attention over [N, T, E] as
/// nn.MultiheadAttention(E, heads, batch_first=True): in_proj_weight [3E, E] (Xavier uniform),
/// in_proj_bias [3E] (zeros), out_proj.weight [E, E] (U(±1/√E)), out_proj.bias [E] (zeros). It elaborates to
/// the in_proj product, the `attention` op over the packed q, k, v, and the out_proj product. With `memory = m` it is
/// cross-attention, nn.MultiheadAttention(E, heads, kdim, vdim)(x, m, m) as a decoder uses it: the queries are
/// projected from x, the keys and values from the memory m [N, S, kdim] (its padding masked when m comes from
/// `maskZero` tokens), with PyTorch's separate weights q_proj_weight [E, E], k_proj_weight and v_proj_weight [E, kdim]
/// and their biases q_proj_bias, k_proj_bias, v_proj_bias [E] (PyTorch's in_proj_bias is the three joined).
/// </summary>
public sealed class MultiHeadAttentionLayer(int heads, bool causal, bool bias, LayerInstance instance, TensorValue? memory = null) : Layer
{
    private int[]? _weights;

    public LayerInstance Instance { get; } = instance;

    public override string Describe() => $"multiHeadAttention {heads.ToString(CultureInfo.InvariantCulture)}";

    public override Layer Configure(Elaborator e, NamedArgsValue arguments)
    {
        var o = new LayerOptions(e, arguments, Describe(), ["causal", "bias", "memory"]);
        var m = memory;
        if (o["memory"] is { } given)
        {
            m = given as TensorValue ?? throw e.Error(DiagnosticCatalog.WrongArgumentType, given.Span,
                $"`memory` of `{Describe()}` is the sequence the queries attend to, a Tensor[N, S, features], but this is {given.Kind}",
                "bind the encoder's result with `let memory = ...` and write `multiHeadAttention heads (memory = memory)`");
            if (m.IsIndex)
                throw e.Error(DiagnosticCatalog.WrongArgumentType, given.Span, $"`memory` of `{Describe()}` takes numbers, but {m.Producer} gives integer indices {m.Shape}",
                    "turn indices into vectors first with `embedding vocabulary dim`");
        }
        var layer = new MultiHeadAttentionLayer(heads, o.Bool("causal", causal), o.Bool("bias", bias), Instance, m) { Site = Site };
        if (layer.Memory is not null && layer.Causal)
            throw e.Error(DiagnosticCatalog.InvalidArgument, arguments.Span, $"`{Describe()}` with a `memory` reads the whole memory, so it cannot be `causal`",
                "mask the decoder's own later positions in its self-attention: `multiHeadAttention heads (causal = true)` before this layer");
        return layer;
    }

    private TensorValue? Memory => memory;

    private bool Causal => causal;

    protected override TensorValue Forward(Elaborator e, TensorValue x, TextSpan span)
    {
        if (memory is { } m) return Cross(e, x, m, span);
        var features = Attention.CheckInput(e, this, x, span, heads);
        var first = e.Builder.Nodes.Count;
        var created = _weights is null;
        _weights ??= Attention.CreateWeights(e, Instance, Site, features, bias, "");
        if (!created) Attention.CheckShared(e, this, x, span, e.Builder[_weights[0]].Shape[1]);
        var w = _weights;
        var node = Attention.Emit(e, Site, x.Node, w[0], bias ? w[1] : -1, bias ? w[2] : w[1], bias ? w[3] : -1, heads, causal, x.Lengths);
        Record(e, Instance, x.Shape, created ? Attention.Count(e, _weights) : 0, first);
        return Result(e, node, span);
    }

    /// <summary>Queries from x [N, T, E], keys and values from the memory [N, S, kdim]: the result is [N, T, E].</summary>
    private TensorValue Cross(Elaborator e, TensorValue x, TensorValue m, TextSpan span)
    {
        var features = Attention.CheckInput(e, this, x, span, heads);
        if (m.Shape.Rank != 3 || m.Shape[2].IsSymbolic || m.Shape[0] != x.Shape[0])
            throw e.Error(DiagnosticCatalog.ShapeMismatch, m.Span,
                $"`{Describe()}` attends from {x.Shape} to a memory Tensor[{x.Shape[0]}, S, features], but {m.Producer} gives {m.Shape}");
        var first = e.Builder.Nodes.Count;
        var created = _weights is null;
        var width = m.Shape[2].Size;
        if (_weights is null)
        {
            var names = new List<(string Name, Shape Shape, Init Init)>();
            foreach (var (part, inputs) in new[] { ("q", features), ("k", width), ("v", width) })
                names.Add(($"{part}_proj_weight", new Shape(features, inputs), new Init(InitKind.XavierUniform, inputs) { FanOut = features }));
            if (bias) names.AddRange(new[] { "q", "k", "v" }.Select(part => ($"{part}_proj_bias", new Shape(features), Init.Zeros)));
            names.Add(("out_proj.weight", new Shape(features, features), new Init(InitKind.UniformFanIn, features)));
            if (bias) names.Add(("out_proj.bias", new Shape(features), Init.Zeros));
            _weights = [.. names.Select(p => e.CreateParameter(Instance, p.Name, p.Shape, p.Init, Site))];
        }
        else
        {
            Attention.CheckShared(e, this, x, span, e.Builder[_weights[0]].Shape[1]);
            if (e.Builder[_weights[1]].Shape[1] != m.Shape[2])
                throw e.Error(DiagnosticCatalog.ShapeMismatch, span,
                    $"this `{Describe()}` is shared: its memory first had {e.Builder[_weights[1]].Shape[1]} features, here {m.Shape[2]}",
                    "applying one layer value twice shares its weights; write the layer again for one of its own");
        }
        var w = _weights;
        int Linear(int input, int weight, int b)
        {
            var product = Emit(e, Op.MatMul, [input, weight], new OpAttributes { TransB = true });
            return b < 0 ? product : Emit(e, Op.BiasAdd, [product, b]);
        }
        var q = Linear(x.Node, w[0], bias ? w[3] : -1);
        var k = Linear(m.Node, w[1], bias ? w[4] : -1);
        var v = Linear(m.Node, w[2], bias ? w[5] : -1);
        var attention = m.Lengths is { } lengths
            ? Emit(e, Op.CrossAttention, [q, k, v, lengths], new OpAttributes { Heads = heads, Packed = true })
            : Emit(e, Op.CrossAttention, [q, k, v], new OpAttributes { Heads = heads });
        var node = Linear(attention, w[bias ? 6 : 3], bias ? w[7] : -1);
        Record(e, Instance, x.Shape, created ? Attention.Count(e, w) : 0, first);
        return Result(e, node, span);
    }
}

/// <summary>
/// `transformerBlock heads` (options `hidden` (default 4·E), `dropout`, `causal`, `activation`): a pre-norm
/// encoder block over [N, T, E], h = x + attention(norm1 x), y = h + linear2(act(linear1(norm2 h))),
/// with the parameter names of nn.TransformerEncoderLayer(norm_first=True, batch_first=True).
/// </summary>
public sealed class TransformerBlockLayer(int heads, int? hidden, double dropout, bool causal, string activation, LayerInstance instance) : Layer
{
    private Dictionary<string, int>? _p;

    public LayerInstance Instance { get; } = instance;

    public override string Describe() => $"transformerBlock {heads.ToString(CultureInfo.InvariantCulture)}";

    public override Layer Configure(Elaborator e, NamedArgsValue arguments)
    {
        var o = new LayerOptions(e, arguments, Describe(), ["hidden", "dropout", "causal", "activation"]);
        return new TransformerBlockLayer(heads, o.Has("hidden") ? o.PositiveInt("hidden", 1) : hidden, o.Probability("dropout", dropout),
            o.Bool("causal", causal), o.Symbol("activation", ["gelu", "relu"]) ?? activation, Instance) { Site = Site };
    }

    protected override TensorValue Forward(Elaborator e, TensorValue x, TextSpan span)
    {
        var features = Attention.CheckInput(e, this, x, span, heads);
        var first = e.Builder.Nodes.Count;
        var created = _p is null;
        if (_p is null) _p = CreateWeights(e, features);
        else Attention.CheckShared(e, this, x, span, e.Builder[_p["norm1.weight"]].Shape[0]);
        var p = _p;

        var norm1 = Emit(e, Op.LayerNorm, [x.Node, p["norm1.weight"], p["norm1.bias"]], new OpAttributes { Value = 1e-5 });
        var attention = Attention.Emit(e, Site, norm1, p["self_attn.in_proj_weight"], p["self_attn.in_proj_bias"],
            p["self_attn.out_proj.weight"], p["self_attn.out_proj.bias"], heads, causal, x.Lengths);
        var h = Emit(e, Op.Add, [x.Node, Dropout(e, attention)]);
        var norm2 = Emit(e, Op.LayerNorm, [h, p["norm2.weight"], p["norm2.bias"]], new OpAttributes { Value = 1e-5 });
        var inner = Linear(e, norm2, p["linear1.weight"], p["linear1.bias"]);
        inner = Emit(e, activation == "relu" ? Op.Relu : Op.Gelu, [inner]);
        var outer = Linear(e, Dropout(e, inner), p["linear2.weight"], p["linear2.bias"]);
        var node = Emit(e, Op.Add, [h, Dropout(e, outer)]);
        Record(e, Instance, x.Shape, created ? Attention.Count(e, p.Values) : 0, first);
        return Result(e, node, span);
    }

    private Dictionary<string, int> CreateWeights(Elaborator e, int features)
    {
        var width = hidden ?? 4 * features;
        var attention = Attention.CreateWeights(e, Instance, Site, features, true, "self_attn.");
        var p = new Dictionary<string, int>(StringComparer.Ordinal)
        {
            ["self_attn.in_proj_weight"] = attention[0],
            ["self_attn.in_proj_bias"] = attention[1],
            ["self_attn.out_proj.weight"] = attention[2],
            ["self_attn.out_proj.bias"] = attention[3],
        };
        void Linear(string name, int outputs, int inputs)
        {
            var init = new Init(InitKind.UniformFanIn, inputs);
            p[$"{name}.weight"] = e.CreateParameter(Instance, $"{name}.weight", new Shape(outputs, inputs), init, Site);
            p[$"{name}.bias"] = e.CreateParameter(Instance, $"{name}.bias", new Shape(outputs), init, Site);
        }
        Linear("linear1", width, features);
        Linear("linear2", features, width);
        foreach (var norm in new[] { "norm1", "norm2" })
        {
            p[$"{norm}.weight"] = e.CreateParameter(Instance, $"{norm}.weight", new Shape(features), Init.Ones, Site);
            p[$"{norm}.bias"] = e.CreateParameter(Instance, $"{norm}.bias", new Shape(features), Init.Zeros, Site);
        }
        return p;
    }

    private int Linear(Elaborator e, int x, int weight, int bias) =>
        Emit(e, Op.BiasAdd, [Emit(e, Op.MatMul, [x, weight], new OpAttributes { TransB = true }), bias]);

    private int Dropout(Elaborator e, int x)
    {
        if (!e.Training || dropout == 0) return x;
        return Emit(e, Op.Multiply, [x, Emit(e, Op.DropoutMask, [x], new OpAttributes { Value = dropout })]);
    }
}

/// <summary>What self-attention layers share: the input check, the weights and the sharing check.</summary>
internal static class Attention
{
    public static int CheckInput(Elaborator e, Layer layer, TensorValue x, TextSpan span, int heads)
    {
        if (x.Shape.Rank != 3 || x.Shape[2].IsSymbolic)
            throw e.Error(DiagnosticCatalog.WrongRank, span,
                $"`{layer.Describe()}` takes a sequence Tensor[N, T, features], but {x.Producer} gives {x.Shape}");
        var features = x.Shape[2].Size;
        if (features % heads != 0)
        {
            var divisors = Enumerable.Range(1, features).Where(d => features % d == 0).Take(8).Select(d => d.ToString(CultureInfo.InvariantCulture));
            throw e.Error(DiagnosticCatalog.ShapeMismatch, span,
                $"`{layer.Describe()}` splits the features into {heads} heads, but {x.Producer} gives {features} features",
                $"the heads must divide the features: {features} splits into {string.Join(", ", divisors)}... heads");
        }
        return features;
    }

    public static void CheckShared(Elaborator e, Layer layer, TensorValue x, TextSpan span, Dim features)
    {
        if (x.Shape[2] != features)
            throw e.Error(DiagnosticCatalog.ShapeMismatch, span,
                $"this `{layer.Describe()}` is shared: it was first applied to {features} features, here to {x.Shape[2]}",
                "applying one layer value twice shares its weights; write the layer again for one of its own");
    }

    /// <summary>in_proj_weight, in_proj_bias, out_proj.weight, out_proj.bias (the biases only with <paramref name="bias"/>).</summary>
    public static int[] CreateWeights(Elaborator e, LayerInstance instance, Site site, int features, bool bias, string prefix)
    {
        var weights = new List<int>
        {
            e.CreateParameter(instance, $"{prefix}in_proj_weight", new Shape(3 * features, features),
                new Init(InitKind.XavierUniform, features) { FanOut = 3 * features }, site),
        };
        if (bias) weights.Add(e.CreateParameter(instance, $"{prefix}in_proj_bias", new Shape(3 * features), Init.Zeros, site));
        weights.Add(e.CreateParameter(instance, $"{prefix}out_proj.weight", new Shape(features, features), new Init(InitKind.UniformFanIn, features), site));
        if (bias) weights.Add(e.CreateParameter(instance, $"{prefix}out_proj.bias", new Shape(features), Init.Zeros, site));
        return [.. weights];
    }

    /// <summary>
    /// Self-attention as nodes: the packed projection x·in_projᵀ (+ bias) [N, T, 3E], the `attention` op over it, and
    /// the output projection (+ bias). A bias of -1 is left out. With <paramref name="lengths"/> (a padded batch) the
    /// attention is packed: the keys past each sequence's end are masked.
    /// </summary>
    public static int Emit(Elaborator e, Site site, int x, int inWeight, int inBias, int outWeight, int outBias, int heads, bool causal, int? lengths)
    {
        int Linear(int input, int weight, int bias)
        {
            var product = e.AddNode(Op.MatMul, [input, weight], new OpAttributes { TransB = true }, site, null);
            return bias < 0 ? product : e.AddNode(Op.BiasAdd, [product, bias], null, site, null);
        }
        var packed = Linear(x, inWeight, inBias);
        var attention = lengths is { } l
            ? e.AddNode(Op.Attention, [packed, l], new OpAttributes { Heads = heads, Causal = causal, Packed = true }, site, null)
            : e.AddNode(Op.Attention, [packed], new OpAttributes { Heads = heads, Causal = causal }, site, null);
        return Linear(attention, outWeight, outBias);
    }

    public static long Count(Elaborator e, IEnumerable<int> nodes)
    {
        var set = nodes.ToHashSet();
        return e.Builder.Parameters.Where(p => set.Contains(p.Node)).Sum(p => p.Shape.Dims.Aggregate(1L, (a, d) => a * d.Size));
    }
}
