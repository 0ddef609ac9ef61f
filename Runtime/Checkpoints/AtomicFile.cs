using System.Runtime.InteropServices;
using Dlc.Runtime.Data;

namespace Dlc.Runtime.Checkpoints;

/// <summary>
/// Replaces a file all at once: readers see either the old content or the new, never a mix,
/// and a crash or an exception in the middle of writing leaves the old file as it was.
/// </summary>
public static partial class AtomicFile
{
    /// <summary>
    /// Lets <paramref name="write"/> fill a temporary file in the same folder (a rename is only
    /// atomic within one file system), flushes it to the disk, then renames it over
    /// <paramref name="path"/>. I/O failures become <see cref="DataException"/> DL0906; any other
    /// exception from <paramref name="write"/> propagates unchanged. Either way the temporary file is removed.
    /// </summary>
    public static void Write(string path, Action<Stream> write)
    {
        var full = Path.GetFullPath(path);
        var folder = Path.GetDirectoryName(full) ?? ".";
        if (!Directory.Exists(folder))
            throw new DataException(DataException.WriteFailed, path, $"cannot write {path}: the folder {folder} does not exist");
        // Hidden and unique, so concurrent writers do not collide and listings of the folder stay clean.
        var temp = Path.Combine(folder, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        FileStream? stream = null;
        try
        {
            stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
            write(stream);
            // Without this the rename can reach the disk before the data, and a power cut leaves an empty file.
            stream.Flush(flushToDisk: true);
            stream.Dispose();
            stream = null;
            File.Move(temp, full, overwrite: true);
            SyncFolder(folder);
        }
        catch (Exception e)
        {
            stream?.Dispose();
            try { File.Delete(temp); } catch (Exception cleanup) when (cleanup is IOException or UnauthorizedAccessException) { }
            if (e is IOException or UnauthorizedAccessException)
                throw new DataException(DataException.WriteFailed, path, $"could not write {path}: {e.Message}",
                    "check that the folder is writable and the disk is not full", e);
            throw;
        }
    }

    /// <summary>Writes <paramref name="bytes"/> atomically.</summary>
    public static void WriteAllBytes(string path, byte[] bytes) => Write(path, s => s.Write(bytes));

    /// <summary>
    /// Makes the rename itself durable by flushing the folder's entry list. Best effort: only
    /// possible through the C library, and a failure here does not undo a completed write.
    /// </summary>
    private static void SyncFolder(string folder)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return;
        try
        {
            var fd = Open(folder, 0 /* O_RDONLY */);
            if (fd < 0) return;
            _ = FSync(fd);
            _ = Close(fd);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync")]
    private static partial int FSync(int fd);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);
}
