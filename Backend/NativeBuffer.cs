using System.Runtime.InteropServices;

namespace Dlc.Backend;

/// <summary>
/// A zero-initialised float buffer in native memory, 64-byte aligned (one cache line, one AVX-512 vector),
/// for plans to allocate once and keep. Dispose frees it; a buffer never disposed is freed by its finaliser,
/// which touches nothing but the native pointer, so it is safe in any finalisation order. Using it after
/// Dispose throws ObjectDisposedException.
/// </summary>
public sealed unsafe class NativeBuffer : IDisposable
{
    public const int Alignment = 64;

    private nint _address;
    private readonly long _bytes;

    public NativeBuffer(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        Length = length;
        _bytes = Math.Max(1L, length) * sizeof(float);
        var pointer = NativeMemory.AlignedAlloc((nuint)_bytes, Alignment);
        NativeMemory.Clear(pointer, (nuint)_bytes);
        _address = (nint)pointer;
        // Tell the GC about the native bytes, so large plans still prompt collections of abandoned buffers.
        GC.AddMemoryPressure(_bytes);
    }

    ~NativeBuffer() => Free();

    public int Length { get; }

    public bool IsDisposed => _address == 0;

    public float* Pointer
    {
        get
        {
            var address = _address;
            ObjectDisposedException.ThrowIf(address == 0, this);
            return (float*)address;
        }
    }

    public Span<float> Span => new(Pointer, Length);

    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    private void Free()
    {
        // Exchange so a racing Dispose and finaliser (or two Disposes) free the memory once.
        var address = Interlocked.Exchange(ref _address, 0);
        if (address == 0) return;
        NativeMemory.AlignedFree((void*)address);
        GC.RemoveMemoryPressure(_bytes);
    }
}
