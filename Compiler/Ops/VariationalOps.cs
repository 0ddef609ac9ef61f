using Dlc.Compiler.Ir;

namespace Dlc.Compiler.Ops;

/// <summary>
/// What a variational autoencoder needs: the reparameterised sample z = μ + e^(logσ²/2)·ε, and the two
/// terms of its loss, binary cross-entropy (as torch.nn.functional.binary_cross_entropy) and the KL
/// divergence of N(μ, σ²) from N(0, 1).
/// </summary>
internal static class VariationalOps
{
    public static IEnumerable<OpInfo> All =>
    [
        new(Op.SampleNormal, "sample_normal", 2, OpTable.SameShapes, "z = mu + exp(logVar / 2) · ε with ε ~ N(0, 1) (mu, logVar)")
        {
            IsRandom = true,
            Cost = (node, s, batch) => Count.Elements(node.Shape, batch) * 4,
        },
        new(Op.BinaryCrossEntropy, "binary_cross_entropy", 2, PairToScalar,
            "loss = mean or sum of −(t · log p + (1 − t) · log(1 − p)) (p, t)")
        {
            NonDifferentiableInputs = [1],
            Cost = (node, s, batch) => Count.Elements(s[0], batch) * 6,
        },
        new(Op.KlNormal, "kl_normal", 2, PairToScalar, "loss = mean or sum of −½ · (1 + logVar − mu² − e^logVar) (mu, logVar)")
        {
            Cost = (node, s, batch) => Count.Elements(s[0], batch) * 6,
        },
    ];

    private static Shape PairToScalar(Shape[] s, OpAttributes a, Shape? declared) =>
        s[0] == s[1] ? Shape.Scalar : throw new ShapeException($"the two operands differ: {s[0]} and {s[1]}");
}
