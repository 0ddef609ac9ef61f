using Dlc.Backend.Kernels;
using Dlc.Compiler.Autodiff;
using Dlc.Compiler.Ir;

namespace Dlc.Backend.Plans;

public sealed partial class ExecutionPlan
{
    /// <summary>One bound kernel call per node; a bias add that follows its matmul runs inside the GEMM (beta = 1).</summary>
    private IEnumerable<(string Label, Action Run)> BuildSteps(bool[] live, PlanOptions options)
    {
        var uses = _graph.UseCounts();
        var fusedBias = new Dictionary<int, int>(); // matmul node → its bias-add node
        foreach (var node in _graph.Nodes)
        {
            if (live[node.Id] && node.Op == Op.BiasAdd && _graph[node.Inputs[0]].Op == Op.MatMul && uses[node.Inputs[0]] == 1
                && _buffers[node.Id].Buffer != _parameters.Gradients)
            {
                fusedBias[node.Inputs[0]] = node.Id;
                _buffers[node.Inputs[0]] = _buffers[node.Id];
            }
        }

        foreach (var node in _graph.Nodes)
        {
            if (!live[node.Id]) continue;
            var step = node.Op switch
            {
                Op.MatMul => MatMul(node, options.Gemm, fusedBias.TryGetValue(node.Id, out var biasAdd) ? _graph[biasAdd].Inputs[1] : -1),
                Op.BiasAdd when fusedBias.ContainsValue(node.Id) => null,
                _ => Step(node, options),
            };
            if (step is not null) yield return (Label(node, fusedBias.ContainsKey(node.Id)), step);
        }

        // A gradient that ended up outside the gradient arena (a reshape of one, say) is copied in.
        foreach (var output in _graph.Outputs.Where(o => o.Name.StartsWith(ReverseMode.GradientPrefix, StringComparison.Ordinal)))
        {
            var source = _buffers[output.Node];
            var target = Slot(_parameters.Gradients, output.Name[ReverseMode.GradientPrefix.Length..]);
            if (source.Buffer != target.Buffer || source.Offset != target.Offset) yield return ($"copy {output.Name}", () => source.Span.CopyTo(target.Span));
        }
    }

    /// <summary>How a step shows in a profile: the op, its flags and its bound shape.</summary>
    private string Label(Node node, bool withBias)
    {
        var name = OpTable.Info(node.Op).Name + (withBias ? "+bias" : "");
        if (node.Attributes.TransA) name += " transA";
        if (node.Attributes.TransB) name += " transB";
        var inputs = string.Join(" ", node.Inputs.Select(i => $"[{string.Join("x", _shapes[i])}]"));
        return $"%{node.Id} {name} {inputs} -> [{string.Join("x", _shapes[node.Id])}]";
    }

    private unsafe Action MatMul(Node node, Gemm.IGemm gemm, int bias)
    {
        var (a, b, c) = (_buffers[node.Inputs[0]], _buffers[node.Inputs[1]], _buffers[node.Id]);
        var sa = _shapes[node.Inputs[0]];
        var sb = _shapes[node.Inputs[1]];
        bool ta = node.Attributes.TransA, tb = node.Attributes.TransB;
        int m = ta ? sa[1] : sa[0], k = ta ? sa[0] : sa[1], n = tb ? sb[0] : sb[1];
        int lda = sa[1], ldb = sb[1];
        if (bias < 0) return () => gemm.Sgemm(ta, tb, m, n, k, 1f, a.Pointer, lda, b.Pointer, ldb, 0f, c.Pointer, n);
        var biasBuffer = _buffers[bias];
        return () =>
        {
            var bv = biasBuffer.Span;
            var cv = c.Span;
            for (var row = 0; row < m; row++) bv.CopyTo(cv.Slice(row * n, n));
            gemm.Sgemm(ta, tb, m, n, k, 1f, a.Pointer, lda, b.Pointer, ldb, 1f, c.Pointer, n);
        };
    }
}
