using Dlc.Compiler.Elaboration;
using Dlc.Diagnostics;

namespace Dlc.Compiler.Tests;

/// <summary>Compiles .dl text written in a test, as the CLI would.</summary>
internal static class Compile
{
    public static CompiledFile Text(string text, string path = "test.dl") => ProgramCompiler.Compile(new SourceText(path, text));

    /// <summary>Compiles `main.dl` with other files it may import, read from memory rather than the disk.</summary>
    public static CompiledFile WithFiles(string main, params (string Name, string Text)[] files)
    {
        var texts = files.ToDictionary(f => Path.GetFullPath(f.Name), f => f.Text);
        return ProgramCompiler.Compile(new SourceText("main.dl", main), path => texts.GetValueOrDefault(path));
    }

    /// <summary>Every diagnostic of a file, rendered as the user sees them.</summary>
    public static string Rendered(CompiledFile file) => string.Join("\n", file.Diagnostics.Select(d => DiagnosticRenderer.Render(d).TrimEnd()));

    public static CompiledFile Ok(string text)
    {
        var file = Text(text);
        file.Diagnostics.ShouldBeEmpty(string.Join("\n", file.Diagnostics.Select(d => DiagnosticRenderer.Render(d))));
        return file;
    }

    /// <summary>The one error a file produces, rendered as the user sees it.</summary>
    public static string Error(string text)
    {
        var file = Text(text);
        file.Diagnostics.Count.ShouldBe(1, string.Join("\n", file.Diagnostics.Select(d => DiagnosticRenderer.Render(d))));
        return DiagnosticRenderer.Render(file.Diagnostics[0]).TrimEnd();
    }

    public const string Mlp = """
        let hidden = 256

        model FashionMlp (image: Tensor[N, 784]) : Tensor[N, 10] =
            image
            |> dense hidden |> relu
            |> dense hidden |> relu
            |> dense 10

        train FashionMlp {
            data      = fashionMnist
            loss      = crossEntropy
            optimizer = adam { lr = 1e-3 }
            epochs    = 5
            batch     = 128
            seed      = 42
        }
        """;
}
