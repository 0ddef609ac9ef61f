using Superpower.Display;

namespace Dlc.Syntax;

/// <summary>
/// The kinds of token in a .dl file. The attributes give the text Superpower (and <see cref="TokenText"/>)
/// show in messages, so an error reads "unexpected `)`, expected an expression" rather than naming enum members.
/// </summary>
public enum DlToken
{
    None,

    [Token(Category = "identifier", Description = "a name")]
    Identifier,

    [Token(Category = "number", Description = "a number")]
    Number,

    [Token(Category = "string", Description = "a string")]
    String,

    [Token(Description = "a `///` doc comment")]
    DocComment,

    [Token(Category = "keyword", Example = "let")]
    Let,

    [Token(Category = "keyword", Example = "model")]
    Model,

    [Token(Category = "keyword", Example = "train")]
    Train,

    [Token(Category = "keyword", Example = "loss")]
    Loss,

    [Token(Category = "keyword", Example = "agent")]
    Agent,

    [Token(Category = "keyword", Example = "import")]
    Import,

    [Token(Category = "keyword", Example = "fun")]
    Fun,

    [Token(Category = "keyword", Example = "of")]
    Of,

    [Token(Category = "keyword", Example = "true")]
    True,

    [Token(Category = "keyword", Example = "false")]
    False,

    [Token(Example = "|>")]
    PipeRight,

    [Token(Example = ">>")]
    Compose,

    [Token(Example = "->")]
    Arrow,

    [Token(Example = "+")]
    Plus,

    [Token(Example = "-")]
    Minus,

    [Token(Example = "*")]
    Star,

    [Token(Example = "/")]
    Slash,

    [Token(Example = "=")]
    Equals,

    [Token(Example = ":")]
    Colon,

    [Token(Example = ",")]
    Comma,

    [Token(Example = ";")]
    Semicolon,

    [Token(Example = ".")]
    Dot,

    [Token(Example = "(")]
    LParen,

    [Token(Example = ")")]
    RParen,

    [Token(Example = "[")]
    LBracket,

    [Token(Example = "]")]
    RBracket,

    [Token(Example = "{")]
    LBrace,

    [Token(Example = "}")]
    RBrace,

    /// <summary>Inserted by the layout pass: a new line that starts the next field or item of a `{ }` or `[ ]`.</summary>
    [Token(Description = "a new line")]
    Newline,

    /// <summary>Inserted by the layout pass: the line at a `let`'s column that starts the expression the `let` scopes over.</summary>
    [Token(Description = "the body of the `let` on the next line, at its column")]
    In,
}
