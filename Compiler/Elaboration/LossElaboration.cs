using Dlc.Compiler.Ir;
using Dlc.Diagnostics;
using Dlc.Syntax;

namespace Dlc.Compiler.Elaboration;

/// <summary>
/// A loss written in the language, `loss elbo (x, out) = ...`, evaluated against a model: `x` is the batch
/// the model is given (a tuple when it takes several inputs), `out` its result (a tensor or a record).
/// The body must reduce to one number.
/// </summary>
internal static class LossElaboration
{
    public static int Build(Elaborator e, Module module, LossDecl loss, ModelDecl model, IReadOnlyList<TensorValue> inputs, Value result)
    {
        Value batch = inputs.Count == 1 ? inputs[0] : new TupleValue(inputs.ToArray(), model.Name.Span);
        var env = ModuleScope.Of(e, module);
        var parameters = loss.Parameters;
        if (parameters is [{ Elements.Count: 2 } pair])
            env = e.BindPattern(env, pair, new TupleValue([batch, result], loss.Name.Span));
        else if (parameters.Count == 2)
            env = e.BindPattern(e.BindPattern(env, parameters[0], batch), parameters[1], result);
        else
            throw e.Error(DiagnosticCatalog.WrongArgumentCount, parameters.Count > 0 ? parameters[0].Span : loss.Name.Span,
                $"`loss {loss.Name.Name}` must take the batch and the model's result",
                $"write `loss {loss.Name.Name} (x, out) = ...`: `x` is what `{model.Name.Name}` is given, `out` what it returns");

        var value = e.InSource(module.Source, () => e.Eval(loss.Body, env));
        var last = ModelElaboration.LastExpression(loss.Body).Span;
        return value switch
        {
            TensorValue { Shape.Rank: 0 } t => t.Node,
            TensorValue t => throw e.Error(DiagnosticCatalog.LossTargetMismatch, last,
                $"`loss {loss.Name.Name}` must reduce to one number, but this is {t.Shape}",
                "sum or average it, for example with `binaryCrossEntropy out.recon x (reduce = sum)`"),
            _ => throw e.Error(DiagnosticCatalog.WrongArgumentType, last, $"`loss {loss.Name.Name}` must give a tensor, but this is {value.Kind}"),
        };
    }
}
