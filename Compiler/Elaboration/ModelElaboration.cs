using Dlc.Compiler.Ir;
using Dlc.Diagnostics;
using Dlc.Syntax;

namespace Dlc.Compiler.Elaboration;

/// <summary>Turns one `model` declaration of a file into a <see cref="ModelGraph"/>, with a declared loss when one is given.</summary>
public static class ModelElaboration
{
    /// <summary>The graph output a declared loss is written to.</summary>
    public const string LossOutput = "loss";

    public static ModelGraph Elaborate(Module module, ModelDecl model, bool training, LossDecl? loss = null)
    {
        var e = new Elaborator(module.Source, model.Name.Name, training);
        var env = ModuleScope.Of(e, module);
        var inputs = new List<ModelInput>();
        var inputValues = new List<TensorValue>();
        foreach (var parameter in model.Parameters)
        {
            if (parameter.Type is not TensorType type)
                throw e.Error(DiagnosticCatalog.WrongArgumentType, parameter.Span,
                    $"the input `{parameter.Name.Name}` of `model {model.Name.Name}` needs a tensor type",
                    $"declare its shape, for example `({parameter.Name.Name}: Tensor[N, 784])`");
            var shape = Elaborator.ShapeOf(type);
            var isIndex = type.ElementType?.Name == "int";
            if (type.ElementType is { } element && element.Name is not ("int" or "float"))
                throw e.Error(DiagnosticCatalog.WrongArgumentType, element.Span, $"a tensor holds `float` or `int`, not `{element.Name}`");
            var node = e.Builder.Input(parameter.Name.Name, shape, parameter.Span);
            inputs.Add(new ModelInput(parameter.Name.Name, shape, isIndex, parameter.Span));
            var value = e.Tensor(node, $"the input `{parameter.Name.Name}`", e.At(parameter.Span), parameter.Span) with { IsIndex = isIndex };
            inputValues.Add(value);
            env = env.Bind(parameter.Name.Name, value);
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
                if (model.ReturnType is TensorType declared)
                    throw e.Error(DiagnosticCatalog.ReturnShapeMismatch, LastExpression(model.Body).Span,
                        $"`model {model.Name.Name}` returns a record, but its type says {Elaborator.ShapeOf(declared)}",
                        "leave out the result type of a model that returns several tensors");
                foreach (var f in r.Fields) outputs.Add(new GraphOutput($"{ModelGraph.OutputName}.{f.Name}", ((TensorValue)f.Value).Node));
                break;
            default:
                throw e.Error(DiagnosticCatalog.WrongArgumentType, LastExpression(model.Body).Span,
                    $"`model {model.Name.Name}` must end in a tensor (or a record of tensors), but this is {result.Kind}",
                    result is LayerValue ? $"apply it to the input: `{model.Parameters.FirstOrDefault()?.Name.Name ?? "x"} |> ...`" : null);
        }
        foreach (var output in outputs) e.Builder.Output(output.Name, output.Node);
        if (loss is not null) e.Builder.Output(LossOutput, LossElaboration.Build(e, module, loss, model, inputValues, result));
        e.FinishNames();
        return new ModelGraph(model.Name.Name, e.Builder.Build(), inputs, outputs, e.Rows, training)
        {
            Source = module.Source,
            Span = model.Name.Span,
            NodeSources = e.NodeSources,
        };
    }

    private static void CheckDeclaredType(Elaborator e, ModelDecl model, TensorValue result)
    {
        if (model.ReturnType is not TensorType declaredType) return;
        var declared = Elaborator.ShapeOf(declaredType);
        if (declared == result.Shape) return;
        var help = result.Shape.Rank > 2 && declared.Rank == 2
            ? $"the result still has {result.Shape.Rank} dimensions; add `|> flatten` before the classifier head"
            : $"the result comes from {result.Producer} ({e.Where(result.ProducerSite)})";
        throw e.Error(DiagnosticCatalog.ReturnShapeMismatch, result.ProducerSite,
            $"`model {model.Name.Name}` returns {result.Shape}, but its type says {declared}", help);
    }

    internal static Expr LastExpression(Expr body) => body is LetExpr let ? LastExpression(let.Body) : body;
}
