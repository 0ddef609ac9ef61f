using Dlc.Backend.Gemm;
using Dlc.Backend.Kernels;
using Dlc.Compiler.Ir;

namespace Dlc.Backend.Plans;

public sealed partial class ExecutionPlan
{
    // Each recurrent layer's kernel, by its forward node: the gradient op reads the state the forward step kept.
    private readonly Dictionary<int, RecurrentKernel> _recurrent = [];

    // embedding_grad nodes whose table gradient the recurrent layer reading the embedding computes, by node.
    private readonly Dictionary<int, RecurrentKernel> _tableGradients = [];

    /// <summary>The plan's recurrent layers (their kernels say whether each reads its embedding's tokens).</summary>
    internal IEnumerable<RecurrentKernel> RecurrentKernels => _recurrent.Values;

    /// <summary>Embedding and recurrent steps, and their gradients.</summary>
    private unsafe Action? SequenceStep(Node node, IGemm provider)
    {
        var y = _buffers[node.Id];
        BufferRef In(int i) => _buffers[node.Inputs[i]];
        switch (node.Op)
        {
            case Op.Embedding:
            {
                var (indices, table, shape) = (In(0), In(1), _shapes[node.Inputs[1]]);
                return () => Embedding.Forward(indices.Span, table.Span, y.Span, shape[0], shape[1]);
            }
            case Op.EmbeddingGrad:
            {
                var (indices, dy, shape) = (In(0), In(2), _shapes[node.Inputs[1]]);
                if (_tableGradients.TryGetValue(node.Id, out var reader)) return () => reader.TableGradient.CopyTo(y.Span);
                return () => Embedding.Backward(indices.Span, dy.Span, y.Span, shape[0], shape[1]);
            }
            case Op.SequenceLengths:
            {
                var (indices, steps) = (In(0), _shapes[node.Inputs[0]][1]);
                return () => Embedding.SequenceLengths(indices.Span, y.Span, steps);
            }
            case Op.SequenceMean or Op.SequenceMeanGrad:
            {
                // Forward: x [N, T, D] (, lengths) → [N, D]; gradient: dy, x for its shape (, lengths) → [N, T, D].
                var shape = _shapes[node.Op == Op.SequenceMean ? node.Inputs[0] : node.Inputs[1]];
                var (batch, steps, features) = (shape[0], shape[1], shape[2]);
                var x = In(0);
                var lengths = node.Attributes.Packed ? In(node.Inputs.Count - 1) : default;
                var packed = node.Attributes.Packed;
                if (node.Op == Op.SequenceMean)
                    return () => SequencePooling.Mean(x.Span, packed ? lengths.Span : default, y.Span, batch, steps, features);
                return () => SequencePooling.MeanBackward(x.Span, packed ? lengths.Span : default, y.Span, batch, steps, features);
            }
            case Op.Rnn or Op.Lstm or Op.Gru:
            {
                var g = Geometry(node);
                var backward = _graph.Nodes.Any(n => n.Op == Op.RecurrentGrad && n.Inputs[0] == node.Id);
                var perPart = _samples.Threads > 1 ? SingleThreaded : provider;
                var embedding = EmbeddingRead(node);
                var vocabulary = embedding is null ? 0 : _shapes[embedding.Inputs[1]][0];
                var kernel = new RecurrentKernel(g, _samples, perPart, provider, length => Allocate(length).Buffer, backward, vocabulary);
                _recurrent[node.Id] = kernel;
                var (x, weights) = (In(0), Weights(node.Inputs.Skip(1).ToArray(), g));
                var (packed, lengths) = (g.Packed, g.Packed ? In(node.Inputs.Count - 1) : default);
                var (tokens, table) = embedding is null ? default : (_buffers[embedding.Inputs[0]], _buffers[embedding.Inputs[1]]);
                return () => kernel.Forward(x.Pointer, weights, y.Pointer, packed ? lengths.Pointer : null,
                    embedding is null ? default : new EmbeddedInput(tokens.Pointer, table.Pointer));
            }
            case Op.RecurrentGrad:
            {
                // Inputs: the forward node, dy, then the forward node's inputs (x and the weights).
                var kernel = _recurrent[node.Inputs[0]];
                var g = kernel.Geometry;
                var (dy, x) = (In(1), In(2));
                var weights = Weights(node.Inputs.Skip(3).ToArray(), g);
                var (packed, lengths) = (g.Packed, g.Packed ? In(node.Inputs.Count - 1) : default);
                var live = Liveness.Needed(_graph);
                // Each weight's gradient goes where its view node lives (a parameter's gradient slot, mostly).
                var targets = node.Inputs.Skip(3).Take(node.Inputs.Count - 3 - (g.Packed ? 1 : 0)).Select((_, k) =>
                    _graph.Nodes.FirstOrDefault(n => live[n.Id] && n.Op == Op.RecurrentWeightGrad && n.Inputs[0] == node.Id && n.Attributes.Axis == k + 1)
                        is { } view ? _buffers[view.Id] : Allocate(Count(node.Inputs[k + 3]))).ToArray();
                var gradients = Weights(targets, g);
                // dx is computed only when something reads it (not for the model's input), or when it is an output
                // itself (an attribution's gradient with respect to the recurrent layer's input).
                var readers = _graph.Nodes.Where(n => live[n.Id] && n.Op != Op.RecurrentWeightGrad && n.Inputs.Contains(node.Id)).ToArray();
                var wantsDx = readers.Length > 0 || _graph.Outputs.Any(o => o.Node == node.Id);
                // A layer reading an embedding gives the table's gradient itself when that is all dx is read for.
                var embedding = kernel.Vocabulary > 0 ? EmbeddingRead(_graph[node.Inputs[0]]) : null;
                var tableGradient = embedding is not null && wantsDx && readers.Length == 1 && readers[0].Op == Op.EmbeddingGrad
                    && readers[0].Inputs[0] == embedding.Inputs[0] && readers[0].Inputs[1] == embedding.Inputs[1] && readers[0].Inputs[2] == node.Id
                    && _graph.Outputs.All(o => o.Node != node.Id);
                if (tableGradient)
                {
                    _tableGradients[readers[0].Id] = kernel;
                    wantsDx = false;
                }
                var (tokens, table) = embedding is null ? default : (_buffers[embedding.Inputs[0]], _buffers[embedding.Inputs[1]]);
                return () => kernel.Backward(x.Pointer, weights, dy.Pointer, wantsDx ? y.Pointer : null, gradients, packed ? lengths.Pointer : null,
                    embedding is null ? default : new EmbeddedInput(tokens.Pointer, table.Pointer), tableGradient);
            }
            case Op.RecurrentWeightGrad:
                // Written by its recurrent_grad step.
                return null;
            default:
                throw new NotSupportedException($"`{OpTable.Info(node.Op).Name}` is not a sequence op");
        }
    }

    /// <summary>
    /// The embedding a recurrent layer reads, when its input side is cheaper from the embedding's table: x is an
    /// embedding's result, and its vocabulary is at most a quarter of the rows N·T the layer multiplies. The tokens
    /// must be an input of the plan and the table a parameter, so both still hold their values in the backward pass.
    /// </summary>
    private Node? EmbeddingRead(Node node)
    {
        var x = _graph[node.Inputs[0]];
        if (x.Op != Op.Embedding || _graph[x.Inputs[0]].Op != Op.Input || _graph[x.Inputs[1]].Op != Op.Parameter) return null;
        var (rows, vocabulary) = ((long)_shapes[node.Inputs[0]][0] * _shapes[node.Inputs[0]][1], _shapes[x.Inputs[1]][0]);
        return 4L * vocabulary <= rows ? x : null;
    }

    private RecurrentGeometry Geometry(Node node)
    {
        var x = _shapes[node.Inputs[0]];
        var directions = node.Attributes.Bidirectional ? 2 : 1;
        var hidden = _shapes[node.Inputs[2]][1];
        var cell = node.Op switch
        {
            Op.Lstm => RecurrentCell.Lstm,
            Op.Gru => RecurrentCell.Gru,
            _ => node.Attributes.Mode == "relu" ? RecurrentCell.Relu : RecurrentCell.Tanh,
        };
        var bias = (node.Inputs.Count - 1 - (node.Attributes.Packed ? 1 : 0)) / directions == 4;
        return new RecurrentGeometry(cell, x[0], x[1], x[2], hidden, directions, node.Attributes.ReturnSequences, bias, node.Attributes.Packed);
    }

    private RecurrentWeights[] Weights(int[] nodes, RecurrentGeometry g) => Weights(nodes.Select(n => _buffers[n]).ToArray(), g);

    private static unsafe RecurrentWeights[] Weights(BufferRef[] buffers, RecurrentGeometry g)
    {
        var per = g.WeightsPerDirection;
        return Enumerable.Range(0, g.Directions).Select(d => new RecurrentWeights(
            buffers[d * per].Pointer, buffers[d * per + 1].Pointer,
            g.Bias ? buffers[d * per + 2].Pointer : null, g.Bias ? buffers[d * per + 3].Pointer : null)).ToArray();
    }
}
