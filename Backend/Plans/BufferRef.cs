namespace Dlc.Backend.Plans;

/// <summary>A slice of a native buffer that a plan step reads or writes.</summary>
public readonly unsafe struct BufferRef(NativeBuffer buffer, int offset, int length)
{
    public NativeBuffer Buffer { get; } = buffer;
    public int Offset { get; } = offset;
    public int Length { get; } = length;

    public float* Pointer => Buffer.Pointer + Offset;
    public Span<float> Span => new(Pointer, Length);
}
