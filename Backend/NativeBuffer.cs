using System.Runtime.InteropServices;

namespace Dlc.Backend;

/// <summary>
/// A zero-initialised float buffer in native memory, 64-byte aligned (one cache line, one AVX-512 vector),
/// for plans to allocate once and keep. Dispose frees it; a buffer never disposed is freed by its finaliser,
/// which touches nothing but the native pointer, so it is safe in any finalisation order. Using it after
/// Dispose throws ObjectDisposedException.
/// </summary>
public sealed unsafe partial class NativeBuffer : IDisposable
{
    public const int Alignment = 64;

    // Linux's transparent huge pages: 2 MiB, and madvise's advice to back a range with them.
    private const long HugePage = 2 << 20;
    private const int MadvHugePage = 14;

    private nint _address;
    private readonly long _bytes;

    public NativeBuffer(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        Length = length;
        _bytes = Math.Max(1L, length) * sizeof(float);
        var pointer = NativeMemory.AlignedAlloc((nuint)_bytes, Alignment);
        AdviseHugePages((nint)pointer, _bytes);
        NativeMemory.Clear(pointer, (nuint)_bytes);
        _address = (nint)pointer;
        // Tell the GC about the native bytes, so large plans still prompt collections of abandoned buffers.
        GC.AddMemoryPressure(_bytes);
    }

    ~NativeBuffer() => Free();

    // A refusal changes nothing but speed.
    [LibraryImport("libc.so.6", EntryPoint = "madvise")]
    private static partial int MAdvise(nint address, nuint length, int advice);

    /// <summary>
    /// Asks Linux to back the whole 2 MiB pages inside a large buffer with huge pages (before its first touch, so the
    /// faults allocate them). A plan's buffers are tens of MiB that every step walks: with 4 KiB pages a product's
    /// operands span more pages than the TLB holds. Where transparent huge pages are off, or not on Linux, nothing
    /// changes.
    /// </summary>
    private static void AdviseHugePages(nint address, long bytes)
    {
        if (!OperatingSystem.IsLinux()) return;
        var start = (address + HugePage - 1) & ~(HugePage - 1);
        var end = (address + bytes) & ~(HugePage - 1);
        if (end > start) _ = MAdvise((nint)start, (nuint)(end - start), MadvHugePage);
    }

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
