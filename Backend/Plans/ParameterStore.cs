using Dlc.Compiler.Ir;

namespace Dlc.Backend.Plans;

/// <summary>
/// Every parameter in one contiguous buffer, and every gradient in another laid out the same way, so an
/// optimiser step is one pass over memory and plans for different batch sizes share weights. Trainable
/// parameters come first: the optimiser updates <see cref="TrainableLength"/> floats and never touches the
/// state that follows (batch norm's running statistics).
/// </summary>
public sealed class ParameterStore : IDisposable
{
    private readonly Dictionary<string, (int Offset, int Length)> _slots = new(StringComparer.Ordinal);

    public ParameterStore(IReadOnlyList<ParameterInfo> parameters)
    {
        Parameters = parameters;
        var offset = 0;
        foreach (var p in parameters.Where(p => p.Trainable).Concat(parameters.Where(p => !p.Trainable)))
        {
            if (!p.Trainable && TrainableLength == 0) TrainableLength = offset;
            var length = p.Shape.ElementCount(NoSymbols);
            _slots.Add(p.Name, (offset, length));
            // Start each tensor on a 64-byte boundary so vector loads of any one of them are aligned.
            offset += (length + 15) & ~15;
        }
        if (parameters.All(p => p.Trainable)) TrainableLength = offset;
        Values = new NativeBuffer(Math.Max(offset, 16));
        Gradients = new NativeBuffer(Math.Max(offset, 16));
    }

    private static readonly IReadOnlyDictionary<string, int> NoSymbols = new Dictionary<string, int>();

    public IReadOnlyList<ParameterInfo> Parameters { get; }
    public NativeBuffer Values { get; }
    public NativeBuffer Gradients { get; }

    /// <summary>Floats at the start of both buffers that hold trainable parameters (with alignment padding).</summary>
    public int TrainableLength { get; }

    /// <summary>Total number of parameter elements (without alignment padding).</summary>
    public long Count => _slots.Values.Sum(s => (long)s.Length);

    public bool Contains(string name) => _slots.ContainsKey(name);

    public (int Offset, int Length) Slot(string name) =>
        _slots.TryGetValue(name, out var slot) ? slot : throw new KeyNotFoundException($"no parameter `{name}`");

    public Span<float> Value(string name)
    {
        var (offset, length) = Slot(name);
        return Values.Span.Slice(offset, length);
    }

    /// <summary>
    /// Zeros and ones laid out as <see cref="Values"/>: a weight whose entry is 0 is pruned and stays 0.
    /// Null when nothing is pruned. The optimiser multiplies the trainable range by it after every update.
    /// </summary>
    public NativeBuffer? Mask { get; private set; }

    /// <summary>Set (or with null, clear) the pruning mask and zero the pruned weights at once.</summary>
    public void SetMask(ReadOnlySpan<float> mask)
    {
        if (mask.Length != Values.Length) throw new ArgumentException($"a mask needs {Values.Length} entries, got {mask.Length}", nameof(mask));
        Mask ??= new NativeBuffer(Values.Length);
        mask.CopyTo(Mask.Span);
        ApplyMask();
    }

    public void ClearMask()
    {
        Mask?.Dispose();
        Mask = null;
    }

    /// <summary>Pruned weights back to zero: one vectorised pass over the trainable range.</summary>
    public void ApplyMask()
    {
        if (Mask is null) return;
        var w = Values.Span[..TrainableLength];
        System.Numerics.Tensors.TensorPrimitives.Multiply(w, Mask.Span[..TrainableLength], w);
    }

    public Span<float> Gradient(string name)
    {
        var (offset, length) = Slot(name);
        return Gradients.Span.Slice(offset, length);
    }

    /// <summary>Initialise every parameter as its <see cref="Init"/> says, drawing from <paramref name="rng"/> in declaration order.</summary>
    public void Initialize(Rng rng)
    {
        foreach (var p in Parameters) Initialize(p, rng);
    }

    /// <summary>Initialise one parameter afresh as its <see cref="Init"/> says (a model-randomisation test redraws layers this way).</summary>
    public void Initialize(ParameterInfo p, Rng rng)
    {
        var values = Value(p.Name);
        switch (p.Init.Kind)
        {
            case InitKind.Zeros: values.Clear(); break;
            case InitKind.Ones: values.Fill(1f); break;
            case InitKind.UniformFanIn:
                var bound = (float)(1.0 / Math.Sqrt(p.Init.FanIn));
                rng.FillUniform(values, -bound, bound);
                break;
            case InitKind.Normal: rng.FillNormal(values, 0f, 1f); break;
            case InitKind.XavierUniform:
                var limit = (float)Math.Sqrt(6.0 / (p.Init.FanIn + p.Init.FanOut));
                rng.FillUniform(values, -limit, limit);
                break;
            case InitKind.RowNorm:
            {
                // v is declared (and so drawn) before its g.
                var direction = p.Name.EndsWith("_g", StringComparison.Ordinal) ? p.Name[..^2] + "_v" : "";
                if (!Contains(direction)) throw new InvalidOperationException($"`{p.Name}` starts as the row norms of `{direction}`, which the model does not have");
                var v = Value(direction);
                var per = v.Length / values.Length;
                for (var k = 0; k < values.Length; k++)
                {
                    var row = v.Slice(k * per, per);
                    values[k] = MathF.Sqrt(System.Numerics.Tensors.TensorPrimitives.Dot(row, row));
                }
                break;
            }
            default: throw new NotSupportedException($"no initialisation for {p.Init.Kind}");
        }
    }

    public void Dispose()
    {
        Values.Dispose();
        Gradients.Dispose();
        Mask?.Dispose();
    }
}
