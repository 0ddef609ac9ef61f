using Dlc.Diagnostics;
using Dlc.Syntax;
using Superpower.Model;
using TextSpan = Dlc.Diagnostics.TextSpan;
using static Dlc.Syntax.Precedence;

namespace Dlc.Formatting;

/// <summary>
/// The canonical layout of a parsed file, written through a <see cref="SourceWriter"/> that keeps the
/// comments. Four-space indents, one space around operators and `=`; where a line breaks is taken from
/// the source in the places a user chooses it (a pipeline or composition written across lines stays
/// across lines, breaking before each operator that followed a line break; a record or list written
/// across lines gets one field or item per line with the `=` signs aligned); everything else is put on
/// one line. Models, losses and `let` sequences always have their bodies on lines of their own.
/// </summary>
internal sealed class Formatter
{
    private const int Indent = 4;

    // Binding strength, loosest first, as in SyntaxPrinter.
    private readonly SourceText _source;
    private readonly IReadOnlyList<Token<DlToken>> _tokens;
    private readonly SourceWriter _out;

    private Formatter(SourceText source, IReadOnlyList<Token<DlToken>> tokens, IReadOnlyList<TextSpan> comments)
    {
        _source = source;
        _tokens = tokens;
        _out = new SourceWriter(source, comments);
    }

    public static string Format(SourceText source, CompilationUnit unit)
    {
        var (tokens, comments) = Lexer.LexWithComments(source);
        var formatter = new Formatter(source, tokens, comments);
        formatter.File(unit);
        return formatter._out.Finish();
    }

    private void File(CompilationUnit unit)
    {
        Declaration? previous = null;
        foreach (var declaration in unit.Declarations)
        {
            if (previous is not null)
            {
                _out.TailComments(declaration.Span.Start);
                _out.Break(0, previous is ImportDecl && declaration is ImportDecl ? BlankLine.AsSource : BlankLine.Always);
            }
            Declaration(declaration);
            previous = declaration;
        }
        _out.TailComments(int.MaxValue);
        _out.Break(0, BlankLine.AsSource);
    }

    // ---- declarations ----------------------------------------------------------------------------

    private void Declaration(Declaration declaration)
    {
        switch (declaration)
        {
            case ImportDecl import:
                Token("import", import.Span.Start);
                _out.Space();
                Token(_source.Slice(import.PathSpan), import.PathSpan.Start);
                break;
            case LetDecl let:
                var equals = Header("let", let.Span.Start, let.Name, let.Parameters, let.ReturnType);
                Body(let.Body, OnLaterLine(equals, let.Body) || NeedsLines(let.Body));
                break;
            case ModelDecl model:
                Header("model", model.Span.Start, model.Name, model.Parameters, model.ReturnType);
                Body(model.Body, ownLine: true);
                break;
            case LossDecl loss:
                Header("loss", loss.Span.Start, loss.Name, loss.Parameters, null);
                Body(loss.Body, ownLine: true);
                break;
            case JobDecl job:
                Token(job.Kind == JobKind.Train ? "train" : "agent", job.Span.Start);
                _out.Space();
                Name(job.Name);
                _out.Space();
                Record(job.Settings);
                break;
            default:
                throw new ArgumentException($"unknown declaration {declaration.GetType().Name}", nameof(declaration));
        }
    }

    /// <summary>`keyword name params [: type] =`; returns where the `=` is.</summary>
    private int Header(string keyword, int position, Identifier name, IReadOnlyList<Parameter> parameters, TypeSyntax? type)
    {
        Token(keyword, position);
        _out.Space();
        Name(name);
        var end = name.Span.End;
        foreach (var parameter in parameters)
        {
            _out.Space();
            Parameter(parameter);
            end = parameter.Span.End;
        }
        if (type is not null)
        {
            _out.Space();
            Token(":", Find(DlToken.Colon, end));
            _out.Space();
            Type(type);
            end = type.Span.End;
        }
        _out.Space();
        var equals = Find(DlToken.Equals, end);
        Token("=", equals);
        return equals;
    }

    private void Body(Expr body, bool ownLine)
    {
        if (ownLine)
        {
            // A declaration's body is one indent in, however its header was broken.
            _out.Break(Indent, BlankLine.Never);
            Block(body, Indent);
        }
        else
        {
            _out.Space();
            Expr(body, TuplePrec, null);
        }
    }

    private void Parameter(Parameter parameter)
    {
        if (parameter.Elements is { Count: > 0 } parts)
        {
            Token("(", parameter.Span.Start);
            for (var i = 0; i < parts.Count; i++)
            {
                if (i > 0)
                {
                    Token(",", Find(DlToken.Comma, parts[i - 1].Span.End));
                    _out.Space();
                }
                Name(parts[i].Name);
            }
            Token(")", parameter.Span.End - 1);
        }
        else if (parameter.Type is { } type)
        {
            Token("(", parameter.Span.Start);
            Name(parameter.Name);
            Token(":", Find(DlToken.Colon, parameter.Name.Span.End));
            _out.Space();
            Type(type);
            Token(")", parameter.Span.End - 1);
        }
        else Name(parameter.Name);
    }

    private void Type(TypeSyntax type)
    {
        switch (type)
        {
            case TensorType tensor:
                Token("Tensor", tensor.Span.Start);
                Token("[", Find(DlToken.LBracket, tensor.Span.Start));
                var floor = _out.ContinuationFloor;
                _out.ContinuationFloor = Math.Max(floor, _out.Column + 1);
                for (var i = 0; i < tensor.Dims.Count; i++)
                {
                    var dim = tensor.Dims[i];
                    if (i > 0)
                    {
                        Token(",", Find(DlToken.Comma, tensor.Dims[i - 1].Span.End));
                        _out.Space();
                    }
                    Token(_source.Slice(dim.Span), dim.Span.Start);
                }
                Token("]", Find(DlToken.RBracket, tensor.Dims[^1].Span.End));
                _out.ContinuationFloor = floor;
                if (tensor.ElementType is { } element)
                {
                    _out.Space();
                    Token("of", Find(DlToken.Of, tensor.Dims[^1].Span.End));
                    _out.Space();
                    Name(element);
                }
                break;
            case NamedType named:
                Name(named.Name);
                break;
            default:
                throw new ArgumentException($"unknown type {type.GetType().Name}", nameof(type));
        }
    }

    // ---- expressions -------------------------------------------------------------------------------

    /// <summary>
    /// An expression that starts a line at <paramref name="indent"/>, where the offside rule lets a line at
    /// the same column that starts with an operator continue it: a body, a `let` value or body.
    /// </summary>
    private void Block(Expr expr, int indent)
    {
        switch (expr)
        {
            case LetExpr let:
                Token("let", let.Span.Start);
                _out.Space();
                Name(let.Name);
                var end = let.Name.Span.End;
                foreach (var parameter in let.Parameters)
                {
                    _out.Space();
                    Parameter(parameter);
                    end = parameter.Span.End;
                }
                _out.Space();
                var equals = Find(DlToken.Equals, end);
                Token("=", equals);
                if (OnLaterLine(equals, let.Value) || NeedsLines(let.Value))
                {
                    _out.Break(indent + Indent, BlankLine.Never);
                    Block(let.Value, indent + Indent);
                }
                else
                {
                    _out.Space();
                    Expr(let.Value, TuplePrec, null);
                }
                _out.Break(indent, BlankLine.AsSource);
                Block(let.Body, indent);
                break;
            case LambdaExpr lambda when OnLaterLine(lambda.Parameters[^1].Span.End, lambda.Body) || NeedsLines(lambda.Body):
                LambdaHead(lambda);
                _out.Break(indent + Indent, BlankLine.Never);
                Block(lambda.Body, indent + Indent);
                break;
            default:
                Expr(expr, TuplePrec, indent);
                break;
        }
    }

    /// <summary>
    /// An expression within a line. Lines that a chain of operators breaks into start at
    /// <paramref name="continuation"/>, or (when null) one indent deeper than the line the chain starts on.
    /// </summary>
    private void Expr(Expr expr, int minPrec, int? continuation)
    {
        if (NeedsLines(expr) || expr is LambdaExpr multiline && OnLaterLine(multiline.Parameters[^1].Span.End, multiline.Body))
        {
            // A `let` continues on the next, deeper line; a `fun` keeps its head here and its body goes below.
            if (minPrec > LambdaPrec) _out.Text("(");
            var indent = _out.LineIndent;
            if (expr is LetExpr)
            {
                indent += Indent;
                _out.Break(indent, BlankLine.Never);
            }
            Block(expr, indent);
            if (minPrec > LambdaPrec) _out.Text(")");
            return;
        }
        var parenthesise = Prec(expr) < minPrec;
        if (parenthesise) _out.Text("(");
        switch (expr)
        {
            case NumberLit number:
                Token(number.Text, number.Span.Start);
                break;
            case StringLit or BoolLit:
                Token(_source.Slice(expr.Span), expr.Span.Start);
                break;
            case NameExpr name:
                Name(name.Name);
                break;
            case ApplyExpr apply:
                Expr(apply.Function, ApplyPrec, continuation);
                _out.Space();
                Expr(apply.Argument, PostfixPrec, null);
                break;
            case MemberExpr member:
                Expr(member.Target, PostfixPrec, continuation);
                Token(".", Find(DlToken.Dot, member.Target.Span.End));
                Name(member.Member);
                break;
            case NegateExpr negate:
                Token("-", negate.Span.Start);
                Expr(negate.Operand, NegatePrec, null);
                break;
            case BinaryExpr binary:
                Chain(binary, continuation);
                break;
            case NamedArgsExpr named:
                Token("(", named.Span.Start);
                for (var i = 0; i < named.Arguments.Count; i++)
                {
                    var argument = named.Arguments[i];
                    if (i > 0)
                    {
                        Token(",", Find(DlToken.Comma, named.Arguments[i - 1].Span.End));
                        _out.Space();
                    }
                    // A `fun` swallows a following `, name = ...`, so only the last argument may be one unparenthesised.
                    Field(argument, 0, i == named.Arguments.Count - 1 ? LambdaPrec : PipePrec);
                }
                Token(")", named.Span.End - 1);
                break;
            case RecordExpr record:
                Record(record);
                break;
            case ListExpr list:
                List(list);
                break;
            case TupleExpr tuple:
                for (var i = 0; i < tuple.Items.Count; i++)
                {
                    if (i > 0)
                    {
                        Token(",", Find(DlToken.Comma, tuple.Items[i - 1].Span.End));
                        _out.Space();
                    }
                    Expr(tuple.Items[i], PipePrec, i == 0 ? continuation : null);
                }
                break;
            case ParenExpr paren:
                Token("(", paren.Span.Start);
                if (NeedsLines(paren.Inner))
                {
                    var outer = _out.LineIndent;
                    _out.Break(outer + Indent, BlankLine.Never);
                    Block(paren.Inner, outer + Indent);
                    _out.Break(outer, BlankLine.Never);
                    Token(")", paren.Span.End - 1, outer + Indent);
                }
                else
                {
                    Expr(paren.Inner, TuplePrec, null);
                    Token(")", paren.Span.End - 1);
                }
                break;
            case LambdaExpr lambda:
                LambdaHead(lambda);
                _out.Space();
                Expr(lambda.Body, TuplePrec, null);
                break;
            default:
                throw new ArgumentException($"unknown expression {expr.GetType().Name}", nameof(expr));
        }
        if (parenthesise) _out.Text(")");
    }

    private void LambdaHead(LambdaExpr lambda)
    {
        Token("fun", lambda.Span.Start);
        foreach (var parameter in lambda.Parameters)
        {
            _out.Space();
            Parameter(parameter);
        }
        _out.Space();
        Token("->", Find(DlToken.Arrow, lambda.Parameters[^1].Span.End));
    }

    /// <summary>`a |> b |> c`: a line break before an operator wherever the source broke the line around it.</summary>
    private void Chain(BinaryExpr chain, int? continuation)
    {
        var nodes = new List<BinaryExpr>();
        Expr current = chain;
        while (current is BinaryExpr binary && binary.Op == chain.Op)
        {
            nodes.Add(binary);
            current = binary.Left;
        }
        nodes.Reverse();
        var prec = Prec(chain);
        var indent = continuation ?? _out.LineIndent + Indent;
        Expr(current, prec, indent);
        foreach (var node in nodes)
        {
            if (Line(node.Left.Span.End - 1) != Line(node.Right.Span.Start)) _out.Break(indent, BlankLine.AsSource);
            else _out.Space();
            Token(Symbol(node.Op), node.OperatorSpan.Start);
            _out.Space();
            Expr(node.Right, prec + 1, null);
        }
    }

    /// <summary>`{ a = 1; b = 2 }` as written on one line, or one field per line with the `=` signs aligned.</summary>
    private void Record(RecordExpr record)
    {
        Token("{", record.Span.Start);
        if (record.Fields.Count > 0)
        {
            if (Line(record.Span.Start) == Line(record.Span.End - 1))
            {
                _out.Space();
                for (var i = 0; i < record.Fields.Count; i++)
                {
                    if (i > 0)
                    {
                        _out.Text(";");
                        _out.Space();
                    }
                    Field(record.Fields[i], 0, LambdaPrec);
                }
                _out.Space();
            }
            else
            {
                var outer = _out.LineIndent;
                var width = record.Fields.Max(f => f.Name.Name.Length);
                foreach (var field in record.Fields)
                {
                    _out.Break(outer + Indent, field == record.Fields[0] ? BlankLine.Never : BlankLine.AsSource);
                    Field(field, width, LambdaPrec);
                }
                _out.Break(outer, BlankLine.Never);
                Token("}", record.Span.End - 1, outer + Indent);
                return;
            }
        }
        Token("}", record.Span.End - 1);
    }

    /// <summary>`name = value`, the name padded to <paramref name="width"/>.</summary>
    private void Field(FieldInit field, int width, int valuePrec)
    {
        Name(field.Name);
        if (width > field.Name.Name.Length) _out.Text(new string(' ', width - field.Name.Name.Length));
        _out.Space();
        Token("=", Find(DlToken.Equals, field.Name.Span.End));
        _out.Space();
        Expr(field.Value, valuePrec, null);
    }

    /// <summary>`[ a; b ]` as written on one line, or one item per line.</summary>
    private void List(ListExpr list)
    {
        Token("[", list.Span.Start);
        if (list.Items.Count > 0)
        {
            if (Line(list.Span.Start) == Line(list.Span.End - 1))
            {
                _out.Space();
                for (var i = 0; i < list.Items.Count; i++)
                {
                    if (i > 0)
                    {
                        _out.Text(";");
                        _out.Space();
                    }
                    Expr(list.Items[i], LambdaPrec, null);
                }
                _out.Space();
            }
            else
            {
                var outer = _out.LineIndent;
                foreach (var item in list.Items)
                {
                    _out.Break(outer + Indent, item == list.Items[0] ? BlankLine.Never : BlankLine.AsSource);
                    Expr(item, LambdaPrec, null);
                }
                _out.Break(outer, BlankLine.Never);
                Token("]", list.Span.End - 1, outer + Indent);
                return;
            }
        }
        Token("]", list.Span.End - 1);
    }

    // ---- helpers -------------------------------------------------------------------------------------

    private void Token(string text, int position, int? commentIndent = null) => _out.Token(text, position, commentIndent);

    private void Name(Identifier name) => Token(name.Name, name.Span.Start);

    private int Line(int position) => _source.GetPosition(position).Line;

    /// <summary>The expression starts on a later line than <paramref name="position"/>.</summary>
    private bool OnLaterLine(int position, Expr expr) => Line(expr.Span.Start) > Line(position);

    /// <summary>Where the first token of <paramref name="kind"/> at or after <paramref name="from"/> starts.</summary>
    private int Find(DlToken kind, int from)
    {
        foreach (var token in _tokens)
        {
            if (token.Kind == kind && token.Position.Absolute >= from) return token.Position.Absolute;
        }
        return from;
    }

    /// <summary>A `let` sequence cannot be written on one line (nor a `fun` whose body is one).</summary>
    private static bool NeedsLines(Expr expr) => expr is LetExpr || (expr is LambdaExpr lambda && NeedsLines(lambda.Body));
}
