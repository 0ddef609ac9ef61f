namespace Dlc.Backend.Gemm;

/// <summary>
/// op(B) of one product's shape in the layout its provider multiplies from, packed once (see
/// <see cref="IGemm.Prepack"/>) for a B that does not change while the copy is used: a model's weights during an
/// evaluation or a timed inference. Products given it read the copy where they would have packed B on every call.
/// </summary>
public sealed unsafe class PackedB : IDisposable
{
    private readonly NativeBuffer _buffer;

    internal PackedB(IGemm provider, bool transB, int n, int k, float* source, int ldb, int floats, bool rows = false)
    {
        Rows = rows;
        Provider = provider;
        TransB = transB;
        N = n;
        K = k;
        Source = source;
        Ldb = ldb;
        _buffer = new NativeBuffer(floats);
    }

    internal IGemm Provider { get; }
    internal bool TransB { get; }
    internal int N { get; }
    internal int K { get; }
    internal float* Source { get; }
    internal int Ldb { get; }

    /// <summary>Whether the copy is op(B) stored k×n row by row, for a single row's product (see ManagedGemm.ReadsRowsCopy).</summary>
    internal bool Rows { get; }
    internal float* Pointer => _buffer.Pointer;

    /// <summary>Bytes the copy takes.</summary>
    public long Bytes => _buffer.Length * (long)sizeof(float);

    /// <summary>Whether this is the copy of exactly this B, packed by this provider for products of this width and depth.</summary>
    internal bool Of(IGemm provider, bool transB, int n, int k, float* b, int ldb) =>
        ReferenceEquals(provider, Provider) && transB == TransB && n == N && k == K && b == Source && ldb == Ldb && !_buffer.IsDisposed;

    public void Dispose() => _buffer.Dispose();
}
