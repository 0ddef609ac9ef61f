using Dlc.Compiler.Ir;

namespace Dlc.Compiler.Ops;

/// <summary>Where values come from: data fed in, trained parameters, constants.</summary>
internal static class SourceOps
{
    public static IEnumerable<OpInfo> All =>
    [
        new(Op.Input, "input", 0, OpTable.Declared, "a tensor fed in when the plan runs (a batch of data)"),
        new(Op.Parameter, "param", 0, OpTable.Declared, "a trained tensor that lives across steps"),
        new(Op.Constant, "const", 0, OpTable.Declared, "a tensor of one repeated value"),
    ];
}
