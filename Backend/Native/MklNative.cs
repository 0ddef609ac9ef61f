using System.Runtime.InteropServices;

namespace Dlc.Backend.Native;

/// <summary>
/// Raw entry points of Intel MKL's single dynamic library (libmkl_rt). Only <see cref="Mkl"/> calls these:
/// it loads the library and picks the threading and interface layers first, so a missing library shows up
/// as <see cref="Mkl.LoadError"/> rather than as a DllNotFoundException from here.
/// </summary>
/// <remarks>
/// The capitalised service names (MKL_Set_Num_Threads...) are the C entry points taking values; the
/// lower-case exports of the same names are the Fortran ones taking pointers, so they are not used.
/// MKL_INT is 32-bit because the LP64 interface layer is selected.
/// </remarks>
internal static unsafe partial class MklNative
{
    /// <summary>Logical library name; <see cref="Mkl"/>'s import resolver maps it to the handle it loaded.</summary>
    internal const string Library = "dlc-mkl-rt";

    internal const int CblasRowMajor = 101;
    internal const int CblasNoTrans = 111;
    internal const int CblasTrans = 112;

    // mkl_service.h: MKL_THREADING_INTEL = 0, SEQUENTIAL = 1, PGI = 2, GNU = 3, TBB = 4.
    internal const int ThreadingSequential = 1;
    internal const int ThreadingGnu = 3;
    internal const int InterfaceLp64 = 0;

    [LibraryImport(Library, EntryPoint = "MKL_Set_Threading_Layer")]
    internal static partial int SetThreadingLayer(int layer);

    [LibraryImport(Library, EntryPoint = "MKL_Set_Interface_Layer")]
    internal static partial int SetInterfaceLayer(int layer);

    [LibraryImport(Library, EntryPoint = "MKL_Get_Version_String")]
    internal static partial void GetVersionString(byte* buffer, int length);

    [LibraryImport(Library, EntryPoint = "MKL_Set_Num_Threads")]
    internal static partial void SetNumThreads(int threads);

    [LibraryImport(Library, EntryPoint = "MKL_Get_Max_Threads")]
    internal static partial int GetMaxThreads();

    [LibraryImport(Library, EntryPoint = "cblas_sgemm")]
    internal static partial void cblas_sgemm(int layout, int transA, int transB, int m, int n, int k,
        float alpha, float* a, int lda, float* b, int ldb, float beta, float* c, int ldc);

    [LibraryImport(Library, EntryPoint = "cblas_sgemm_batch_strided")]
    internal static partial void cblas_sgemm_batch_strided(int layout, int transA, int transB, int m, int n, int k,
        float alpha, float* a, int lda, int strideA, float* b, int ldb, int strideB,
        float beta, float* c, int ldc, int strideC, int batchSize);

    [LibraryImport(Library, EntryPoint = "vsExp")]
    internal static partial void vsExp(int n, float* a, float* r);

    [LibraryImport(Library, EntryPoint = "vsLn")]
    internal static partial void vsLn(int n, float* a, float* r);

    [LibraryImport(Library, EntryPoint = "vsTanh")]
    internal static partial void vsTanh(int n, float* a, float* r);

    [LibraryImport(Library, EntryPoint = "vsErf")]
    internal static partial void vsErf(int n, float* a, float* r);

    // Double precision erf: only an independent check of the reference erf in the tests.
    [LibraryImport(Library, EntryPoint = "vdErf")]
    internal static partial void vdErf(int n, double* a, double* r);

    /// <summary>Exports checked at load time, so a partial or foreign library is refused up front.</summary>
    internal static readonly string[] RequiredExports =
    [
        "MKL_Set_Threading_Layer", "MKL_Set_Interface_Layer", "MKL_Get_Version_String", "MKL_Set_Num_Threads",
        "MKL_Get_Max_Threads", "cblas_sgemm", "vsExp", "vsLn", "vsTanh", "vsErf", "vdErf",
    ];
}

/// <summary>The C library's dlopen, used to make GNU OpenMP's symbols global before MKL needs them.</summary>
internal static partial class LibC
{
    internal const int RtldNow = 0x2;
    internal const int RtldGlobal = 0x100;

    // glibc 2.34+ exports dlopen from libc.so.6; older ones only from libdl.so.2.
    [LibraryImport("libc.so.6", EntryPoint = "dlopen", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint DlOpenLibC(string fileName, int flags);

    [LibraryImport("libdl.so.2", EntryPoint = "dlopen", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint DlOpenLibDl(string fileName, int flags);

    // The native environment: Environment.SetEnvironmentVariable changes only .NET's copy, which native libraries never read.
    [LibraryImport("libc.so.6", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int SetEnv(string name, string value, int overwrite);

    [LibraryImport("libc.so.6", EntryPoint = "getenv", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint GetEnv(string name);
}
