using System.Numerics;

namespace Dlc.Backend.Kernels.Reference;

/// <summary>
/// Definitions of <see cref="Optimizers"/> in plain loops, generic over T, with the hyperparameters in T
/// too and no float rounding of them: the exact update rules of torch.optim.SGD and Adam/AdamW.
/// </summary>
public static class OptimizersReference
{
    public static void Sgd<T>(Span<T> w, ReadOnlySpan<T> g, Span<T> velocity, T lr, T momentum, T dampening,
        bool nesterov, T weightDecay, bool firstStep) where T : IFloatingPointIeee754<T>
    {
        Shapes.Same(w.Length, g.Length, nameof(g));
        if (momentum != T.Zero) Shapes.Same(w.Length, velocity.Length, nameof(velocity));
        if (nesterov && (momentum <= T.Zero || dampening != T.Zero))
            throw new ArgumentException("Nesterov momentum needs momentum > 0 and dampening 0 (as in torch).", nameof(nesterov));
        for (var i = 0; i < w.Length; i++)
        {
            var d = g[i] + weightDecay * w[i];
            if (momentum != T.Zero)
            {
                velocity[i] = firstStep ? d : momentum * velocity[i] + (T.One - dampening) * d;
                d = nesterov ? d + momentum * velocity[i] : velocity[i];
            }
            w[i] -= lr * d;
        }
    }

    public static void Adam<T>(Span<T> w, ReadOnlySpan<T> g, Span<T> m, Span<T> v, T lr, T beta1, T beta2, T eps,
        T weightDecay, int step, bool decoupled) where T : IFloatingPointIeee754<T>
    {
        Shapes.Same(w.Length, g.Length, nameof(g));
        Shapes.Same(w.Length, m.Length, nameof(m));
        Shapes.Same(w.Length, v.Length, nameof(v));
        ArgumentOutOfRangeException.ThrowIfLessThan(step, 1);
        var bc1 = T.One - T.Pow(beta1, T.CreateChecked(step));
        var bc2 = T.One - T.Pow(beta2, T.CreateChecked(step));
        for (var i = 0; i < w.Length; i++)
        {
            var gi = g[i];
            if (decoupled) w[i] *= T.One - lr * weightDecay;
            else gi += weightDecay * w[i];
            m[i] = beta1 * m[i] + (T.One - beta1) * gi;
            v[i] = beta2 * v[i] + (T.One - beta2) * gi * gi;
            var mHat = m[i] / bc1;
            var vHat = v[i] / bc2;
            w[i] -= lr * mHat / (T.Sqrt(vHat) + eps);
        }
    }
}
