using Dlc.Diagnostics;
using Superpower.Model;
using TextSpan = Dlc.Diagnostics.TextSpan;

namespace Dlc.Syntax;

/// <summary>The syntax tree of a file and what was wrong with it; declarations with errors are left out.</summary>
public sealed record ParseResult(CompilationUnit Unit, IReadOnlyList<Diagnostic> Diagnostics)
{
    public bool HasErrors => Diagnostics.Any(d => d.IsError);
}

/// <summary>
/// Parses .dl files: lexer, then one declaration at a time (split at column 1), the offside rule, then the
/// grammar. Never throws: every problem becomes a diagnostic, at most one per declaration, so a file
/// with mistakes in several declarations reports them all.
/// </summary>
public static class DlParser
{
    // The grammar recurses once per nesting level; a thread of its own keeps deep but legal input
    // (long pipelines, many parentheses) far from the default stack's limit.
    private const int StackSize = 64 * 1024 * 1024;

    public static ParseResult Parse(SourceText source)
    {
        ArgumentNullException.ThrowIfNull(source);
        ParseResult? result = null;
        var thread = new Thread(() => result = ParseOnThisThread(source), StackSize) { Name = "dl parser" };
        thread.Start();
        thread.Join();
        return result ?? Failed(source, new InvalidOperationException("the parser thread ended without a result"));
    }

    private static ParseResult ParseOnThisThread(SourceText source)
    {
        try
        {
            var declarations = new List<Declaration>();
            var diagnostics = new List<Diagnostic>();
            var (tokens, lexErrors) = Lexer.Lex(source);
            var chunks = Chunker.Split(source, tokens, lexErrors);
            for (var i = 0; i < chunks.Count; i++)
            {
                try
                {
                    ParseChunk(source, chunks[i], i == chunks.Count - 1, declarations, diagnostics);
                }
                catch (Exception e)
                {
                    diagnostics.Add(Internal(source, TokenFacts.SpanOf(chunks[i].Tokens.FirstOrDefault()), e));
                }
            }
            return new ParseResult(new CompilationUnit(declarations, new TextSpan(0, source.Text.Length)), diagnostics);
        }
        catch (Exception e)
        {
            return Failed(source, e);
        }
    }

    private static void ParseChunk(SourceText source, Chunk chunk, bool last, List<Declaration> declarations, List<Diagnostic> diagnostics)
    {
        if (!chunk.IsDeclaration)
        {
            if (chunk.Error is not null) diagnostics.Add(chunk.Error);
            return;
        }
        var (tokens, layoutError) = Layout.Apply(source, chunk);
        // Layout stops at the chunk's own error, so its error (if any) comes first in the text.
        var earlier = layoutError ?? chunk.Error;
        var result = DlGrammar.TopLevel(new TokenList<DlToken>(tokens));
        if (result.HasValue && earlier is null)
            declarations.Add(chunk.Doc is null ? result.Value : result.Value with { Doc = chunk.Doc });
        else if (earlier is not null && (result.HasValue || result.Remainder.IsAtEnd))
            diagnostics.Add(earlier);
        else
            diagnostics.Add(SyntaxErrors.FromFailure(source, chunk, tokens, result, last));
    }

    private static ParseResult Failed(SourceText source, Exception e) =>
        new(new CompilationUnit([], new TextSpan(0, source.Text.Length)), [Internal(source, new TextSpan(0, 0), e)]);

    private static Diagnostic Internal(SourceText source, TextSpan span, Exception e) =>
        DiagnosticCatalog.UnexpectedToken.At(source, span, $"the parser could not read this declaration ({e.GetType().Name}: {e.Message})",
            "this is a bug in dlc; please report it with the file that caused it");
}
