namespace Dlc.Backend.Gemm;

/// <summary>The point-wise function a fused GEMM applies to each element of C as it is stored.</summary>
public enum GemmActivation
{
    None,
    Relu,
    /// <summary>Exact GELU, x·Φ(x) with Φ from erf (not the tanh approximation).</summary>
    Gelu,
    Tanh,
    Sigmoid,
}

/// <summary>
/// What <see cref="IGemm.SgemmFused"/> does to C after the product, so a dense layer makes one pass over
/// memory. Each element v = alpha·(op(A)·op(B))[i, j] + beta·C[i, j] then becomes
/// <list type="bullet">
/// <item>forward: f(v + bias[j]), with f the activation (identity for None) and no bias when Bias is null;</item>
/// <item>derivative: v·f′(s) with s = Saved[i·SavedStride + j], where s is what
/// Activations.*Backward takes: the activation's output y for Relu (y &gt; 0), Sigmoid (y(1 − y)) and Tanh
/// (1 − y²), its input x for Gelu (Φ(x) + x·φ(x)).</item>
/// </list>
/// GELU's derivative needs its input, which a plan would otherwise keep from the forward product to the backward
/// one and put through erf twice. With <see cref="KeepsDerivative"/> the forward epilogue also writes GELU′(v + bias)
/// to Saved, and the backward one multiplies by it: v·Saved[i·SavedStride + j].
/// With a <see cref="Residual"/>, the result (of either kind) then has Residual[i·ResidualStride + j] added: a residual
/// connection's x + dense(h), or two gradients that meet, summed as the product is stored.
/// The pointers must stay valid for the call; Saved and Residual must not overlap C. Copying one is free: it holds no
/// managed state.
/// </summary>
public readonly unsafe struct GemmEpilogue
{
    private GemmEpilogue(float* bias, GemmActivation activation, bool derivative, float* saved, int savedStride, bool keepsDerivative = false,
        float* sumsOfA = null, float* residual = null, int residualStride = 0)
    {
        Residual = residual;
        ResidualStride = residualStride;
        Bias = bias;
        Activation = activation;
        IsDerivative = derivative;
        Saved = saved;
        SavedStride = savedStride;
        KeepsDerivative = keepsDerivative;
        SumsOfA = sumsOfA;
    }

    /// <summary>n floats added to every row of C, or null.</summary>
    public float* Bias { get; }

    public GemmActivation Activation { get; }

    /// <summary>Whether C is multiplied by the activation's derivative instead of passed through it.</summary>
    public bool IsDerivative { get; }

    /// <summary>The forward tensor f′ is evaluated at (m rows of n, row stride SavedStride), or null.</summary>
    public float* Saved { get; }

    public int SavedStride { get; }

    /// <summary>
    /// Forward: Saved receives f′ of each pre-activation (GELU only). Derivative: Saved already holds f′, so C is
    /// multiplied by it.
    /// </summary>
    public bool KeepsDerivative { get; }

    /// <summary>
    /// m floats that receive Σₖ op(A)[i, k], the sums of op(A)'s rows over the depth (not scaled by alpha), or null. A
    /// weight gradient dW = dYᵀ·X sums dY over the batch here, which is the bias gradient: the product reads dY anyway.
    /// </summary>
    public float* SumsOfA { get; }

    /// <summary>A tensor (m rows of n, row stride ResidualStride) added to C after the rest of the epilogue, or null.</summary>
    public float* Residual { get; }

    public int ResidualStride { get; }

    /// <summary>This epilogue, and also the sums of op(A)'s rows into <paramref name="sums"/> (m floats, overwritten).</summary>
    public GemmEpilogue WithSumsOfA(float* sums) => new(Bias, Activation, IsDerivative, Saved, SavedStride, KeepsDerivative, sums, Residual, ResidualStride);

    /// <summary>This epilogue, then <paramref name="residual"/> (row stride <paramref name="stride"/>, at least n) added to C.</summary>
    public GemmEpilogue WithResidual(float* residual, int stride) => new(Bias, Activation, IsDerivative, Saved, SavedStride, KeepsDerivative, SumsOfA, residual, stride);

    /// <summary>Where row <paramref name="row"/>, column <paramref name="col"/> of Saved is, or null without one.</summary>
    internal float* SavedAt(int row, int col) => Saved == null ? null : Saved + (long)row * SavedStride + col;

    /// <summary>Where row <paramref name="row"/>, column <paramref name="col"/> of Residual is, or null without one.</summary>
    internal float* ResidualAt(int row, int col) => Residual == null ? null : Residual + (long)row * ResidualStride + col;

    /// <summary>Plain GEMM: nothing is applied.</summary>
    public static GemmEpilogue None => default;

    /// <summary>True when the epilogue changes nothing (no bias, no activation, no residual).</summary>
    public bool IsIdentity => Bias == null && Activation == GemmActivation.None && Residual == null;

    /// <summary>C = f(alpha·op(A)·op(B) + beta·C + bias); bias may be null.</summary>
    public static GemmEpilogue Forward(float* bias, GemmActivation activation = GemmActivation.None) =>
        new(bias, activation, false, null, 0);

    /// <summary>C = (alpha·op(A)·op(B) + beta·C) ⊙ f′(saved), the gradient through activation f.</summary>
    /// <param name="saved">y for Relu, Sigmoid, Tanh; x for Gelu (as Activations.*Backward take them).</param>
    /// <param name="savedStride">Row stride of saved, at least n.</param>
    public static GemmEpilogue DerivativeOf(GemmActivation activation, float* saved, int savedStride) =>
        new(null, activation, true, saved, savedStride);

    /// <summary>C = f(alpha·op(A)·op(B) + beta·C + bias), and f′ of the same values into <paramref name="derivative"/> (GELU only).</summary>
    /// <param name="derivativeStride">Row stride of derivative, at least n.</param>
    public static GemmEpilogue ForwardKeepingDerivative(float* bias, GemmActivation activation, float* derivative, int derivativeStride) =>
        new(bias, activation, false, derivative, derivativeStride, keepsDerivative: true);

    /// <summary>C = (alpha·op(A)·op(B) + beta·C) ⊙ f′, f′ as <see cref="ForwardKeepingDerivative"/> wrote it.</summary>
    public static GemmEpilogue TimesKeptDerivative(GemmActivation activation, float* derivative, int derivativeStride) =>
        new(null, activation, true, derivative, derivativeStride, keepsDerivative: true);

    /// <summary>Refuses an epilogue that cannot apply to an m×n C; shared by every provider.</summary>
    internal void Validate(int m, int n)
    {
        // A range check, not Enum.IsDefined: that consults a reflection cache the GC may drop, so a training
        // step would now and then allocate to rebuild it.
        if ((uint)Activation > (uint)GemmActivation.Sigmoid)
            throw new ArgumentOutOfRangeException(nameof(Activation), Activation, "Unknown activation.");
        if (Residual != null && m > 0 && n > 0 && ResidualStride < n)
            throw new ArgumentOutOfRangeException(nameof(ResidualStride), ResidualStride, $"The residual's stride must be at least {n}.");
        if (KeepsDerivative && Activation != GemmActivation.Gelu)
            throw new ArgumentException("Only GELU keeps its derivative: the others' derivatives come from their output.", nameof(Activation));
        if (!IsDerivative && !KeepsDerivative) return;
        if (Activation == GemmActivation.None)
            throw new ArgumentException("A derivative epilogue needs an activation.", nameof(Activation));
        if (m == 0 || n == 0) return;
        if (Saved == null) throw new ArgumentNullException(nameof(Saved), "A derivative epilogue needs the saved tensor.");
        if (SavedStride < n) throw new ArgumentOutOfRangeException(nameof(SavedStride), SavedStride, $"The saved tensor's stride must be at least {n}.");
    }
}
