using Dlc.Diagnostics;
using Dlc.Syntax;

namespace Dlc.Compiler.Elaboration;

/// <summary>Names in scope while elaborating: an immutable chain, innermost binding first.</summary>
public sealed class Env
{
    private readonly Env? _parent;
    private readonly string? _name;
    private readonly Func<Value>? _value;

    private Env(Env? parent, string? name, Func<Value>? value)
    {
        _parent = parent;
        _name = name;
        _value = value;
    }

    public static Env Empty { get; } = new(null, null, null);

    public Env Bind(string name, Value value) => new(this, name, () => value);

    /// <summary>Bind a value computed on first use (top-level lets, so unused ones cost nothing).</summary>
    public Env BindLazy(string name, Func<Value> value)
    {
        Value? cached = null;
        return new Env(this, name, () => cached ??= value());
    }

    public bool TryLookup(string name, out Value value)
    {
        for (var env = this; env is not null; env = env._parent)
        {
            if (env._name == name)
            {
                value = env._value!();
                return true;
            }
        }
        value = null!;
        return false;
    }

    public IEnumerable<string> Names
    {
        get
        {
            for (var env = this; env is not null; env = env._parent)
            {
                if (env._name is not null) yield return env._name;
            }
        }
    }
}

/// <summary>
/// A user function (`let convBlock (channels: int) = ...` or `fun x -> ...`) with the names it closed
/// over and the file it was written in, so errors in its body point into that file.
/// </summary>
public sealed class Closure(string name, IReadOnlyList<Parameter> parameters, Expr body, Env env, Value[] collected, SourceText source)
    : Callable
{
    public override string Name => name;

    public override Value Apply(Elaborator e, Value argument, TextSpan span)
    {
        var parameter = parameters[collected.Length];
        e.CheckArgument(name, parameter, argument);
        Value[] args = [.. collected, argument];
        if (args.Length < parameters.Count)
            return new FunctionValue(new Closure(name, parameters, body, env, args, source), span);

        // The arguments were written by the caller, so a pattern that does not fit is reported there.
        var scope = env;
        for (var i = 0; i < parameters.Count; i++) scope = e.BindPattern(scope, parameters[i], args[i]);
        var written = new Dictionary<string, TextSpan>(StringComparer.Ordinal);
        for (var i = 0; i < parameters.Count; i++)
        {
            if (parameters[i].Elements is null) written[parameters[i].Name.Name] = args[i].Span;
        }
        return e.InSource(source, () => e.InScope(name, () => e.Eval(body, scope), written));
    }
}
