using Dlc.Runtime.Checkpoints;
using Dlc.Runtime.Data;

namespace Dlc.Runtime.Tests.Checkpoints;

public class AtomicFileTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_write_creates_or_replaces_the_file_and_leaves_nothing_else()
    {
        var path = _dir.File("out.txt");
        AtomicFile.Write(path, s => s.Write("first"u8));
        AtomicFile.Write(path, s => s.Write("second"u8));
        File.ReadAllText(path).ShouldBe("second");
        Directory.GetFiles(_dir.Path).ShouldBe([path]);
    }

    [Fact]
    public void A_writer_that_throws_halfway_leaves_the_old_file_intact_and_no_temporary_file()
    {
        var path = _dir.Write("model.safetensors", "old content");
        var e = Should.Throw<InvalidOperationException>(() => AtomicFile.Write(path, s =>
        {
            s.Write(new byte[100_000]);
            throw new InvalidOperationException("boom");
        }));
        e.Message.ShouldBe("boom");
        File.ReadAllText(path).ShouldBe("old content");
        Directory.GetFiles(_dir.Path).ShouldBe([path]);
    }

    [Fact]
    public void An_io_failure_while_writing_becomes_an_output_error()
    {
        var path = _dir.File("x.bin");
        var e = Should.Throw<DataException>(() => AtomicFile.Write(path, _ => throw new IOException("No space left on device")));
        e.Code.ShouldBe(DataException.WriteFailed);
        e.Path.ShouldBe(path);
        e.Message.ShouldBe($"could not write {path}: No space left on device");
        Directory.GetFiles(_dir.Path).ShouldBeEmpty();
    }

    [Fact]
    public void Writing_into_a_missing_folder_is_an_output_error()
    {
        var path = Path.Combine(_dir.Path, "absent", "x.bin");
        var e = Should.Throw<DataException>(() => AtomicFile.Write(path, s => s.WriteByte(1)));
        e.Code.ShouldBe(DataException.WriteFailed);
        e.Message.ShouldContain("does not exist");
    }

    [Fact]
    public void A_target_that_is_a_folder_is_an_output_error_and_the_temporary_file_is_removed()
    {
        var path = _dir.File("taken");
        Directory.CreateDirectory(path);
        Should.Throw<DataException>(() => AtomicFile.Write(path, s => s.WriteByte(1))).Code.ShouldBe(DataException.WriteFailed);
        Directory.GetFiles(_dir.Path).ShouldBeEmpty();
    }
}
