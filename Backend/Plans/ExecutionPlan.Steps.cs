using Dlc.Backend.Gemm;
using Dlc.Compiler.Autodiff;
using Dlc.Compiler.Ir;
using Dlc.Compiler.Passes;

namespace Dlc.Backend.Plans;

public sealed partial class ExecutionPlan
{
    /// <summary>
    /// The fusions the plan makes, decided before any step is built: a matrix product runs the bias add,
    /// activation or activation derivative that follows it inside the GEMM (see <see cref="GemmFusion"/>), a
    /// convolution or batch norm its ReLU, and softmax cross-entropy comes with its gradient. A fused value
    /// shares its producer's buffer.
    /// </summary>
    private void DecideFusions(bool[] live, PlanOptions options)
    {
        var groups = options.Passes.Has(PassSet.GemmEpilogue)
            ? GemmFusion.Find(_graph, live, id => _buffers[id].Buffer == _parameters.Gradients)
            : new Dictionary<int, GemmFusion>();
        _gemmGroups = groups;
        var absorbed = _absorbedBy;
        foreach (var group in groups.Values)
        {
            foreach (var id in group.Absorbed(_graph)) absorbed[id] = group.MatMul;
            // The whole group writes one buffer: the product's result is the group's output.
            _buffers[group.MatMul] = _buffers[group.Output];
        }

        var reluFusions = options.Passes.Has(PassSet.ReluFusion) ? ReluFusion.Find(_graph, live, id => _buffers[id].Buffer == _parameters.Gradients) : [];
        foreach (var fusion in reluFusions)
        {
            absorbed[fusion.Relu] = fusion.Producer;
            _buffers[fusion.Producer] = _buffers[fusion.Relu];
            _reluFused.Add(fusion.Producer);
        }

        // Softmax cross-entropy (or the mean squared error) and its gradient come from one pass over the logits (the
        // predictions), at the gradient's place.
        foreach (var g in _graph.Nodes.Where(n => live[n.Id] && n.Op is Op.SoftmaxCrossEntropyGrad or Op.MseGrad && options.Passes.Has(PassSet.LossFusion)))
        {
            var lossOp = g.Op == Op.MseGrad ? Op.Mse : Op.SoftmaxCrossEntropy;
            var loss = _graph.Nodes.FirstOrDefault(n => live[n.Id] && n.Op == lossOp
                && n.Inputs[0] == g.Inputs[0] && n.Inputs[1] == g.Inputs[1] && n.Attributes.Value == g.Attributes.Value && g.Inputs[2] > n.Id);
            if (loss is null || _graph.Nodes.Any(n => n.Id > loss.Id && n.Id < g.Id && n.Inputs.Contains(loss.Id))) continue;
            _lossOfGradient[g.Id] = loss.Id;
            absorbed[loss.Id] = g.Id;
        }

        // Layer norm's two gradients of the same x and dy come from one pass over the rows, at the input gradient's place.
        foreach (var g in _graph.Nodes.Where(n => live[n.Id] && n.Op == Op.LayerNormInputGrad && options.Passes.Has(PassSet.NormFusion)))
        {
            var weight = _graph.Nodes.FirstOrDefault(n => live[n.Id] && n.Op == Op.LayerNormWeightGrad && !absorbed.ContainsKey(n.Id)
                && n.Inputs[0] == g.Inputs[0] && n.Inputs[1] == g.Inputs[2] && n.Attributes.Value == g.Attributes.Value);
            if (weight is null || _graph.Nodes.Any(n => n.Inputs.Contains(weight.Id) && n.Id < g.Id)) continue;
            _normWeightOf[g.Id] = weight.Id;
            absorbed[weight.Id] = g.Id;
            // The bias's gradient, Σ dy over the rows, comes from the same pass.
            var bias = _graph.Nodes.FirstOrDefault(n => live[n.Id] && n.Op == Op.BiasGrad && !absorbed.ContainsKey(n.Id) && n.Inputs[0] == g.Inputs[2]
                && _shapes[n.Id].SequenceEqual(_shapes[weight.Id]));
            if (bias is null || _graph.Nodes.Any(n => live[n.Id] && n.Inputs.Contains(bias.Id) && n.Id < g.Id)) continue;
            _normBiasOf[g.Id] = bias.Id;
            absorbed[bias.Id] = g.Id;
        }

        // Batch norm's input, weight and bias gradients of the same x and dy come from one pass of sums over each channel, at
        // the input gradient's place (BatchNormGradients).
        foreach (var g in _graph.Nodes.Where(n => live[n.Id] && n.Op == Op.BatchNormInputGrad && options.Passes.Has(PassSet.NormFusion)))
        {
            var (x, dy) = (g.Inputs[0], g.Inputs[3]);
            var weight = _graph.Nodes.FirstOrDefault(n => live[n.Id] && n.Op == Op.BatchNormWeightGrad && !absorbed.ContainsKey(n.Id)
                && n.Inputs[0] == x && n.Inputs[2] == g.Inputs[2] && n.Inputs[3] == dy
                && n.Attributes.Value == g.Attributes.Value && n.Attributes.Training == g.Attributes.Training);
            if (weight is null || _graph.Nodes.Any(n => n.Inputs.Contains(weight.Id) && n.Id < g.Id)) continue;
            _normWeightOf[g.Id] = weight.Id;
            absorbed[weight.Id] = g.Id;
            // The shift's gradient, Σ dy over the batch and positions, comes from the same sums.
            var bias = _graph.Nodes.FirstOrDefault(n => live[n.Id] && n.Op == Op.Conv2dBiasGrad && !absorbed.ContainsKey(n.Id) && n.Inputs[0] == dy
                && _shapes[n.Id].SequenceEqual(_shapes[weight.Id]));
            if (bias is null || _graph.Nodes.Any(n => live[n.Id] && n.Inputs.Contains(bias.Id) && n.Id < g.Id)) continue;
            _normBiasOf[g.Id] = bias.Id;
            absorbed[bias.Id] = g.Id;
        }

        // A convolution's input and weight gradients of the same dy and x come from one pass over the samples, at the input
        // gradient's place, where Winograd's algorithm computes them: each group of samples' dy is transformed once for both.
        foreach (var g in _graph.Nodes.Where(n => live[n.Id] && n.Op == Op.Conv2dInputGrad && options.Passes.Has(PassSet.ConvGradFusion)))
        {
            if (ConvWeightGradientOf(g, live) is not { } weight || absorbed.ContainsKey(weight.Id)) continue;
            if (!Kernels.Conv2dKernel.SharesGradientWork(ConvGradientGeometry(g), _winograd)) continue;
            var weightId = weight.Id;
            if (_graph.Nodes.Any(n => live[n.Id] && n.Inputs.Contains(weightId) && n.Id < g.Id)) continue;
            _convWeightGradOf[g.Id] = weightId;
            absorbed[weightId] = g.Id;
        }

        // A dense layer's bias gradient sums the dY that its weight gradient dYᵀ·X reads as A: the product sums it as it packs.
        foreach (var g in _graph.Nodes.Where(n => live[n.Id] && n.Op == Op.BiasGrad && !absorbed.ContainsKey(n.Id) && options.Passes.Has(PassSet.GemmEpilogue)))
        {
            var product = WeightGradientReading(g, live);
            if (product is null || _graph.Nodes.Any(n => live[n.Id] && n.Id < product.Id && n.Inputs.Contains(g.Id))) continue;
            _biasGradientOf[product.Id] = g.Id;
            absorbed[g.Id] = product.Id;
        }

        // Two dense layers of a batch-1 run, one hand-off (see ChainProducts); before the elementwise chains, so an op
        // between two products that a chain would take later still keeps them apart.
        ChainProducts(live, options);

        if (!options.Passes.Has(PassSet.ElementwiseFusion)) return;
        foreach (var chain in ElementwiseFusion.Find(_graph, live, id => _buffers[id].Buffer == _parameters.Gradients, absorbed))
        {
            foreach (var member in chain.Members) absorbed[member] = chain.Root;
            _chains[chain.Root] = chain;
        }
    }

    /// <summary>
    /// The product op(A)·B with A = the bias gradient's dY read transposed (a weight gradient dYᵀ·X), if one is live and
    /// computes no other bias gradient yet (two layers fed the same dY have one each).
    /// </summary>
    private Node? WeightGradientReading(Node biasGradient, bool[] live) =>
        _graph.Nodes.FirstOrDefault(n => live[n.Id] && n.Op == Op.MatMul && n.Attributes.TransA && n.Inputs[0] == biasGradient.Inputs[0]
            && _shapes[biasGradient.Id].Aggregate(1, (a, d) => a * d) == Matrix(n.Inputs[0]).Cols
            && _biasGradientOf.GetValueOrDefault(n.Id, biasGradient.Id) == biasGradient.Id);

    /// <summary>One bound kernel call per node that is not absorbed into another's step (see <see cref="DecideFusions"/>).</summary>
    private IEnumerable<(string Label, Action Run)> BuildSteps(bool[] live, PlanOptions options)
    {
        var (groups, absorbed, lossOfGradient) = (_gemmGroups, _absorbedBy, _lossOfGradient);
        foreach (var node in _graph.Nodes)
        {
            // A product chained after another runs in that one's step.
            if (!live[node.Id] || absorbed.ContainsKey(node.Id) || _chainedFirst.ContainsKey(node.Id)) continue;
            var group = groups.GetValueOrDefault(node.Id);
            var owned = _owned.Count;
            var chained = _chainedSecond.TryGetValue(node.Id, out var second) ? _graph[second] : null;
            var step = _chains.TryGetValue(node.Id, out var chain) ? ElementwiseChain(chain)
                : chained is not null ? ChainStep(node, chained, (ManagedGemm)ChainProvider(node, options))
                : node.Op == Op.MatMul ? MatMul(node, options.Gemm, group)
                : lossOfGradient.TryGetValue(node.Id, out var lossNode) ? LossWithGradient(node, lossNode)
                : Step(node, options);
            // Buffers a kernel allocates for itself (a convolution's unrolled columns) serve only its own step.
            for (var i = owned; i < _owned.Count; i++) _scratchOf[_owned[i]] = node.Id;
            if (step is not null)
            {
                _stepNodes.Add(node.Id);
                var label = Label(node, group);
                yield return (chained is null ? label : $"{label}, then {Label(chained, groups.GetValueOrDefault(chained.Id))}", step);
            }
        }

        // A gradient that ended up outside the gradient arena (a reshape of one, say) is copied in.
        foreach (var output in _graph.Outputs.Where(o => o.Name.StartsWith(ReverseMode.GradientPrefix, StringComparison.Ordinal)))
        {
            var source = _buffers[output.Node];
            var target = Slot(_parameters.Gradients, output.Name[ReverseMode.GradientPrefix.Length..]);
            if (source.Buffer == target.Buffer && source.Offset == target.Offset) continue;
            _stepNodes.Add(output.Node);
            yield return ($"copy {output.Name}", () => source.Span.CopyTo(target.Span));
        }
    }

    /// <summary>How a step shows in a profile: the op, its flags and its bound shape.</summary>
    private string Label(Node node, GemmFusion? group)
    {
        var name = OpTable.Info(node.Op).Name;
        if (_chains.TryGetValue(node.Id, out var chain)) name = string.Join("+", chain.Members.Select(m => OpTable.Info(_graph[m].Op).Name)) + "+" + name;
        if (_reluFused.Contains(node.Id)) name += node.Op == Op.MaxPoolGrad ? "+drelu" : "+relu";
        if (_normWeightOf.ContainsKey(node.Id) || _convWeightGradOf.ContainsKey(node.Id)) name += "+weight_grad";
        if (_normBiasOf.ContainsKey(node.Id)) name += "+bias_grad";
        if (_biasGradientOf.ContainsKey(node.Id)) name += "+bias_grad";
        if (group is not null)
        {
            if (group.Bias >= 0) name += "+bias";
            var activation = group.Activation.ToString().ToLowerInvariant();
            if (group.KeepsDerivative) name += group.Derivative ? $"+×{activation}′" : $"+{activation}&{activation}′";
            else if (group.Activation != GemmActivation.None) name += (group.Derivative ? "+d" : "+") + activation;
            if (group.Residual >= 0) name += "+residual";
        }
        if (node.Attributes.TransA) name += " transA";
        if (node.Attributes.TransB) name += " transB";
        var inputs = string.Join(" ", node.Inputs.Select(i => $"[{string.Join("x", _shapes[i])}]"));
        return $"%{node.Id} {name} {inputs} -> [{string.Join("x", _shapes[node.Id])}]";
    }

    private Action LossWithGradient(Node gradient, int loss)
    {
        if (gradient.Op == Op.MseGrad) return MseWithGradient(gradient, loss);
        var (logits, labels, dl) = (_buffers[gradient.Inputs[0]], _buffers[gradient.Inputs[1]], _buffers[gradient.Inputs[2]]);
        var (y, dlogits) = (_buffers[loss], _buffers[gradient.Id]);
        var (rows, cols) = Matrix(gradient.Inputs[0]);
        var smoothing = (float)gradient.Attributes.Value;
        if (!SplitElementwise(rows * cols) || rows < 2)
            return () => y.Span[0] = Kernels.Losses.SoftmaxCrossEntropyWithGradient(logits.Span, labels.Span, dl.Span[0], dlogits.Span, rows, cols, smoothing);
        // A language model's logits (every position of every sample) are worth both threads: rows split, sums added.
        var parallel = _samples;
        var sums = new double[parallel.Threads];
        var scale = 0f;
        Kernels.SampleParallel.RangeBody body = (part, r0, r1) =>
            sums[part] = Kernels.Losses.SoftmaxCrossEntropyRows(logits.Span, labels.Span, scale, dlogits.Span, r0, r1, cols, smoothing);
        return () =>
        {
            var labelled = Math.Max(1, Kernels.Shapes.Labelled(labels.Span));
            scale = dl.Span[0] / labelled;
            Array.Clear(sums);
            parallel.For(rows, body);
            var total = 0.0;
            foreach (var sum in sums) total += sum;
            y.Span[0] = (float)(total / labelled);
        };
    }

    /// <summary>
    /// The mean squared error and its gradient in one pass over the predictions, split over the threads in whole
    /// chunks of <see cref="Kernels.Losses.MseChunk"/>: each chunk's sum is kept and they are added in order, so the
    /// loss has the bits of the unfused kernel's whatever the split.
    /// </summary>
    private Action MseWithGradient(Node gradient, int loss)
    {
        var (pred, target, dl) = (_buffers[gradient.Inputs[0]], _buffers[gradient.Inputs[1]], _buffers[gradient.Inputs[2]]);
        var (y, dpred) = (_buffers[loss], _buffers[gradient.Id]);
        var count = pred.Length;
        var chunks = new double[(count + Kernels.Losses.MseChunk - 1) / Kernels.Losses.MseChunk];
        var scale = 0f;
        Kernels.SampleParallel.RangeBody body = (_, c0, c1) => Kernels.Losses.MseWithGradient(pred.Span, target.Span, scale, dpred.Span, chunks, c0, c1);
        var parallel = SplitElementwise(count) && chunks.Length > 1 ? _samples : null;
        return () =>
        {
            scale = (float)(2.0 / count) * dl.Span[0];
            if (parallel is null) body(0, 0, chunks.Length);
            else parallel.For(chunks.Length, body);
            var total = 0.0;
            foreach (var sum in chunks) total += sum;
            y.Span[0] = (float)(total / count);
        };
    }

    private unsafe Action MatMul(Node node, IGemm provider, GemmFusion? group)
    {
        var (a, b, c) = (_buffers[node.Inputs[0]], _buffers[node.Inputs[1]], _buffers[node.Id]);
        // Leading axes fold into rows: a dense layer over [N, T, D] is one product of [N·T, D].
        var sa = Matrix(node.Inputs[0]);
        var sb = Matrix(node.Inputs[1]);
        bool ta = node.Attributes.TransA, tb = node.Attributes.TransB;
        int m = ta ? sa.Cols : sa.Rows, k = ta ? sa.Rows : sa.Cols, n = tb ? sb.Rows : sb.Cols;
        int lda = sa.Cols, ldb = sb.Cols;
        // The provider is chosen once per call site, for this exact shape (the "auto" provider measures).
        var gemm = provider.Choose(ta, tb, m, n, k);
        // A weight gradient's product may also sum dY over the batch for its bias gradient.
        var hasSums = _biasGradientOf.TryGetValue(node.Id, out var biasGradient);
        var sums = hasSums ? _buffers[biasGradient] : default;
        var weights = Weights(gemm, ta, tb, m, n, k, b, ldb);
        if (group is null && !hasSums && weights is null)
            return () => gemm.Sgemm(ta, tb, m, n, k, 1f, a.Pointer, lda, b.Pointer, ldb, 0f, c.Pointer, n);
        return () =>
        {
            var epilogue = Epilogue(group, n);
            gemm.SgemmFused(ta, tb, m, n, k, 1f, a.Pointer, lda, b.Pointer, ldb, 0f, c.Pointer, n,
                hasSums ? epilogue.WithSumsOfA(sums.Pointer) : epilogue, weights?.Packed);
        };
    }

    /// <summary>
    /// A group's point-wise work as the GEMM's epilogue (none without a group): bias and activation, or the activation's
    /// derivative, GELU′ kept or multiplied by, and a residual added last; C's rows are n wide.
    /// </summary>
    private unsafe GemmEpilogue Epilogue(GemmFusion? group, int n)
    {
        if (group is null) return GemmEpilogue.None;
        var bias = group.Bias >= 0 ? _buffers[group.Bias].Pointer : null;
        var saved = group.Saved >= 0 ? _buffers[group.Saved].Pointer : null;
        var epilogue = (group.Derivative, group.KeepsDerivative) switch
        {
            (true, false) => GemmEpilogue.DerivativeOf(group.Activation, saved, n),
            (true, true) => GemmEpilogue.TimesKeptDerivative(group.Activation, saved, n),
            (false, false) => GemmEpilogue.Forward(bias, group.Activation),
            (false, true) => GemmEpilogue.ForwardKeepingDerivative(bias, group.Activation, saved, n),
        };
        return group.Residual >= 0 ? epilogue.WithResidual(_buffers[group.Residual].Pointer, n) : epilogue;
    }
}
