namespace Dlc.Syntax;

/// <summary>
/// How tightly each kind of expression binds, loosest first, and how binary operators are written: shared
/// by everything that prints a tree, so a printed expression gets parentheses exactly where it needs them.
/// </summary>
internal static class Precedence
{
    public const int TuplePrec = 0, LambdaPrec = 1, PipePrec = 2, ComposePrec = 3, AddPrec = 4, MulPrec = 5,
        NegatePrec = 6, ApplyPrec = 7, PostfixPrec = 8, AtomPrec = 9;

    public static int Prec(Expr expr) => expr switch
    {
        TupleExpr => TuplePrec,
        LambdaExpr or LetExpr => LambdaPrec,
        BinaryExpr { Op: BinaryOp.Pipe } => PipePrec,
        BinaryExpr { Op: BinaryOp.Compose } => ComposePrec,
        BinaryExpr { Op: BinaryOp.Add or BinaryOp.Subtract } => AddPrec,
        BinaryExpr => MulPrec,
        NegateExpr => NegatePrec,
        ApplyExpr => ApplyPrec,
        MemberExpr => PostfixPrec,
        _ => AtomPrec,
    };

    public static string Symbol(BinaryOp op) => op switch
    {
        BinaryOp.Pipe => "|>",
        BinaryOp.Compose => ">>",
        BinaryOp.Add => "+",
        BinaryOp.Subtract => "-",
        BinaryOp.Multiply => "*",
        _ => "/",
    };
}
