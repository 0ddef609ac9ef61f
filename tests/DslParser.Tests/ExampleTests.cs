using Dlc.Syntax;
using static Dlc.DslParser.Tests.Parsing;

namespace Dlc.DslParser.Tests;

public class ExampleTests
{
    [Theory]
    [MemberData(nameof(Examples.Names), MemberType = typeof(Examples))]
    public void Every_example_of_the_language_sketch_parses_without_diagnostics(string name) =>
        Clean(Examples.All[name]).Declarations.ShouldNotBeEmpty();

    [Fact]
    public void The_fashion_mlp_file_has_a_let_a_documented_model_and_a_train_record()
    {
        var declarations = Clean(Examples.FashionMlp).Declarations;
        declarations.Count.ShouldBe(3);

        var hidden = declarations[0].ShouldBeOfType<LetDecl>();
        hidden.Name.Name.ShouldBe("hidden");
        Show(hidden.Body).ShouldBe("256");
        hidden.Doc.ShouldBeNull();

        var model = declarations[1].ShouldBeOfType<ModelDecl>();
        model.Doc.ShouldBe("784-256-256-10 with ReLU.");
        model.Parameters.Select(Show).ShouldBe(["(image: Tensor[N, 784])"]);
        Show(model.ReturnType!).ShouldBe("Tensor[N, 10]");
        Show(model.Body).ShouldBe("(|> (|> (|> (|> image (dense hidden)) relu) (>> (dense hidden) relu)) (dense 10))");

        var train = declarations[2].ShouldBeOfType<JobDecl>();
        train.Kind.ShouldBe(JobKind.Train);
        train.Name.Name.ShouldBe("FashionMlp");
        train.Settings.Fields.Select(Show).ShouldBe([
            "data=(fashionMnist {validation=0.1})", "loss=crossEntropy", "optimizer=(adam {lr=1e-3})",
            "epochs=5", "batch=128", "seed=42"]);
    }

    [Fact]
    public void A_conv_block_composes_layers_given_named_arguments()
    {
        var block = Clean(Examples.FashionCnn).Declarations[0].ShouldBeOfType<LetDecl>();
        block.Doc.ShouldBe("Fashion-MNIST classifier: two conv blocks and a small head.");
        block.Parameters.Select(Show).ShouldBe(["(channels: int)"]);
        Show(block.Body).ShouldBe("(>> (>> (>> ((conv2d channels) (named kernel=3 padding=1)) batchNorm) relu) (maxPool 2))");
    }

    [Fact]
    public void A_train_record_holds_lists_and_records_separated_by_semicolons_and_new_lines()
    {
        var train = Clean(Examples.FashionCnn).Declarations[2].ShouldBeOfType<JobDecl>();
        train.Settings.Fields.Count.ShouldBe(9);
        Show(train.Settings.Fields[2]).ShouldBe("optimizer=(adam {lr=1e-3; weightDecay=1e-4})");
        Show(train.Settings.Fields[7]).ShouldBe("metrics=[accuracy; (topK 3)]");
    }

    [Fact]
    public void A_sequence_of_lets_nests_and_ends_in_its_result()
    {
        var model = Single<ModelDecl>(Examples.ResidualMlp);
        Show(model.Body).ShouldBe(
            "(let h = (|> (|> x (dense 256)) relu) in " +
            "(let h = (+ h (paren (|> (|> h (dense 256)) relu))) in (|> h (dense 10))))");
    }

    [Fact]
    public void A_tensor_type_may_name_its_element_type()
    {
        var model = Clean(Examples.CharLm).Declarations[0].ShouldBeOfType<ModelDecl>();
        model.Parameters.Select(Show).ShouldBe(["(tokens: Tensor[N, T] of int)"]);
        Show(model.ReturnType!).ShouldBe("Tensor[N, T, 96]");
    }

    [Fact]
    public void A_model_may_return_a_record_and_a_loss_takes_a_tuple_pattern()
    {
        var declarations = Clean(Examples.Vae).Declarations;
        var vae = declarations[0].ShouldBeOfType<ModelDecl>();
        vae.ReturnType.ShouldBeNull();
        Show(vae.Body).ShouldEndWith("in {recon=recon; mu=mu; logVar=logVar}))))");

        var elbo = declarations[1].ShouldBeOfType<LossDecl>();
        var pattern = elbo.Parameters.ShouldHaveSingleItem();
        pattern.Name.Name.ShouldBe("x");
        pattern.Elements!.Select(p => p.Name.Name).ShouldBe(["x", "out"]);
        Show(elbo.Body).ShouldBe(
            "(+ (((binaryCrossEntropy (. out recon)) x) (named reduce=sum)) ((klNormal (. out mu)) (. out logVar)))");
    }

    [Fact]
    public void An_agent_record_separates_fields_by_semicolons_and_new_lines_alike()
    {
        var agent = Single<JobDecl>(Examples.Agent);
        agent.Kind.ShouldBe(JobKind.Agent);
        agent.Settings.Fields.Select(f => f.Name.Name).ShouldBe(
            ["network", "env", "algorithm", "replay", "gamma", "targetUpdate", "exploration"]);
        Show(agent.Settings.Fields[2].Value).ShouldBe("(dqn {double=true})");
        Show(agent.Settings.Fields[3].Value).ShouldBe("{capacity=50000; batch=64}");
    }

    [Fact]
    public void One_line_train_records_parse_with_strings_lists_and_empty_records()
    {
        Show(Single<JobDecl>(Examples.Gan).Settings.Fields[2].Value).ShouldBe("(fashionMnist {})");
        var declarations = Clean(Examples.Distillation).Declarations;
        Show(((JobDecl)declarations[1]).Settings.Fields[1].Value).ShouldBe("[\"FashionCnn.convBlock*\"]");
        Show(((JobDecl)declarations[0]).Settings.Fields[0].Value).ShouldBe(
            "{teacher=\"runs/teacher/model.safetensors\"; temperature=4.0; alpha=0.9}");
    }

    [Fact]
    public void Imports_lambdas_and_tuples_parse()
    {
        var declarations = Clean(Examples.Extras).Declarations;
        var import = declarations[0].ShouldBeOfType<ImportDecl>();
        import.Path.ShouldBe("blocks.dl");
        Show(declarations[1].ShouldBeOfType<LetDecl>().Body).ShouldBe("(fun f -> (>> f f))");
        Show(declarations[2].ShouldBeOfType<LetDecl>().Body).ShouldBe("(paren (, a b))");
    }
}
