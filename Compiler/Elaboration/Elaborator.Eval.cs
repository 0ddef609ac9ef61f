using System.Globalization;
using Dlc.Compiler.Ir;
using Dlc.Compiler.Ops;
using Dlc.Diagnostics;
using Dlc.Syntax;

namespace Dlc.Compiler.Elaboration;

public sealed partial class Elaborator
{
    public Value Eval(Expr expr, Env env) => expr switch
    {
        NumberLit n => new NumberValue(n.Value, n.IsInteger, n.Span),
        StringLit s => new StringValue(s.Value, s.Span),
        BoolLit b => new BoolValue(b.Value, b.Span),
        NameExpr n => Lookup(n.Name, env),
        ParenExpr p => Eval(p.Inner, env) with { Span = p.Span },
        ApplyExpr { Function: ApplyExpr inner, Argument: NamedArgsExpr } a => ApplyWithOptions(inner, a, env),
        ApplyExpr a => Apply(Eval(a.Function, env), Eval(a.Argument, env), a.Span),
        NamedArgsExpr n => new NamedArgsValue(Entries(n.Arguments, env), n.Span),
        RecordExpr r => new RecordValue(Entries(r.Fields, env), r.Span),
        ListExpr l => new ListValue(l.Items.Select(i => Eval(i, env)).ToArray(), l.Span),
        TupleExpr t => new TupleValue(t.Items.Select(i => Eval(i, env)).ToArray(), t.Span),
        MemberExpr m => Member(Eval(m.Target, env), m.Member),
        LambdaExpr l => new FunctionValue(new Closure("fun", l.Parameters, l.Body, env, [], Source), l.Span),
        LetExpr l => EvalLet(l, env),
        NegateExpr n => Negate(Eval(n.Operand, env), n.Span),
        BinaryExpr { Op: BinaryOp.Pipe } b => Pipe(Eval(b.Left, env), Eval(b.Right, env), b),
        BinaryExpr { Op: BinaryOp.Compose } b => new LayerValue(
            new ComposedLayer(AsLayer(Eval(b.Left, env), ">>"), AsLayer(Eval(b.Right, env), ">>")) { Site = At(b.Span) }, b.Span),
        BinaryExpr b => Arithmetic(b, Eval(b.Left, env), Eval(b.Right, env)),
        _ => throw Error(DiagnosticCatalog.NotYetSupported, expr.Span, "this construct cannot be evaluated yet"),
    };

    private Value EvalLet(LetExpr let, Env env)
    {
        var value = let.Parameters.Count > 0
            ? new FunctionValue(new Closure(let.Name.Name, let.Parameters, let.Value, env, [], Source), let.Span)
            : EvalBinding(let.Name.Name, let.Value, env);
        return Eval(let.Body, env.Bind(let.Name.Name, value));
    }

    private Value Lookup(Identifier name, Env env)
    {
        if (env.TryLookup(name.Name, out var value)) return value with { Span = name.Span };
        if (Builtins.TryGet(this, name.Name, name.Span, out value)) return value;
        var suggestion = NameSuggestions.Closest(name.Name, env.Names.Concat(Builtins.Names));
        throw Error(DiagnosticCatalog.UnknownName, name.Span, $"`{name.Name}` is not defined",
            suggestion is null ? null : $"did you mean `{suggestion}`?");
    }

    private RecordEntry[] Entries(IReadOnlyList<FieldInit> fields, Env env)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        return fields.Select(f =>
        {
            if (!seen.Add(f.Name.Name))
                throw Error(DiagnosticCatalog.DuplicateDefinition, f.Name.Span, $"the field `{f.Name.Name}` is given twice");
            return new RecordEntry(f.Name.Name, f.Name.Span, Eval(f.Value, env));
        }).ToArray();
    }

    private Value Member(Value target, Identifier member)
    {
        if (target is not RecordValue record)
            throw Error(DiagnosticCatalog.WrongArgumentType, target.Span, $"`.{member.Name}` needs a record, this is {target.Kind}");
        var entry = record.Find(member.Name);
        if (entry is not null) return entry.Value;
        var suggestion = NameSuggestions.Closest(member.Name, record.Fields.Select(f => f.Name));
        throw Error(DiagnosticCatalog.UnknownField, member.Span, $"the record has no field `{member.Name}`",
            suggestion is null ? $"its fields are {string.Join(", ", record.Fields.Select(f => $"`{f.Name}`"))}" : $"did you mean `{suggestion}`?");
    }

    /// <summary>
    /// `binaryCrossEntropy p t (reduce = sum)`: options after the last positional argument of a built-in
    /// function reach the call itself, since its result is a tensor rather than a layer to configure.
    /// </summary>
    private Value ApplyWithOptions(ApplyExpr inner, ApplyExpr outer, Env env)
    {
        var function = Eval(inner.Function, env);
        var argument = Eval(inner.Argument, env);
        var options = Eval(outer.Argument, env);
        if (function is FunctionValue { Callable: BuiltinFunction builtin } && builtin.TakesOptionsAfter(argument))
            return builtin.Apply(this, argument, outer.Span, (NamedArgsValue)options);
        return Apply(Apply(function, argument, inner.Span), options, outer.Span);
    }

    public Value Apply(Value function, Value argument, TextSpan span) => function switch
    {
        FunctionValue f => f.Callable.Apply(this, argument, span),
        SymbolValue s when argument is RecordValue r => new ConfiguredValue(s.Name, s.Span, r, span),
        SymbolValue s when argument is not NamedArgsValue => new AppliedSymbolValue(s.Name, s.Span, argument, span),
        LayerValue l when argument is TensorValue x => l.Layer.Apply(this, x, span),
        LayerValue l when argument is NamedArgsValue options => new LayerValue(Configure(l.Layer, options), span),
        LayerValue l => throw Error(DiagnosticCatalog.WrongArgumentType, argument.Span,
            $"`{l.Layer.Describe()}` is a layer: it takes a tensor, not {argument.Kind}"),
        TensorValue => throw Error(DiagnosticCatalog.WrongArgumentType, function.Span,
            "this is a tensor, so it cannot be applied to an argument", "to pass a tensor through a layer, write `x |> layer`"),
        _ => throw Error(DiagnosticCatalog.WrongArgumentType, function.Span, $"this is {function.Kind}, so it cannot be applied to an argument"),
    };

    /// <summary>A layer with options; it is then located at its name and the options together.</summary>
    private Layer Configure(Layer layer, NamedArgsValue options)
    {
        var configured = layer.Configure(this, options);
        if (configured.Site.Source == Source) configured.Site = new Site(Source, configured.Origin.Cover(options.Span));
        return configured;
    }

    private Value Pipe(Value left, Value right, BinaryExpr b)
    {
        if (left is not TensorValue x)
            throw Error(DiagnosticCatalog.WrongArgumentType, b.Left.Span, $"the left side of `|>` must be a tensor, found {left.Kind}",
                left is LayerValue or FunctionValue ? "to chain layers without an input, compose them with `>>`" : null);
        return right switch
        {
            LayerValue l => l.Layer.Apply(this, x, b.Right.Span),
            FunctionValue f => f.Callable.Apply(this, x, b.Right.Span),
            _ => throw Error(DiagnosticCatalog.NotALayer, b.Right.Span, $"this is {right.Kind}, not a layer",
                "a pipeline step is a layer such as `dense 256` or `relu`"),
        };
    }

    private Layer AsLayer(Value value, string op) => value switch
    {
        LayerValue l => l.Layer,
        FunctionValue f => new FunctionLayer(f.Callable) { Site = At(value.Span) },
        _ => throw Error(DiagnosticCatalog.NotALayer, value.Span, $"`{op}` composes layers; this is {value.Kind}"),
    };

    private Value Negate(Value value, TextSpan span) => value switch
    {
        NumberValue n => n with { Number = -n.Number, Span = span },
        TensorValue t => Tensor(AddNode(Op.Scale, [t.Node], new OpAttributes { Value = -1 }, At(span)), "negation", At(span), span),
        _ => throw Error(DiagnosticCatalog.WrongArgumentType, span, $"`-` needs a number or a tensor, found {value.Kind}"),
    };

    private Value Arithmetic(BinaryExpr b, Value left, Value right)
    {
        var symbol = b.Op switch { BinaryOp.Add => "+", BinaryOp.Subtract => "-", BinaryOp.Multiply => "*", _ => "/" };
        switch (left, right)
        {
            case (NumberValue l, NumberValue r):
                var value = b.Op switch
                {
                    BinaryOp.Add => l.Number + r.Number,
                    BinaryOp.Subtract => l.Number - r.Number,
                    BinaryOp.Multiply => l.Number * r.Number,
                    _ => l.Number / r.Number,
                };
                return new NumberValue(value, l.IsInteger && r.IsInteger && b.Op != BinaryOp.Divide, b.Span);
            case (TensorValue l, TensorValue r) when !l.IsIndex && !r.IsIndex:
                return Elementwise(b, symbol, l, r);
            case (TensorValue t, NumberValue n) when b.Op is BinaryOp.Multiply or BinaryOp.Divide:
                return Scaled(t, b.Op == BinaryOp.Multiply ? n.Number : 1 / n.Number, b.Span);
            case (NumberValue n, TensorValue t) when b.Op is BinaryOp.Multiply:
                return Scaled(t, n.Number, b.Span);
            case (TensorValue t, NumberValue n) when !t.IsIndex:
                return Elementwise(b, symbol, t, Constant(n));
            case (NumberValue n, TensorValue t) when !t.IsIndex:
                return Elementwise(b, symbol, Constant(n), t);
            default:
                throw Error(DiagnosticCatalog.WrongArgumentType, b.OperatorSpan,
                    $"`{symbol}` cannot combine {left.Kind} and {right.Kind}");
        }
    }

    /// <summary>
    /// `a + b`, `a - b`, `a * b`, `a / b` of tensors. Shapes that differ but broadcast get an explicit
    /// `broadcast_to` of the smaller operand, so the arithmetic op itself sees one shape.
    /// </summary>
    private TensorValue Elementwise(BinaryExpr b, string symbol, TensorValue l, TensorValue r)
    {
        var shape = l.Shape == r.Shape ? l.Shape : Broadcasting.Combine(l.Shape, r.Shape, out var axis) ?? throw ShapeMismatch(b, symbol, l, r, axis);
        var op = b.Op switch { BinaryOp.Add => Op.Add, BinaryOp.Subtract => Op.Subtract, BinaryOp.Multiply => Op.Multiply, _ => Op.Divide };
        var first = Builder.Nodes.Count;
        var left = l.Shape == shape ? l.Node : AddNode(Op.Expand, [l.Node], null, At(l.Span), shape);
        var right = r.Shape == shape ? r.Node : AddNode(Op.Expand, [r.Node], null, At(r.Span), shape);
        var node = AddNode(op, [left, right], null, At(b.Span));
        RecordLayer(null, symbol, Builder[node].Shape, 0, At(b.Span), first);
        return Tensor(node, $"`{symbol}`", At(b.Span), b.Span);
    }

    /// <summary>A number where a tensor is combined with it: a constant of no axes, which broadcasts to any shape.</summary>
    private TensorValue Constant(NumberValue n) =>
        Tensor(AddNode(Op.Constant, [], new OpAttributes { Value = n.Number }, At(n.Span), Shape.Scalar), "a number", At(n.Span), n.Span);

    private TensorValue Scaled(TensorValue t, double factor, TextSpan span) =>
        Tensor(AddNode(Op.Scale, [t.Node], new OpAttributes { Value = factor }, At(span)), "scaling", At(span), span);

    private DiagnosticException ShapeMismatch(BinaryExpr b, string symbol, TensorValue l, TensorValue r, int axis)
    {
        var rank = Math.Max(l.Shape.Rank, r.Shape.Rank);
        var (left, right) = (Broadcasting.At(l.Shape, axis - (rank - l.Shape.Rank)), Broadcasting.At(r.Shape, axis - (rank - r.Shape.Rank)));
        var where = l.Shape.Rank == r.Shape.Rank ? $"axis {axis.ToString(CultureInfo.InvariantCulture)}"
            : rank - axis == 1 ? "aligned at their last axes, the last axis"
            : $"aligned at their last axes, axis {axis.ToString(CultureInfo.InvariantCulture)} of the longer";
        var help = $"{where} is {left} on the left and {right} on the right, and neither is 1, so they do not broadcast; " +
                   $"the right operand comes from {r.Producer} ({Where(r.ProducerSite)})";
        if (l.Shape.Rank == r.Shape.Rank && r.Producer.StartsWith("`dense ", StringComparison.Ordinal) && !l.Shape.Last.IsSymbolic)
            help += $"; did you mean `dense {l.Shape.Last.Size.ToString(CultureInfo.InvariantCulture)}`?";
        return Error(DiagnosticCatalog.ShapeMismatch, b.Span,
            $"shape mismatch in `{symbol}`: left is {l.Shape}, right is {r.Shape}", help);
    }
}
