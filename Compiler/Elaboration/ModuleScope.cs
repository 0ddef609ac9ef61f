using Dlc.Syntax;

namespace Dlc.Compiler.Elaboration;

/// <summary>
/// The names a file's code sees at its top level: the top-level lets of the files it imports (not what
/// those import in turn), then its own, which shadow them. Values are made on first use, in the file
/// that wrote them, so errors in an imported let are reported in that file.
/// </summary>
internal static class ModuleScope
{
    public static Env Of(Elaborator e, Module module)
    {
        if (e.ModuleEnvironments.TryGetValue(module, out var cached)) return cached;
        var env = Env.Empty;
        foreach (var import in module.Imports)
        {
            var imported = Of(e, import);
            foreach (var let in Lets(import))
            {
                var name = let.Name.Name;
                env = env.BindLazy(name, () => imported.TryLookup(name, out var value) ? value : throw new InvalidOperationException($"`{name}` vanished"));
            }
        }
        foreach (var let in Lets(module))
        {
            var scope = env;
            env = let.Parameters.Count > 0
                ? env.Bind(let.Name.Name, new FunctionValue(new Closure(let.Name.Name, let.Parameters, let.Body, scope, [], module.Source), let.Span))
                : env.BindLazy(let.Name.Name, () => e.InSource(module.Source, () => e.EvalBinding(let.Name.Name, let.Body, scope)));
        }
        e.ModuleEnvironments[module] = env;
        return env;
    }

    private static IEnumerable<LetDecl> Lets(Module module) => module.Unit.Declarations.OfType<LetDecl>();
}
