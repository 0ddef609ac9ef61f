using System.Globalization;
using System.Text;
using Dlc.Diagnostics;

namespace Dlc.Compiler.Ir;

/// <summary>A line of IR text that <see cref="IrParser"/> cannot read; <see cref="Line"/> is 1-based.</summary>
public sealed class IrParseException(int line, string message) : Exception($"line {line}: {message}")
{
    public int Line { get; } = line;
}

/// <summary>
/// Reads the text <see cref="IrPrinter"/> writes back into a graph: parse(print(g)) is g, node for node,
/// with its parameters (initialisation, trainable or state), outputs and source spans. Shapes are read as
/// written; <see cref="IrVerifier"/> checks them against each op's shape rule.
/// </summary>
public static class IrParser
{
    public static Graph Parse(string text)
    {
        var nodes = new List<Node>();
        var parameters = new List<ParameterInfo>();
        var outputs = new List<GraphOutput>();
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = new LineReader(StripComment(lines[i]), i + 1);
            if (line.AtEnd) continue;
            if (line.TryWord("out"))
            {
                var name = line.Until('=').Trim();
                line.Expect('=');
                var id = line.NodeRef();
                if (id >= nodes.Count) throw line.Error($"output `{name}` refers to %{id}, which is not defined");
                line.ExpectEnd();
                outputs.Add(new GraphOutput(name, id));
                continue;
            }
            var node = ReadNode(line, nodes, out var parameter);
            nodes.Add(node);
            if (parameter is not null) parameters.Add(parameter);
        }
        return new Graph(nodes, parameters, outputs);
    }

    private static Node ReadNode(LineReader line, List<Node> nodes, out ParameterInfo? parameter)
    {
        var id = line.NodeRef();
        if (id != nodes.Count) throw line.Error($"expected node %{nodes.Count} next, found %{id}");
        line.Expect('=');
        var opName = line.Word();
        if (!OpTable.TryParse(opName, out var op)) throw line.Error($"unknown op `{opName}`");
        var attributes = new OpAttributes();
        Init? init = null;
        var trainable = true;
        while (!line.AtEnd && line.Peek is not ('%' or ':'))
        {
            var key = line.Word();
            if (!line.TryChar('='))
            {
                if (key == "state") trainable = false;
                else attributes = Flag(line, attributes, key);
                continue;
            }
            if (key == "init") init = ReadInit(line);
            else attributes = Value(line, attributes, key);
        }
        var inputs = new List<int>();
        while (line.Peek == '%')
        {
            var input = line.NodeRef();
            if (input >= id) throw line.Error($"%{id} uses %{input}, which is not defined before it");
            inputs.Add(input);
            if (!line.TryChar(',')) break;
        }
        line.Expect(':');
        var shape = ReadShape(line);
        TextSpan? origin = null;
        if (line.TryChar('@'))
        {
            var start = line.Integer();
            line.Expect('+');
            origin = new TextSpan(start, line.Integer());
        }
        line.ExpectEnd();
        parameter = null;
        if (op == Op.Parameter)
        {
            if (attributes.Name is null) throw line.Error("a parameter needs a name=\"...\"");
            parameter = new ParameterInfo(attributes.Name, id, shape, init ?? throw line.Error("a parameter needs init=..."), origin) { Trainable = trainable };
        }
        else if (init is not null || !trainable)
        {
            throw line.Error("only a parameter has init= or state");
        }
        return new Node(id, op, inputs.ToArray(), shape, attributes, origin);
    }

    private static OpAttributes Flag(LineReader line, OpAttributes a, string key) => key switch
    {
        "transA" => a with { TransA = true },
        "transB" => a with { TransB = true },
        "causal" => a with { Causal = true },
        "bidirectional" => a with { Bidirectional = true },
        "sequences" => a with { ReturnSequences = true },
        "packed" => a with { Packed = true },
        "training" => a with { Training = true },
        _ => throw line.Error($"unknown attribute `{key}`"),
    };

    private static OpAttributes Value(LineReader line, OpAttributes a, string key) => key switch
    {
        "name" => a with { Name = line.Quoted() },
        "value" => a with { Value = line.Number() },
        "momentum" => a with { Momentum = line.Number() },
        "kernel" => a with { Kernel = line.Ints() },
        "stride" => a with { Stride = line.Ints() },
        "pads" => a with { Padding = line.Ints() },
        "dilation" => a with { Dilation = line.Ints() },
        "outputPadding" => a with { OutputPadding = line.Ints() },
        "factor" => a with { Factor = line.Ints() },
        "groups" => a with { Groups = line.Integer() },
        "axis" => a with { Axis = line.Integer() },
        "heads" => a with { Heads = line.Integer() },
        "reduce" => a with
        {
            Reduce = line.Word() switch
            {
                "sum" => Reduction.Sum,
                "mean" => Reduction.Mean,
                var other => throw line.Error($"reduce must be sum or mean, not `{other}`"),
            },
        },
        "mode" => a with { Mode = line.Word() },
        _ => throw line.Error($"unknown attribute `{key}`"),
    };

    private static Init ReadInit(LineReader line)
    {
        var kind = line.Word();
        switch (kind)
        {
            case "zeros": return Init.Zeros;
            case "ones": return Init.Ones;
            case "normal": return new Init(InitKind.Normal);
            case "row_norm": return new Init(InitKind.RowNorm);
            case "uniform":
            {
                line.Expect('(');
                var fanIn = line.Integer();
                line.Expect(')');
                return new Init(InitKind.UniformFanIn, fanIn);
            }
            case "xavier":
            {
                line.Expect('(');
                var fanIn = line.Integer();
                line.Expect(',');
                var fanOut = line.Integer();
                line.Expect(')');
                return new Init(InitKind.XavierUniform, fanIn) { FanOut = fanOut };
            }
            default: throw line.Error($"unknown init `{kind}`");
        }
    }

    private static Shape ReadShape(LineReader line)
    {
        line.Expect('[');
        var dims = new List<Dim>();
        while (!line.TryChar(']'))
        {
            if (dims.Count > 0) line.Expect(',');
            dims.Add(char.IsAsciiDigit(line.Peek) ? Dim.Of(line.Integer()) : Dim.Sym(line.Word()));
        }
        return new Shape(dims);
    }

    private static string StripComment(string line)
    {
        var quoted = false;
        for (var i = 0; i < line.Length; i++)
        {
            if (line[i] == '\\' && quoted) i++;
            else if (line[i] == '"') quoted = !quoted;
            else if (line[i] == '#' && !quoted) return line[..i];
        }
        return line;
    }

    /// <summary>A cursor over one line that skips spaces between tokens.</summary>
    private sealed class LineReader(string text, int number)
    {
        private int _at;

        public bool AtEnd
        {
            get
            {
                SkipSpaces();
                return _at >= text.Length;
            }
        }

        public char Peek
        {
            get
            {
                SkipSpaces();
                return _at < text.Length ? text[_at] : '\0';
            }
        }

        public IrParseException Error(string message) => new(number, message);

        public bool TryChar(char c)
        {
            if (Peek != c) return false;
            _at++;
            return true;
        }

        public void Expect(char c)
        {
            if (!TryChar(c)) throw Error(AtEnd ? $"expected `{c}` at the end of the line" : $"expected `{c}`, found `{text[_at..]}`");
        }

        public void ExpectEnd()
        {
            if (!AtEnd) throw Error($"unexpected `{text[_at..].Trim()}`");
        }

        public bool TryWord(string word)
        {
            SkipSpaces();
            var end = _at + word.Length;
            if (string.CompareOrdinal(text, _at, word, 0, word.Length) != 0 || (end < text.Length && IsWordChar(text[end]))) return false;
            _at = end;
            return true;
        }

        public string Word()
        {
            SkipSpaces();
            var start = _at;
            while (_at < text.Length && IsWordChar(text[_at])) _at++;
            if (_at == start) throw Error(AtEnd ? "the line ends early" : $"expected a name, found `{text[_at..]}`");
            return text[start.._at];
        }

        public string Until(char c)
        {
            var end = text.IndexOf(c, _at);
            if (end < 0) throw Error($"expected `{c}`");
            var result = text[_at..end];
            _at = end;
            return result;
        }

        public int NodeRef()
        {
            Expect('%');
            return Integer();
        }

        public int Integer()
        {
            var token = Token(c => char.IsAsciiDigit(c) || c == '-');
            return int.TryParse(token, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
                ? value
                : throw Error($"expected a whole number, found `{token}`");
        }

        public double Number()
        {
            var token = Token(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '+' or '.');
            return double.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
                ? value
                : throw Error($"expected a number, found `{token}`");
        }

        public int[] Ints()
        {
            Expect('[');
            var values = new List<int>();
            while (!TryChar(']'))
            {
                if (values.Count > 0) Expect(',');
                values.Add(Integer());
            }
            return values.ToArray();
        }

        public string Quoted()
        {
            Expect('"');
            var sb = new StringBuilder();
            while (_at < text.Length && text[_at] != '"')
            {
                if (text[_at] == '\\' && _at + 1 < text.Length) _at++;
                sb.Append(text[_at++]);
            }
            if (_at >= text.Length) throw Error("a string without its closing quote");
            _at++;
            return sb.ToString();
        }

        private string Token(Func<char, bool> part)
        {
            SkipSpaces();
            var start = _at;
            while (_at < text.Length && part(text[_at])) _at++;
            return text[start.._at];
        }

        private void SkipSpaces()
        {
            while (_at < text.Length && char.IsWhiteSpace(text[_at])) _at++;
        }

        private static bool IsWordChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '_' or '.';
    }
}
