using Dlc.Compiler.Jobs;
using Dlc.Diagnostics;

namespace Dlc.Compiler.Tests;

/// <summary>What `check` accepts but the engine cannot run yet is DL0406 when a job runs, at the line that needs the engine.</summary>
public class CapabilityTests
{
    private static string Render(IEnumerable<Diagnostic> diagnostics) =>
        string.Join("\n", diagnostics.Select(d => DiagnosticRenderer.Render(d).TrimEnd()));

    [Fact]
    public void The_language_sketchs_cnn_and_its_whole_record_can_be_trained()
    {
        var file = Compile.Ok(LanguageSketchTests.FashionCnn);
        Capabilities.CheckTrain(file, file.Trains[0]).ShouldBeEmpty();
    }

    [Fact]
    public void A_layer_without_a_kernel_is_shown_at_its_source()
    {
        var file = Compile.Ok("model U (x: Tensor[N, 3, 8, 8]) : Tensor[N, 3, 16, 16] =\n    x\n    |> upsample 2 (mode = bilinear)\n");
        var d = Capabilities.FirstUnsupported(file.Elaborate("U", training: true), "trained").ShouldNotBeNull();
        Render([d]).ShouldBe("""
            error DL0406: `upsample` (line 3) cannot be trained by this version of dlc yet
              --> test.dl:3:8
               |
             3 |     |> upsample 2 (mode = bilinear)
               |        ^^^^^^^^^^^^^^^^^^^^^^^^^^^^
               = help: `dlc check` accepts it, but the engine has no kernel for `upsample` on Tensor[N, 3, 8, 8] yet
            """);
    }

    [Fact]
    public void The_mlp_can_be_trained()
    {
        var file = Compile.Ok(Compile.Mlp);
        Capabilities.CheckTrain(file, file.Trains[0]).ShouldBeEmpty();
        Should.NotThrow(() => Capabilities.EnsureTrainable(file, file.Trains[0]));
    }

    [Fact]
    public void Building_the_training_graph_of_a_model_without_kernels_reports_the_layer_rather_than_failing_later()
    {
        var file = Compile.Ok("model U (x: Tensor[N, 3, 8, 8]) : Tensor[N, 3, 16, 16] =\n    x |> upsample 2 (mode = bilinear)\n");
        var ex = Should.Throw<DiagnosticException>(() => TrainingGraph.Build(file.Elaborate("U", training: true), LossKind.Mse));
        ex.Diagnostics.ShouldHaveSingleItem().Message.ShouldBe("`upsample` (line 2) cannot be trained by this version of dlc yet");
    }

    [Fact]
    public void A_dense_layer_and_cross_entropy_over_a_sequence_can_be_trained()
    {
        var file = Compile.Ok("model S (x: Tensor[N, T, 16]) : Tensor[N, T, 4] =\n    x |> dense 4\n");
        Capabilities.FirstUnsupported(file.Elaborate("S", training: true), "trained").ShouldBeNull();
        Should.NotThrow(() => TrainingGraph.Build(file.Elaborate("S", training: true), LossKind.CrossEntropy));
    }

    [Fact]
    public void The_char_lm_of_the_language_sketch_can_be_trained()
    {
        var file = Compile.Ok(LanguageSketchTests.CharLm);
        Capabilities.CheckTrain(file, file.Trains[0]).ShouldBeEmpty();
    }

    [Fact]
    public void A_language_model_of_words_can_be_trained()
    {
        var file = Compile.Ok(LanguageSketchTests.CharLm.Replace("level = char", "level = word"));
        file.Trains[0].Data.Level.ShouldBe("word");
        Capabilities.CheckTrain(file, file.Trains[0]).ShouldBeEmpty();
    }

    [Fact]
    public void A_layer_of_an_imported_file_is_reported_in_that_file()
    {
        var file = Compile.WithFiles("import \"blocks.dl\"\n\nmodel M (x: Tensor[N, 1, 8, 8]) =\n    x |> block 4\n",
            ("blocks.dl", "let block (channels: int) =\n    upsample 2 (mode = bilinear) >> conv2d channels (kernel = 3)\n"));
        var d = Capabilities.FirstUnsupported(file.Elaborate("M", training: true), "trained").ShouldNotBeNull();
        d.Location.ShouldBe("blocks.dl:2:5");
    }

    [Fact]
    public void An_agent_cannot_be_trained_yet()
    {
        var file = Compile.Ok("model Q (s: Tensor[N, 4]) : Tensor[N, 2] =\n    s |> dense 2\n\nagent A { network = Q; env = cartPole }\n");
        Capabilities.CheckAgent(file, file.Agents[0]).Message.ShouldBe("`agent A` (line 4) cannot be trained by this version of dlc yet");
    }

    [Fact]
    public void A_declared_loss_is_pending_until_the_trainer_runs_it()
    {
        var file = Compile.Ok(LanguageSketchTests.Vae);
        Capabilities.CheckTrain(file, file.Trains[0]).Select(d => d.Message).ShouldBe(
        [
            "`loss = elbo` (line 11) cannot be trained by this version of dlc yet",
            "`sampleNormal` (line 5) cannot be trained by this version of dlc yet",
        ]);
    }
}
