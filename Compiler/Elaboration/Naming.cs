namespace Dlc.Compiler.Elaboration;

/// <summary>
/// Source-derived names of layer instances. Each instance or call of a user function sits in a scope;
/// at the end, siblings of the same kind are numbered from 1 when there is more than one
/// (`FashionCnn.convBlock1.conv2d`), and a layer bound by `let encoder = dense 64` takes the let's name.
/// </summary>
public sealed class NameScope
{
    private readonly List<object> _children = [];

    public NameScope(string baseName, NameScope? parent)
    {
        BaseName = baseName;
        Parent = parent;
        parent?._children.Add(this);
    }

    public string BaseName { get; }
    public NameScope? Parent { get; private set; }

    /// <summary>
    /// For the scope of a user function's call: where each of its parameters' arguments was written (the span
    /// of the argument's value), so a tool can trace a width back to the number at the call (`convBlock 32`).
    /// </summary>
    public IReadOnlyDictionary<string, Dlc.Diagnostics.TextSpan> Arguments { get; init; } = new Dictionary<string, Dlc.Diagnostics.TextSpan>();

    /// <summary>A name fixed by a `let` binding; it is not numbered.</summary>
    public string? FixedName { get; set; }

    public IReadOnlyList<object> Children => _children;

    public LayerInstance NewInstance(string kind) => new(kind, this);

    internal void Add(LayerInstance instance) => _children.Add(instance);

    /// <summary>The instances created directly or indirectly in this scope.</summary>
    public IEnumerable<LayerInstance> Instances() =>
        _children.SelectMany(c => c is NameScope s ? s.Instances() : [(LayerInstance)c]);

    /// <summary>Put this scope's children in its place in the parent (a `let` that turned out not to name a layer).</summary>
    public void Dissolve()
    {
        if (Parent is null) return;
        var index = Parent._children.IndexOf(this);
        Parent._children.RemoveAt(index);
        Parent._children.InsertRange(index, _children);
        foreach (var child in _children)
        {
            if (child is NameScope s) s.Parent = Parent;
            else ((LayerInstance)child).Scope = Parent;
        }
        _children.Clear();
    }

    public string Path => Parent is null ? BaseName : $"{Parent.Path}.{Parent.NameOf(this)}";

    internal string NameOf(object child)
    {
        var (baseName, fixedName) = child switch
        {
            NameScope s => (s.BaseName, s.FixedName),
            LayerInstance i => (i.Kind, i.FixedName),
            _ => throw new ArgumentException("not a child of a scope"),
        };
        if (fixedName is not null) return fixedName;
        var same = _children.Where(c => c switch
        {
            NameScope s => s.FixedName is null && s.BaseName == baseName,
            LayerInstance i => i.FixedName is null && i.Kind == baseName,
            _ => false,
        }).ToList();
        return same.Count == 1 ? baseName : baseName + (same.IndexOf(child) + 1);
    }
}

/// <summary>One layer instance: its parameters are named `{scope path}.{name}.{weight|bias|...}`.</summary>
public sealed class LayerInstance
{
    internal LayerInstance(string kind, NameScope scope)
    {
        Kind = kind;
        Scope = scope;
        scope.Add(this);
    }

    public string Kind { get; }
    public NameScope Scope { get; internal set; }
    public string? FixedName { get; set; }

    public string Path => $"{Scope.Path}.{Scope.NameOf(this)}";
}
