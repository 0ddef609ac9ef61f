using Dlc.Backend.Plans;
using Dlc.Compiler.Autodiff;
using Dlc.Compiler.Ir;

namespace Dlc.Backend.Tests.Plans;

/// <summary>
/// Every differentiable op of the op table, differentiated by the autodiff pass and run in double
/// precision, against central finite differences. A new op without a case here fails the first test.
/// </summary>
public class GradientCheckTests
{
    private static readonly Dictionary<string, int> Symbols = new() { ["N"] = 3 };

    /// <summary>A small graph around one op: its differentiable inputs are parameters, the rest inputs.</summary>
    private sealed record Case(string Name, Op Op, Func<GraphBuilder, int> Build);

    private static IEnumerable<Case> Cases()
    {
        int P(GraphBuilder b, string name, params Dim[] dims) => b.Parameter(name, new Shape(dims), Init.Zeros);
        int PArray(GraphBuilder b, string name, Dim[] dims) => P(b, name, dims);
        foreach (var (ta, tb) in new[] { (false, false), (false, true), (true, false), (true, true) })
        {
            yield return new Case($"matmul ta={ta} tb={tb}", Op.MatMul, b => b.Add(Op.MatMul,
                [ta ? P(b, "a", 4, Dim.Sym("N")) : P(b, "a", Dim.Sym("N"), 4), tb ? P(b, "b", 5, 4) : P(b, "b", 4, 5)],
                new OpAttributes { TransA = ta, TransB = tb }));
        }
        yield return new Case("bias_add", Op.BiasAdd, b => b.Add(Op.BiasAdd, P(b, "x", Dim.Sym("N"), 5), P(b, "b", 5)));
        yield return new Case("add", Op.Add, b => b.Add(Op.Add, P(b, "a", Dim.Sym("N"), 4), P(b, "b", Dim.Sym("N"), 4)));
        yield return new Case("sub", Op.Subtract, b => b.Add(Op.Subtract, P(b, "a", Dim.Sym("N"), 4), P(b, "b", Dim.Sym("N"), 4)));
        yield return new Case("mul", Op.Multiply, b => b.Add(Op.Multiply, P(b, "a", Dim.Sym("N"), 4), P(b, "b", Dim.Sym("N"), 4)));
        yield return new Case("scale", Op.Scale, b => b.Add(Op.Scale, [P(b, "x", Dim.Sym("N"), 4)], new OpAttributes { Value = -1.7 }));
        foreach (var op in new[] { Op.Relu, Op.Sigmoid, Op.Tanh, Op.Gelu, Op.Softmax, Op.LogSoftmax, Op.Sum })
            yield return new Case(OpTable.Info(op).Name, op, b => b.Add(op, P(b, "x", Dim.Sym("N"), 5)));
        yield return new Case("broadcast", Op.Broadcast, b => b.Add(Op.Broadcast, [P(b, "s")], null, null, new Shape(Dim.Sym("N"), 4)));
        yield return new Case("div", Op.Divide, b => b.Add(Op.Divide, P(b, "a", Dim.Sym("N"), 4), P(b, "b", Dim.Sym("N"), 4)));
        yield return new Case("broadcast_to [N,1] to [N,4]", Op.Expand, b => b.Add(Op.Expand, [P(b, "x", Dim.Sym("N"), 1)], null, null, new Shape(Dim.Sym("N"), 4)));
        yield return new Case("broadcast_to [3,1] to [2,N,3,4]", Op.Expand, b => b.Add(Op.Expand, [P(b, "x", 3, 1)], null, null, new Shape(2, Dim.Sym("N"), 3, 4)));
        yield return new Case("sum_to [2,N,4] to [N,1]", Op.ReduceTo, b => b.Add(Op.ReduceTo, [P(b, "x", 2, Dim.Sym("N"), 4)], null, null, new Shape(Dim.Sym("N"), 1)));
        yield return new Case("reshape", Op.Reshape, b => b.Add(Op.Reshape, [P(b, "x", Dim.Sym("N"), 6)], null, null, new Shape(Dim.Sym("N"), 2, 3)));
        yield return new Case("softmax_cross_entropy", Op.SoftmaxCrossEntropy, b =>
            b.Add(Op.SoftmaxCrossEntropy, P(b, "logits", Dim.Sym("N"), 5), b.Input("labels", new Shape(Dim.Sym("N")))));
        yield return new Case("softmax_cross_entropy with label smoothing", Op.SoftmaxCrossEntropy, b =>
            b.Add(Op.SoftmaxCrossEntropy, [P(b, "logits", Dim.Sym("N"), 5), b.Input("labels", new Shape(Dim.Sym("N")))], new OpAttributes { Value = 0.2 }));
        // Per position with padding: rows labelled −1 are left out of the mean.
        yield return new Case("softmax_cross_entropy ignoring padding", Op.SoftmaxCrossEntropy, b =>
            b.Add(Op.SoftmaxCrossEntropy, P(b, "logits", Dim.Sym("N"), 4, 5), b.Input("padded", new Shape(Dim.Sym("N"), 4))));
        foreach (var c in WindowCases(PArray)) yield return c;
        foreach (var c in SequenceCases(PArray)) yield return c;
        foreach (var (heads, causal) in new[] { (1, false), (2, false), (2, true) })
        {
            // x [N, 3, 3E] with E = 4: q, k, v of every head, every position.
            yield return new Case($"attention heads {heads}{(causal ? " causal" : "")}", Op.Attention, b =>
                b.Add(Op.Attention, [P(b, "x", Dim.Sym("N"), 3, 12)], new OpAttributes { Heads = heads, Causal = causal }));
        }
        foreach (var causal in new[] { false, true })
        {
            // Packed: x [N, 4, 3E] with E = 4, the three samples 4, 0 and 2 positions long (the lengths input).
            yield return new Case($"attention packed{(causal ? " causal" : "")}", Op.Attention, b =>
                b.Add(Op.Attention, [P(b, "x", Dim.Sym("N"), 4, 12), b.Input("lengths", new Shape(Dim.Sym("N")))],
                    new OpAttributes { Heads = 2, Causal = causal, Packed = true }));
        }
        foreach (var packed in new[] { false, true })
        {
            // q [N, 2, 4] attends to k, v [N, 4, 4] in 2 heads; packed, the memories are 4, 0 and 2 positions long.
            yield return new Case($"cross_attention{(packed ? " packed" : "")}", Op.CrossAttention, b =>
            {
                var inputs = new List<int> { P(b, "q", Dim.Sym("N"), 2, 4), P(b, "k", Dim.Sym("N"), 4, 4), P(b, "v", Dim.Sym("N"), 4, 4) };
                if (packed) inputs.Add(b.Input("lengths", new Shape(Dim.Sym("N"))));
                return b.Add(Op.CrossAttention, inputs, new OpAttributes { Heads = 2, Packed = packed });
            });
        }
        yield return new Case("sequence_mean", Op.SequenceMean, b => b.Add(Op.SequenceMean, P(b, "x", Dim.Sym("N"), 4, 3)));
        yield return new Case("sequence_mean packed", Op.SequenceMean, b =>
            b.Add(Op.SequenceMean, [P(b, "x", Dim.Sym("N"), 4, 3), b.Input("lengths", new Shape(Dim.Sym("N")))], new OpAttributes { Packed = true }));
        yield return new Case("positional_encoding", Op.PositionalEncoding, b => b.Add(Op.PositionalEncoding, P(b, "x", Dim.Sym("N"), 3, 4)));
        yield return new Case("mse", Op.Mse, b => b.Add(Op.Mse, P(b, "pred", Dim.Sym("N"), 4), P(b, "target", Dim.Sym("N"), 4)));
    }

    /// <summary>Convolution and max pooling on x [2, 3, 5, 5] with a 3×3 window, over stride, padding, dilation and groups.</summary>
    private static IEnumerable<Case> WindowCases(Func<GraphBuilder, string, Dim[], int> p)
    {
        int P(GraphBuilder b, string name, params Dim[] dims) => p(b, name, dims);
        var convs = new (string Name, int Out, int Groups, int[] Kernel, int[] Stride, int[] Pads, int[] Dilation, bool Bias)[]
        {
            ("conv2d", 4, 1, [3, 3], [1, 1], [0, 0, 0, 0], [1, 1], true),
            ("conv2d stride 2 padding 1", 4, 1, [3, 3], [2, 2], [1, 1, 1, 1], [1, 1], true),
            ("conv2d dilation 2 padding 1", 2, 1, [3, 3], [1, 1], [1, 1, 1, 1], [2, 2], true),
            ("conv2d groups 3 no bias", 6, 3, [3, 3], [1, 1], [1, 1, 1, 1], [1, 1], false),
            ("conv2d 3x2 stride (2,1) uneven padding", 4, 1, [3, 2], [2, 1], [1, 0, 0, 1], [1, 1], true),
            ("conv2d 1x1 pointwise", 4, 1, [1, 1], [1, 1], [0, 0, 0, 0], [1, 1], true),
        };
        foreach (var c in convs)
        {
            yield return new Case(c.Name, Op.Conv2d, b =>
            {
                var x = P(b, "x", 2, 3, 5, 5);
                var w = P(b, "w", c.Out, 3 / c.Groups, c.Kernel[0], c.Kernel[1]);
                int[] inputs = c.Bias ? [x, w, P(b, "b", c.Out)] : [x, w];
                return b.Add(Op.Conv2d, inputs, new OpAttributes { Stride = c.Stride, Padding = c.Pads, Dilation = c.Dilation, Groups = c.Groups });
            });
        }
        var pools = new (string Name, int[] Kernel, int[] Stride, int[] Pads)[]
        {
            ("max_pool 2", [2, 2], [2, 2], [0, 0, 0, 0]),
            ("max_pool 3 stride 2 padding 1", [3, 3], [2, 2], [1, 1, 1, 1]),
            ("max_pool 3 stride 1 (overlapping)", [3, 3], [1, 1], [0, 0, 0, 0]),
        };
        foreach (var c in pools)
        {
            yield return new Case(c.Name, Op.MaxPool, b =>
                b.Add(Op.MaxPool, [P(b, "x", 2, 3, 5, 5)], new OpAttributes { Kernel = c.Kernel, Stride = c.Stride, Padding = c.Pads }));
            yield return new Case(c.Name.Replace("max", "avg"), Op.AvgPool, b =>
                b.Add(Op.AvgPool, [P(b, "x", 2, 3, 5, 5)], new OpAttributes { Kernel = c.Kernel, Stride = c.Stride, Padding = c.Pads }));
        }
        yield return new Case("max_pool 1-D 3 stride 2 padding 1", Op.MaxPool, b =>
            b.Add(Op.MaxPool, [P(b, "x", 2, 3, 7)], new OpAttributes { Kernel = [3], Stride = [2], Padding = [1, 1] }));
        yield return new Case("avg_pool 1-D 2", Op.AvgPool, b =>
            b.Add(Op.AvgPool, [P(b, "x", 2, 3, 6)], new OpAttributes { Kernel = [2], Stride = [2], Padding = [0, 0] }));
        yield return new Case("conv1d stride 2 padding 1 dilation 2", Op.Conv1d, b =>
            b.Add(Op.Conv1d, [P(b, "x", 2, 4, 9), P(b, "w", 6, 2, 3), P(b, "b", 6)],
                new OpAttributes { Stride = [2], Padding = [1, 1], Dilation = [2], Groups = 2 }));
        yield return new Case("conv_transpose2d stride 2 padding 1 output padding 1", Op.ConvTranspose2d, b =>
            b.Add(Op.ConvTranspose2d, [P(b, "x", 2, 4, 3, 3), P(b, "w", 4, 3, 3, 3), P(b, "b", 3)],
                new OpAttributes { Stride = [2, 2], Padding = [1, 1, 1, 1], Dilation = [1, 1], OutputPadding = [1, 1], Groups = 1 }));
        yield return new Case("conv_transpose2d groups 2 no bias", Op.ConvTranspose2d, b =>
            b.Add(Op.ConvTranspose2d, [P(b, "x", 2, 4, 3, 3), P(b, "w", 4, 1, 2, 2)],
                new OpAttributes { Stride = [1, 1], Padding = [0, 0, 0, 0], Dilation = [1, 1], OutputPadding = [0, 0], Groups = 2 }));
        yield return new Case("global_avg_pool", Op.GlobalAvgPool, b => b.Add(Op.GlobalAvgPool, P(b, "x", 2, 3, 4, 5)));
        yield return new Case("upsample nearest 2", Op.Upsample, b =>
            b.Add(Op.Upsample, [P(b, "x", 2, 3, 3, 2)], new OpAttributes { Factor = [2, 3], Mode = "nearest" }));
        foreach (var training in new[] { true, false })
        {
            foreach (var dims in new[] { new Dim[] { Dim.Sym("N"), 3, 2, 2 }, [Dim.Sym("N"), 4], [Dim.Sym("N"), 2, 5] })
            {
                yield return new Case($"batch_norm {(training ? "training" : "evaluation")} [{string.Join(", ", dims.Select(d => d.ToString()))}]", Op.BatchNorm, b =>
                {
                    var channels = new Shape(dims[1]);
                    // Statistics are inputs, the variance kept positive through a sigmoid.
                    var mean = b.Input("running_mean", channels);
                    var variance = b.Add(Op.Sigmoid, b.Input("running_var", channels));
                    return b.Add(Op.BatchNorm, [P(b, "x", dims), P(b, "w", dims[1]), P(b, "b", dims[1]), mean, variance, b.Input("count", Shape.Scalar)],
                        new OpAttributes { Value = 1e-5, Momentum = 0.1, Training = training });
                });
            }
        }
        yield return new Case("layer_norm", Op.LayerNorm, b =>
            b.Add(Op.LayerNorm, [P(b, "x", Dim.Sym("N"), 2, 6), P(b, "w", 6), P(b, "b", 6)], new OpAttributes { Value = 1e-5 }));
        // A dense weight [units, in] and a convolution's [out, in, kh, kw], whose lengths g keep the weight's rank.
        yield return new Case("weight_norm [4, 3]", Op.WeightNorm, b => b.Add(Op.WeightNorm, P(b, "v", 4, 3), P(b, "g", 4, 1)));
        yield return new Case("weight_norm [3, 2, 2, 2]", Op.WeightNorm, b => b.Add(Op.WeightNorm, P(b, "v", 3, 2, 2, 2), P(b, "g", 3, 1, 1, 1)));
    }

    /// <summary>
    /// Embedding, and each recurrent cell over x [N, 4, 3] with 2 hidden features: every step or the last state, one
    /// direction or two, with and without bias, so gradients are checked through time in both directions.
    /// </summary>
    private static IEnumerable<Case> SequenceCases(Func<GraphBuilder, string, Dim[], int> p)
    {
        int P(GraphBuilder b, string name, params Dim[] dims) => p(b, name, dims);
        yield return new Case("embedding", Op.Embedding, b =>
            b.Add(Op.Embedding, b.Input("labels", new Shape(Dim.Sym("N"), 4)), P(b, "w", 5, 3)));
        var cells = new (string Name, Op Op, string? Mode, int Gates)[]
        {
            ("rnn", Op.Rnn, "tanh", 1), ("rnn relu", Op.Rnn, "relu", 1), ("lstm", Op.Lstm, null, 4), ("gru", Op.Gru, null, 3),
        };
        foreach (var cell in cells)
        {
            foreach (var (bidirectional, sequences, bias) in new[] { (false, true, true), (false, false, true), (true, true, false), (true, false, true) })
            {
                var name = $"{cell.Name}{(bidirectional ? " bidirectional" : "")}{(sequences ? " sequences" : " last state")}{(bias ? "" : " no bias")}";
                // x [N, 4, 3] and the weights of each direction, hidden size 2.
                List<int> Inputs(GraphBuilder b)
                {
                    const int hidden = 2;
                    var inputs = new List<int> { P(b, "x", Dim.Sym("N"), 4, 3) };
                    foreach (var d in bidirectional ? new[] { "", "_reverse" } : [""])
                    {
                        inputs.Add(P(b, "w_ih" + d, cell.Gates * hidden, 3));
                        inputs.Add(P(b, "w_hh" + d, cell.Gates * hidden, hidden));
                        if (!bias) continue;
                        inputs.Add(P(b, "b_ih" + d, cell.Gates * hidden));
                        inputs.Add(P(b, "b_hh" + d, cell.Gates * hidden));
                    }
                    return inputs;
                }
                yield return new Case(name, cell.Op, b =>
                    b.Add(cell.Op, Inputs(b), new OpAttributes { Bidirectional = bidirectional, ReturnSequences = sequences, Mode = cell.Mode }));
                // Packed: the three samples run over 4, 0 and 2 of the 4 steps (the lengths input).
                yield return new Case(name + " packed", cell.Op, b =>
                {
                    var inputs = Inputs(b);
                    inputs.Add(b.Input("lengths", new Shape(Dim.Sym("N"))));
                    return b.Add(cell.Op, inputs, new OpAttributes { Bidirectional = bidirectional, ReturnSequences = sequences, Mode = cell.Mode, Packed = true });
                });
            }
        }
    }

    public static TheoryData<string> CaseNames() => new(Cases().Select(c => c.Name));

    [Fact]
    public void Every_differentiable_op_has_a_gradient_check()
    {
        var covered = Cases().Select(c => c.Op).ToHashSet();
        OpTable.All.Where(i => i.IsDifferentiable).Select(i => i.Op).Where(op => !covered.Contains(op)).ShouldBeEmpty();
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void The_gradient_of_each_op_matches_central_finite_differences(string name)
    {
        var c = Cases().Single(x => x.Name == name);
        var builder = new GraphBuilder();
        var output = c.Build(builder);
        // loss = Σ out · r with a fixed random r, so every output element carries a different weight.
        var weights = builder.Input("r", builder[output].Shape);
        builder.Output("loss", builder.Add(Op.Sum, builder.Add(Op.Multiply, output, weights)));
        var gradients = ReverseMode.Differentiate(builder.Build(), "loss");
        var graph = gradients.Graph;

        var rng = new Random(7);
        var feeds = new Dictionary<string, double[]>();
        foreach (var node in graph.Nodes.Where(n => n.Op is Op.Input or Op.Parameter))
        {
            var count = node.Shape.ElementCount(Symbols);
            feeds[node.Name!] = node.Name == "labels"
                ? Enumerable.Range(0, count).Select(i => (double)((i * 3 + 1) % 5)).ToArray()
                : node.Name == "lengths" ? [4, 0, 2]
                : node.Name == "padded" ? Enumerable.Range(0, count).Select(i => i % 3 == 1 ? -1.0 : (i * 3 + 1) % 5).ToArray()
                // Values away from 0 keep relu's kink out of the finite-difference stencil.
                : Enumerable.Range(0, count).Select(_ => (rng.NextDouble() * 0.9 + 0.1) * (rng.Next(2) == 0 ? -1 : 1)).ToArray();
        }

        var values = ReferenceInterpreter.Run(graph, Symbols, feeds);
        const double h = 1e-6;
        foreach (var p in graph.Parameters)
        {
            var analytic = values[gradients.ParameterGradients[p.Name]];
            var x = feeds[p.Name];
            for (var i = 0; i < x.Length; i++)
            {
                var saved = x[i];
                x[i] = saved + h;
                var up = ReferenceInterpreter.Run(graph, Symbols, feeds)[gradients.Loss][0];
                x[i] = saved - h;
                var down = ReferenceInterpreter.Run(graph, Symbols, feeds)[gradients.Loss][0];
                x[i] = saved;
                var numeric = (up - down) / (2 * h);
                // Central differences in double are good to ~1e-9 here; 1e-6 relative leaves room without hiding a wrong rule.
                Math.Abs(analytic[i] - numeric).ShouldBeLessThan(1e-6 * Math.Max(1, Math.Abs(numeric)), $"{name}: d/d{p.Name}[{i}]");
            }
        }
    }
}
