using System.Globalization;
using Dlc.Compiler.Ir;
using Dlc.Diagnostics;
using Dlc.Syntax;

namespace Dlc.Compiler.Elaboration;

public sealed partial class Elaborator
{
    public int ExpectPositiveInt(Value value, string what)
    {
        if (value is NumberValue { IsInteger: true } n && n.Number >= 1 && n.Number <= int.MaxValue) return (int)n.Number;
        var found = value is NumberValue num ? num.Number.ToString(CultureInfo.InvariantCulture) : value.Kind;
        var help = value switch
        {
            TensorValue => "a layer's settings come before the tensor: write `dense 10`, then pipe into it",
            StringValue s when int.TryParse(s.Text, NumberStyles.None, CultureInfo.InvariantCulture, out var number) => $"write the number without quotes: `{number}`",
            NumberValue { IsInteger: false } fraction => $"a count is a whole number: `{Math.Max(1, Math.Round(fraction.Number)).ToString(CultureInfo.InvariantCulture)}`",
            NumberValue => "a count is 1 or more",
            _ => $"write a whole number of 1 or more, such as 64; a name bound by `let hidden = 64` works too",
        };
        throw Error(DiagnosticCatalog.WrongArgumentType, value.Span, $"{what} must be a positive integer, found {found}", help);
    }

    public double ExpectNumber(Value value, string what) => value is NumberValue n
        ? n.Number
        : throw Error(DiagnosticCatalog.WrongArgumentType, value.Span, $"{what} must be a number, found {value.Kind}");

    public bool ExpectBool(Value value, string what) => value is BoolValue b
        ? b.Flag
        : throw Error(DiagnosticCatalog.WrongArgumentType, value.Span, $"`{what}` must be true or false, found {value.Kind}");

    public DiagnosticException UnknownOption(RecordEntry option, IReadOnlyList<string> known, string owner)
    {
        var suggestion = NameSuggestions.Closest(option.Name, known);
        return Error(DiagnosticCatalog.UnknownField, option.NameSpan, $"`{owner}` has no option `{option.Name}`",
            suggestion is null ? $"its options are {string.Join(", ", known.Select(k => $"`{k}`"))}" : $"did you mean `{suggestion}`?");
    }

    /// <summary>Check an argument against a parameter's declared type (`(channels: int)`, `(x: Tensor[N, 784])`).</summary>
    public void CheckArgument(string function, Parameter parameter, Value argument)
    {
        switch (parameter.Type)
        {
            case NamedType { Name.Name: "int" } when argument is not NumberValue { IsInteger: true }:
            case NamedType { Name.Name: "float" } when argument is not NumberValue:
            case NamedType { Name.Name: "bool" } when argument is not BoolValue:
                throw Error(DiagnosticCatalog.WrongArgumentType, argument.Span,
                    $"`{function}` takes `{parameter.Name.Name}` as {TypeName(parameter.Type)}, found {argument.Kind}");
            case TensorType t when argument is not TensorValue:
                throw Error(DiagnosticCatalog.WrongArgumentType, argument.Span,
                    $"`{function}` takes `{parameter.Name.Name}` as a tensor, found {argument.Kind}");
            case TensorType t when argument is TensorValue x && !Fits(ShapeOf(t), x.Shape):
                throw Error(DiagnosticCatalog.ShapeMismatch, argument.Span,
                    $"`{function}` takes `{parameter.Name.Name}` as {ShapeOf(t)}, but this is {x.Shape}");
        }
    }

    private static string TypeName(TypeSyntax type) => type switch
    {
        NamedType { Name.Name: "int" } => "an integer",
        NamedType { Name.Name: "float" } => "a number",
        NamedType { Name.Name: "bool" } => "a boolean",
        NamedType n => $"`{n.Name.Name}`",
        _ => "a tensor",
    };

    /// <summary>Symbols in a declared type match any size except where they have been fixed.</summary>
    private static bool Fits(Shape declared, Shape actual) =>
        declared.Rank == actual.Rank && declared.Dims.Zip(actual.Dims).All(p => p.First.IsSymbolic || p.First == p.Second);

    public static Shape ShapeOf(TensorType type) =>
        new(type.Dims.Select(d => d switch
        {
            DimConst c => Dim.Of(c.Value),
            DimVar v => Dim.Sym(v.Name),
            _ => throw new ArgumentException("unknown dimension syntax"),
        }));

    /// <summary>Bind a parameter (or a tuple pattern such as `(x, out)`) to an argument.</summary>
    public Env BindPattern(Env env, Parameter parameter, Value argument)
    {
        if (parameter.Elements is not { Count: > 1 } elements) return env.Bind(parameter.Name.Name, argument);
        if (argument is not TupleValue tuple || tuple.Items.Count != elements.Count)
            throw Error(DiagnosticCatalog.WrongArgumentType, argument.Span,
                $"expected a tuple of {elements.Count} to match `({string.Join(", ", elements.Select(e => e.Name.Name))})`, found {argument.Kind}");
        for (var i = 0; i < elements.Count; i++) env = BindPattern(env, elements[i], tuple.Items[i]);
        return env;
    }
}
