namespace Dlc.Compiler.Tests;

/// <summary>Every file under examples/ checks without a diagnostic, imports included.</summary>
public class ExampleFileTests
{
    public static TheoryData<string> Names => new(Examples.Files.Select(Path.GetFileName)!);

    [Theory]
    [MemberData(nameof(Names))]
    public void Every_example_checks_cleanly(string name)
    {
        var file = Examples.Compile(name);
        Examples.Render(file).ShouldBeEmpty();
        file.Models.ShouldNotBeEmpty();
    }

    [Fact]
    public void The_fashion_cnn_example_is_the_sketch_model()
    {
        var model = Examples.Compile("fashion_cnn.dl").Models.ShouldHaveSingleItem();
        model.ParameterCount.ShouldBe(421_834);
        model.Layers[0].Name.ShouldBe("FashionCnn.convBlock1.conv2d");
    }

    [Fact]
    public void The_residual_example_uses_a_block_of_its_imported_library()
    {
        var model = Examples.Compile("residual_mlp.dl").Models[0];
        var row = model.Layers.Single(r => r.Name == "ResidualMlp.hiddenBlock.dense");
        Path.GetFileName(row.Origin.Source.Path).ShouldBe("blocks.dl");
    }
}
