using Dlc.Compiler.Ir;

namespace Dlc.Backend.Kernels;

/// <summary>
/// The sizes of one 2-D window op over NCHW tensors: input [N, C, H, W], output [N, K, OH, OW], a window of
/// KH×KW taps placed every (SH, SW), spread by (DH, DW), after PT rows and PL columns of padding. Convolution
/// splits channels into <see cref="Groups"/>; max pooling is the case K = C = Groups.
/// </summary>
public readonly record struct Conv2dGeometry(
    int Batch, int Channels, int Height, int Width, int OutChannels, int OutHeight, int OutWidth,
    int KernelH, int KernelW, int StrideH, int StrideW, int PadTop, int PadLeft, int DilationH, int DilationW, int Groups)
{
    public int ChannelsPerGroup => Channels / Groups;
    public int OutPerGroup => OutChannels / Groups;

    /// <summary>Taps of one output element: the rows of an im2col matrix.</summary>
    public int Patch => ChannelsPerGroup * KernelH * KernelW;

    /// <summary>Output positions of one channel: the columns of an im2col matrix.</summary>
    public int Positions => OutHeight * OutWidth;

    public int InputSize => Batch * Channels * Height * Width;
    public int OutputSize => Batch * OutChannels * Positions;
    public int WeightSize => OutChannels * Patch;

    /// <summary>
    /// A convolution: x [N, C, H, W], weight [K, C/groups, KH, KW], y [N, K, OH, OW]; a 1-D one (x [N, C, L])
    /// is the 2-D one of height 1.
    /// </summary>
    public static Conv2dGeometry Convolution(int[] x, int[] weight, int[] y, OpAttributes a)
    {
        (x, weight, y, a) = (AsImage(x), AsImage(weight), AsImage(y), AsImage(a));
        return new(x[0], x[1], x[2], x[3], weight[0], y[2], y[3], weight[2], weight[3],
            a.Stride![0], a.Stride[1], a.Padding![0], a.Padding[1], a.Dilation![0], a.Dilation[1], a.Groups);
    }

    /// <summary>A pooling window: x [N, C, H, W] (or [N, C, L]), y [N, C, OH, OW]; pooling has no dilation unless given.</summary>
    public static Conv2dGeometry Pooling(int[] x, int[] y, OpAttributes a)
    {
        (x, y, a) = (AsImage(x), AsImage(y), AsImage(a));
        return new(x[0], x[1], x[2], x[3], x[1], y[2], y[3], a.Kernel![0], a.Kernel[1],
            a.Stride![0], a.Stride[1], a.Padding![0], a.Padding[1], a.Dilation?[0] ?? 1, a.Dilation?[1] ?? 1, x[1]);
    }

    /// <summary>An NCL shape as the NCHW shape of height 1; other shapes as they are.</summary>
    public static int[] AsImage(int[] shape) => shape.Length == 3 ? [shape[0], shape[1], 1, shape[2]] : shape;

    /// <summary>The attributes of a 1-D window as those of a 2-D window of height 1.</summary>
    private static OpAttributes AsImage(OpAttributes a) => a.Stride is { Length: 1 } stride
        ? a with
        {
            Kernel = a.Kernel is { } k ? [1, k[0]] : null,
            Stride = [1, stride[0]],
            Padding = [0, a.Padding![0], 0, a.Padding[1]],
            Dilation = a.Dilation is { } d ? [1, d[0]] : null,
        }
        : a;

    internal void Check(int input, int output, string inputName, string outputName)
    {
        Shapes.Same(InputSize, input, inputName);
        Shapes.Same(OutputSize, output, outputName);
    }
}
