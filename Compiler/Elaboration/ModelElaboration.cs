using Dlc.Compiler.Ir;
using Dlc.Diagnostics;
using Dlc.Syntax;

namespace Dlc.Compiler.Elaboration;

/// <summary>Turns one `model` declaration of a file into a <see cref="ModelGraph"/>.</summary>
public static class ModelElaboration
{
    public static ModelGraph Elaborate(SourceText source, CompilationUnit unit, ModelDecl model, bool training)
    {
        var e = new Elaborator(source, model.Name.Name, training);
        var env = TopLevel(e, unit);
        var inputs = new List<ModelInput>();
        foreach (var parameter in model.Parameters)
        {
            if (parameter.Type is not TensorType type)
                throw e.Error(DiagnosticCatalog.WrongArgumentType, parameter.Span,
                    $"the input `{parameter.Name.Name}` of `model {model.Name.Name}` needs a tensor type",
                    $"declare its shape, for example `({parameter.Name.Name}: Tensor[N, 784])`");
            var shape = Elaborator.ShapeOf(type);
            var node = e.Builder.Input(parameter.Name.Name, shape, parameter.Span);
            inputs.Add(new ModelInput(parameter.Name.Name, shape, type.ElementType?.Name == "int", parameter.Span));
            env = env.Bind(parameter.Name.Name, e.Tensor(node, $"the input `{parameter.Name.Name}`", parameter.Span, parameter.Span));
        }

        var result = e.Eval(model.Body, env);
        var outputs = new List<GraphOutput>();
        switch (result)
        {
            case TensorValue t:
                CheckDeclaredType(e, model, t);
                outputs.Add(new GraphOutput(ModelGraph.OutputName, t.Node));
                break;
            case RecordValue r when r.Fields.All(f => f.Value is TensorValue):
                foreach (var f in r.Fields) outputs.Add(new GraphOutput($"{ModelGraph.OutputName}.{f.Name}", ((TensorValue)f.Value).Node));
                break;
            default:
                throw e.Error(DiagnosticCatalog.WrongArgumentType, LastExpression(model.Body).Span,
                    $"`model {model.Name.Name}` must end in a tensor (or a record of tensors), but this is {result.Kind}",
                    result is LayerValue ? $"apply it to the input: `{model.Parameters.FirstOrDefault()?.Name.Name ?? "x"} |> ...`" : null);
        }
        foreach (var output in outputs) e.Builder.Output(output.Name, output.Node);
        e.FinishNames();
        return new ModelGraph(model.Name.Name, e.Builder.Build(), inputs, outputs, e.Rows, training);
    }

    /// <summary>Top-level lets, bound lazily so a model only evaluates what it uses.</summary>
    private static Env TopLevel(Elaborator e, CompilationUnit unit)
    {
        var env = Env.Empty;
        foreach (var let in unit.Declarations.OfType<LetDecl>())
        {
            var scope = env;
            env = let.Parameters.Count > 0
                ? env.Bind(let.Name.Name, new FunctionValue(new Closure(let.Name.Name, let.Parameters, let.Body, scope, [], let.Span), let.Span))
                : env.BindLazy(let.Name.Name, () => e.EvalBinding(let.Name.Name, let.Body, scope));
        }
        return env;
    }

    private static void CheckDeclaredType(Elaborator e, ModelDecl model, TensorValue result)
    {
        if (model.ReturnType is not TensorType declaredType) return;
        var declared = Elaborator.ShapeOf(declaredType);
        if (declared == result.Shape) return;
        var line = e.Source.GetPosition(result.ProducerSpan.Start).Line;
        var help = result.Shape.Rank > 2 && declared.Rank == 2
            ? $"the result still has {result.Shape.Rank} dimensions; add `|> flatten` before the classifier head"
            : $"the result comes from {result.Producer} (line {line})";
        throw e.Error(DiagnosticCatalog.ReturnShapeMismatch, result.ProducerSpan,
            $"`model {model.Name.Name}` returns {result.Shape}, but its type says {declared}", help);
    }

    private static Expr LastExpression(Expr body) => body is LetExpr let ? LastExpression(let.Body) : body;
}
