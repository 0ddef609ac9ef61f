namespace Dlc.Backend.Tests;

public class NativeBufferTests
{
    [Fact]
    public unsafe void A_buffer_is_64_byte_aligned_zeroed_and_the_requested_length()
    {
        using var buffer = new NativeBuffer(1001);
        ((nint)buffer.Pointer % 64).ShouldBe(0);
        buffer.Length.ShouldBe(1001);
        buffer.Span.Length.ShouldBe(1001);
        buffer.Span.ToArray().ShouldAllBe(v => v == 0f);
        buffer.Span[1000] = 3f;
        buffer.Pointer[1000].ShouldBe(3f);
    }

    [Fact]
    public void Using_a_disposed_buffer_throws_and_disposing_twice_is_harmless()
    {
        var buffer = new NativeBuffer(8);
        buffer.Dispose();
        buffer.Dispose();
        buffer.IsDisposed.ShouldBeTrue();
        Should.Throw<ObjectDisposedException>(() => buffer.Span.Length);
    }

    [Fact]
    public void An_empty_buffer_is_valid()
    {
        using var buffer = new NativeBuffer(0);
        buffer.Span.IsEmpty.ShouldBeTrue();
    }

    [Fact]
    public void Abandoned_buffers_are_freed_by_their_finaliser_without_harm()
    {
        static void Abandon()
        {
            for (var i = 0; i < 100; i++) _ = new NativeBuffer(1 << 16);
        }
        Abandon();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    [Fact]
    public unsafe void A_large_buffer_asks_for_huge_pages_where_linux_has_them()
    {
        if (!OperatingSystem.IsLinux() || !Directory.Exists("/sys/kernel/mm/transparent_hugepage")) return;
        using var buffer = new NativeBuffer(8 << 20 >> 2);
        buffer.Span.ToArray().ShouldAllBe(v => v == 0f);
        // The first whole 2 MiB page inside the buffer lies in a mapping marked for huge pages ("hg" in VmFlags).
        var page = ((nint)buffer.Pointer + (2 << 20) - 1) & ~(nint)((2 << 20) - 1);
        string? flags = null;
        var inside = false;
        foreach (var line in File.ReadLines("/proc/self/smaps"))
        {
            var dash = line.IndexOf('-');
            if (dash > 0 && line.IndexOf(' ') > dash && nint.TryParse(line[..dash], System.Globalization.NumberStyles.HexNumber, null, out var from)
                && nint.TryParse(line[(dash + 1)..line.IndexOf(' ')], System.Globalization.NumberStyles.HexNumber, null, out var to))
                inside = from <= page && page < to;
            else if (inside && line.StartsWith("VmFlags:", StringComparison.Ordinal)) flags = line;
        }
        flags.ShouldNotBeNull();
        flags.Split(' ').ShouldContain("hg");
    }
}
