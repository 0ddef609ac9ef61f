using System.Text;
using Dlc.Diagnostics;

namespace Dlc.Formatting;

/// <summary>Whether a line break may, must or must not be preceded by a blank line.</summary>
internal enum BlankLine
{
    /// <summary>Never: right after an opening bracket or a header, before a closing bracket.</summary>
    Never,

    /// <summary>One blank line when the source had at least one there (runs of them collapse to one).</summary>
    AsSource,

    /// <summary>Always one: between declarations.</summary>
    Always,
}

/// <summary>
/// Writes formatted text token by token and puts every comment of the source back where it was: each
/// comment is written just before the first token that followed it in the source, so it stays between
/// the same two tokens (which is also what keeps a `///` comment attached to its declaration). A comment
/// that ended a line in the source ends a line here; one on a line of its own gets a line of its own, at
/// the indentation of the line that follows it.
/// </summary>
internal sealed class SourceWriter(SourceText source, IReadOnlyList<TextSpan> comments)
{
    private const int IndentWidth = 4;

    private readonly StringBuilder _text = new();
    private int _nextComment;
    private int _lineIndent;
    private bool _lineEmpty = true;
    private (int Indent, BlankLine Blank)? _pendingBreak;
    private bool _pendingSpace;
    private int _lastEnd;

    /// <summary>
    /// The least indentation of a line a comment forces to break within brackets that always stay on one line
    /// (`Tensor[...]`): deeper than their first item, so the offside rule reads the line as a continuation.
    /// </summary>
    public int ContinuationFloor { get; set; }

    /// <summary>The column (from 0) the next token on this line would start at.</summary>
    public int Column
    {
        get
        {
            var start = _text.Length;
            while (start > 0 && _text[start - 1] != '\n') start--;
            return _text.Length - start + (_pendingSpace && !_lineEmpty ? 1 : 0);
        }
    }

    /// <summary>The indentation of the line being written.</summary>
    public int LineIndent => _pendingBreak?.Indent ?? _lineIndent;

    /// <summary>The next token starts a new line at <paramref name="indent"/>.</summary>
    public void Break(int indent, BlankLine blank)
    {
        _pendingBreak = _pendingBreak is { } earlier ? (indent, Max(earlier.Blank, blank)) : (indent, blank);
        _pendingSpace = false;
    }

    /// <summary>One space before the next token (unless it starts a line).</summary>
    public void Space() => _pendingSpace = true;

    /// <summary>
    /// Writes a token that starts at <paramref name="position"/> in the source, after the comments before it.
    /// Own-line comments before a closing bracket are indented like the lines inside the brackets
    /// (<paramref name="commentIndent"/>), not like the bracket.
    /// </summary>
    public void Token(string text, int position, int? commentIndent = null)
    {
        Comments(position, commentIndent);
        Write(text, position);
        _lastEnd = Math.Max(_lastEnd, position + text.Length);
    }

    /// <summary>Text with no place in the source (alignment padding, a separator the source may not have had).</summary>
    public void Text(string text)
    {
        StartElement(_lastEnd);
        _text.Append(text);
    }

    /// <summary>
    /// The comments that stay with the declaration above: written before <paramref name="before"/>,
    /// they end its last line or sit right under it, indented, with no blank line between.
    /// </summary>
    public void TailComments(int before)
    {
        while (_nextComment < comments.Count && comments[_nextComment].Start < before)
        {
            var comment = comments[_nextComment];
            var ownLine = OwnLine(comment);
            if (ownLine && (source.GetPosition(comment.Start).Column == 1 || BlankBetween(_lastEnd, comment.Start))) return;
            if (ownLine) Break(IndentWidth, BlankLine.Never);
            Comment(comment, null);
        }
    }

    /// <summary>Writes the comments left (at the end of the file) and returns the text, one `\n` at its end.</summary>
    public string Finish()
    {
        Comments(int.MaxValue, null);
        TrimLineEnd();
        if (_text.Length > 0) _text.Append('\n');
        return _text.ToString();
    }

    private void Comments(int before, int? ownLineIndent)
    {
        while (_nextComment < comments.Count && comments[_nextComment].Start < before) Comment(comments[_nextComment], ownLineIndent);
    }

    private void Comment(TextSpan span, int? ownLineIndent)
    {
        _nextComment++;
        var text = string.Join('\n', source.Slice(span).Split('\n').Select(line => line.TrimEnd()));
        if (OwnLine(span))
        {
            // A comment on its own line gets one here too; the line that follows it is indented as before.
            var next = _pendingBreak ?? (_lineEmpty ? (_lineIndent, BlankLine.AsSource) : (Continuation, BlankLine.Never));
            var indent = _pendingBreak is not null && ownLineIndent is { } inner ? inner : next.Indent;
            _pendingBreak = (indent, next.Blank);
            Write(text, span.Start);
            _pendingBreak = (next.Indent, BlankLine.AsSource);
        }
        else if (EndsLine(span))
        {
            // It ended a line, so it ends the line of the token written last; what follows starts a new line.
            var next = _pendingBreak ?? (Continuation, BlankLine.Never);
            _pendingBreak = null;
            if (!_lineEmpty) _text.Append(' ');
            _text.Append(text);
            _lineEmpty = false;
            _pendingBreak = next;
        }
        else
        {
            _pendingSpace = true;
            Write(text, span.Start);
            _pendingSpace = true;
        }
        _lastEnd = span.End;
    }

    private int Continuation => Math.Max(_lineIndent + IndentWidth, ContinuationFloor);

    private void Write(string text, int position)
    {
        StartElement(position);
        _text.Append(text);
        _lineEmpty = false;
    }

    private void StartElement(int position)
    {
        if (_pendingBreak is { } line)
        {
            _pendingBreak = null;
            _pendingSpace = false;
            if (_text.Length > 0)
            {
                TrimLineEnd();
                _text.Append('\n');
                if (line.Blank == BlankLine.Always || (line.Blank == BlankLine.AsSource && BlankBetween(_lastEnd, position))) _text.Append('\n');
            }
            _text.Append(' ', line.Indent);
            _lineIndent = line.Indent;
            _lineEmpty = true;
        }
        else if (_pendingSpace)
        {
            _pendingSpace = false;
            if (!_lineEmpty) _text.Append(' ');
        }
    }

    private void TrimLineEnd()
    {
        var end = _text.Length;
        while (end > 0 && _text[end - 1] == ' ') end--;
        _text.Length = end;
    }

    /// <summary>Nothing but white space before the comment on its line.</summary>
    private bool OwnLine(TextSpan comment)
    {
        for (var i = comment.Start - 1; i >= 0 && source.Text[i] != '\n'; i--)
        {
            if (!char.IsWhiteSpace(source.Text[i])) return false;
        }
        return true;
    }

    /// <summary>Nothing but white space after the comment on its line.</summary>
    private bool EndsLine(TextSpan comment)
    {
        for (var i = comment.End; i < source.Text.Length && source.Text[i] != '\n'; i++)
        {
            if (!char.IsWhiteSpace(source.Text[i])) return false;
        }
        return true;
    }

    /// <summary>A line holding only white space lies between the two positions.</summary>
    private bool BlankBetween(int from, int to)
    {
        if (to > source.Text.Length) to = source.Text.Length;
        var first = source.GetPosition(from).Line;
        var last = source.GetPosition(to).Line;
        for (var line = first + 1; line < last; line++)
        {
            if (string.IsNullOrWhiteSpace(source.GetLine(line))) return true;
        }
        return false;
    }

    private static BlankLine Max(BlankLine a, BlankLine b) => a > b ? a : b;
}
