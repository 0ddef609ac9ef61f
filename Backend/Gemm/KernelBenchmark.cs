using System.Diagnostics;
using Dlc.Backend.Kernels;

namespace Dlc.Backend.Gemm;

/// <summary>One benchmark result: GFLOP/s counted as 2·m·n·k per product, whatever else the kernel does.</summary>
public sealed record KernelBenchmarkRow(string Provider, string Kernel, bool TransA, bool TransB, int M, int N, int K,
    double MedianGflops, double BestGflops);

/// <summary>
/// Measures GEMM providers at the shapes a training step runs, and what fusing the bias and activation into
/// the product saves. Prints nothing: the caller formats the rows. Each case gets a warm-up, then samples of
/// repeated calls until its time is used up; a row gives the median and the best sample.
/// </summary>
public static unsafe class KernelBenchmark
{
    public const string Gemm = "gemm";
    public const string FusedBiasRelu = "gemm+bias+relu fused";
    public const string UnfusedBiasRelu = "gemm, bias add, relu";
    public const string FusedReluGradient = "gemm⊙relu' fused";
    public const string UnfusedReluGradient = "gemm, relu backward";

    // The 784→256→256→10 MLP at batch 128, weights stored [out, in]: forward Y = X·Wᵀ (transB), weight
    // gradients dW = dYᵀ·X (transA), input gradients dX = dY·W; then two square sizes for reference.
    public static IReadOnlyList<GemmShape> DefaultShapes { get; } =
    [
        new(false, true, 128, 256, 784), new(false, true, 128, 256, 256), new(false, true, 128, 10, 256),
        new(true, false, 256, 784, 128), new(true, false, 256, 256, 128), new(true, false, 10, 256, 128),
        new(false, false, 128, 256, 10), new(false, false, 128, 256, 256),
        new(false, false, 256, 256, 256), new(false, false, 1024, 1024, 1024),
    ];

    /// <summary>Forward products whose bias and ReLU are fused, and the input gradient through a ReLU.</summary>
    public static IReadOnlyList<GemmShape> ForwardFusionShapes { get; } = [new(false, true, 128, 256, 784), new(false, true, 128, 256, 256)];

    public static IReadOnlyList<GemmShape> BackwardFusionShapes { get; } = [new(false, false, 128, 256, 256)];

    /// <summary>
    /// GEMM rows for every provider at every shape (default <see cref="DefaultShapes"/>), then, with fusion,
    /// fused against separate kernels for bias + ReLU (<see cref="ForwardFusionShapes"/>) and for the ReLU
    /// derivative (<see cref="BackwardFusionShapes"/>).
    /// </summary>
    public static IReadOnlyList<KernelBenchmarkRow> Run(IReadOnlyList<(string Name, IGemm Provider)> providers,
        IReadOnlyList<GemmShape>? shapes = null, double secondsPerCase = 0.25, bool fusion = true)
    {
        ArgumentNullException.ThrowIfNull(providers);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(secondsPerCase);
        var rows = new List<KernelBenchmarkRow>();
        foreach (var shape in shapes ?? DefaultShapes)
        {
            using var data = new Operands(shape);
            foreach (var (name, gemm) in providers)
                rows.Add(Measure(name, Gemm, shape, secondsPerCase, () => data.Plain(gemm)));
        }
        if (!fusion) return rows;
        foreach (var shape in ForwardFusionShapes)
        {
            using var data = new Operands(shape);
            foreach (var (name, gemm) in providers)
            {
                rows.Add(Measure(name, FusedBiasRelu, shape, secondsPerCase, () => data.Fused(gemm, data.BiasRelu)));
                rows.Add(Measure(name, UnfusedBiasRelu, shape, secondsPerCase, () =>
                {
                    data.Plain(gemm);
                    Linear.BiasAdd(data.C.Span, data.Bias.Span, data.C.Span, shape.M, shape.N);
                    Activations.Relu(data.C.Span, data.C.Span);
                }));
            }
        }
        foreach (var shape in BackwardFusionShapes)
        {
            using var data = new Operands(shape);
            foreach (var (name, gemm) in providers)
            {
                rows.Add(Measure(name, FusedReluGradient, shape, secondsPerCase, () => data.Fused(gemm, data.ReluGradient)));
                rows.Add(Measure(name, UnfusedReluGradient, shape, secondsPerCase, () =>
                {
                    data.Plain(gemm);
                    Activations.ReluBackward(data.Saved.Span, data.C.Span, data.C.Span);
                }));
            }
        }
        return rows;
    }

    private static KernelBenchmarkRow Measure(string provider, string kernel, GemmShape shape, double seconds, Action body)
    {
        body();
        body();
        // Calls per sample so a sample lasts about a tenth of the case; at least three samples.
        var start = Stopwatch.GetTimestamp();
        body();
        var once = Math.Max(Stopwatch.GetElapsedTime(start).TotalSeconds, 1e-9);
        var repeats = (int)Math.Clamp(seconds / 10 / once, 1, 1_000_000);
        var rates = new List<double>();
        var caseStart = Stopwatch.GetTimestamp();
        while (rates.Count < 3 || Stopwatch.GetElapsedTime(caseStart).TotalSeconds < seconds)
        {
            start = Stopwatch.GetTimestamp();
            for (var i = 0; i < repeats; i++) body();
            var elapsed = Math.Max(Stopwatch.GetElapsedTime(start).TotalSeconds, 1e-12);
            rates.Add(shape.Flops * repeats / elapsed / 1e9);
        }
        rates.Sort();
        return new KernelBenchmarkRow(provider, kernel, shape.TransA, shape.TransB, shape.M, shape.N, shape.K,
            rates[rates.Count / 2], rates[^1]);
    }

    /// <summary>Dense A, B, C of one shape, a bias row and a ReLU output to differentiate through.</summary>
    private sealed class Operands : IDisposable
    {
        private readonly GemmShape _shape;

        public Operands(GemmShape shape)
        {
            _shape = shape;
            var (sa, sb, sc) = shape.Sizes;
            A = Filled(sa, 1);
            B = Filled(sb, 2);
            C = new NativeBuffer(checked((int)Math.Max(1, sc)));
            Bias = Filled(shape.N, 3);
            Saved = Filled(sc, 4);
            Activations.Relu(Saved.Span, Saved.Span);
            BiasRelu = GemmEpilogue.Forward(Bias.Pointer, GemmActivation.Relu);
            ReluGradient = GemmEpilogue.DerivativeOf(GemmActivation.Relu, Saved.Pointer, Math.Max(1, shape.N));
        }

        public NativeBuffer A { get; }
        public NativeBuffer B { get; }
        public NativeBuffer C { get; }
        public NativeBuffer Bias { get; }
        public NativeBuffer Saved { get; }
        public GemmEpilogue BiasRelu { get; }
        public GemmEpilogue ReluGradient { get; }

        public void Plain(IGemm gemm)
        {
            var (lda, ldb, ldc) = _shape.Strides;
            gemm.Sgemm(_shape.TransA, _shape.TransB, _shape.M, _shape.N, _shape.K, 1f, A.Pointer, lda, B.Pointer, ldb, 0f, C.Pointer, ldc);
        }

        public void Fused(IGemm gemm, in GemmEpilogue epilogue)
        {
            var (lda, ldb, ldc) = _shape.Strides;
            gemm.SgemmFused(_shape.TransA, _shape.TransB, _shape.M, _shape.N, _shape.K, 1f, A.Pointer, lda, B.Pointer, ldb, 0f,
                C.Pointer, ldc, epilogue);
        }

        public void Dispose()
        {
            A.Dispose();
            B.Dispose();
            C.Dispose();
            Bias.Dispose();
            Saved.Dispose();
        }

        private static NativeBuffer Filled(long length, ulong seed)
        {
            var buffer = new NativeBuffer(checked((int)Math.Max(1, length)));
            new Rng(seed).FillUniform(buffer.Span, -1f, 1f);
            return buffer;
        }
    }
}
