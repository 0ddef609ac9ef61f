using Dlc.Compiler.Ir;
using Dlc.Compiler.Jobs;

namespace Dlc.Compiler.Tests;

/// <summary>Every program of the language sketch checks, with PyTorch's shapes, parameter names and counts.</summary>
public class LanguageSketchTests
{
    /// <summary>The sketch's CNN, as the parser tests hold it (one copy of the text for both).</summary>
    public const string FashionCnn = Dlc.DslParser.Tests.Examples.FashionCnn;

    public const string CharLm = """
        model CharLm (tokens: Tensor[N, T] of int) : Tensor[N, T, 96] =
            tokens |> embedding 96 64 |> lstm 256 |> dense 96

        train CharLm {
            data = textCorpus { path = "/usr/share/..."; sequence = 128; level = char }
            loss = crossEntropy
            optimizer = adam { lr = 2e-3 }
            clip = 1.0
        }
        """;

    public const string Vae = """
        model Vae (x: Tensor[N, 784]) =
            let h = x |> dense 400 |> relu
            let mu = h |> dense 20
            let logVar = h |> dense 20
            let recon = sampleNormal mu logVar |> dense 400 |> relu |> dense 784 |> sigmoid
            { recon = recon; mu = mu; logVar = logVar }

        loss elbo (x, out) =
            binaryCrossEntropy out.recon x (reduce = sum) + klNormal out.mu out.logVar

        train Vae { data = fashionMnist; loss = elbo }
        """;

    [Fact]
    public void The_fashion_cnn_has_two_numbered_conv_blocks_with_pytorch_shaped_parameters()
    {
        var model = Compile.Ok(FashionCnn).Models.ShouldHaveSingleItem();
        model.OutputShape.ToString().ShouldBe("Tensor[N, 10]");
        model.Graph.Parameters.Select(p => $"{p.Name} {p.Shape}").Take(6).ShouldBe(
        [
            "FashionCnn.convBlock1.conv2d.weight Tensor[32, 1, 3, 3]",
            "FashionCnn.convBlock1.conv2d.bias Tensor[32]",
            "FashionCnn.convBlock1.batchNorm.weight Tensor[32]",
            "FashionCnn.convBlock1.batchNorm.bias Tensor[32]",
            "FashionCnn.convBlock1.batchNorm.running_mean Tensor[32]",
            "FashionCnn.convBlock1.batchNorm.running_var Tensor[32]",
        ]);
        model.Layers.Select(r => r.Output.ToString()).ShouldBe(
        [
            "Tensor[N, 32, 28, 28]", "Tensor[N, 32, 28, 28]", "Tensor[N, 32, 28, 28]", "Tensor[N, 32, 14, 14]",
            "Tensor[N, 64, 14, 14]", "Tensor[N, 64, 14, 14]", "Tensor[N, 64, 14, 14]", "Tensor[N, 64, 7, 7]",
            "Tensor[N, 3136]", "Tensor[N, 128]", "Tensor[N, 128]", "Tensor[N, 128]", "Tensor[N, 10]",
        ]);
        // As sum(p.numel() for p in model.parameters()) counts it: the running statistics are buffers.
        model.ParameterCount.ShouldBe(320 + 64 + 18_496 + 128 + 401_536 + 1_290);
        model.StateCount.ShouldBe(2 * (32 + 64) + 2);
    }

    [Fact]
    public void Running_statistics_are_saved_but_not_trained()
    {
        var model = Compile.Ok(FashionCnn).Models[0];
        model.Graph.Parameters.Where(p => !p.Trainable).Select(p => p.Name).ShouldBe(
        [
            "FashionCnn.convBlock1.batchNorm.running_mean", "FashionCnn.convBlock1.batchNorm.running_var",
            "FashionCnn.convBlock1.batchNorm.num_batches_tracked",
            "FashionCnn.convBlock2.batchNorm.running_mean", "FashionCnn.convBlock2.batchNorm.running_var",
            "FashionCnn.convBlock2.batchNorm.num_batches_tracked",
        ]);
    }

    [Fact]
    public void The_fashion_cnn_train_record_is_read_with_its_schedule_clip_and_metrics()
    {
        var spec = Compile.Ok(FashionCnn).Trains.ShouldHaveSingleItem();
        spec.Schedule.ShouldNotBeNull().Kind.ShouldBe("cosine");
        spec.Schedule.Warmup.ShouldBe(1);
        spec.Clip.ShouldBe(1.0);
        spec.Metrics.ShouldBe(["accuracy", "topK 3"]);
        spec.TopK!.K.ShouldBe(3);
        spec.Optimizer.WeightDecay.ShouldBe(1e-4);
        spec.Pending.ShouldBeEmpty();
    }

    [Fact]
    public void The_residual_mlp_adds_a_block_to_its_input()
    {
        var model = Compile.Ok("""
            model ResidualMlp (x: Tensor[N, 784]) : Tensor[N, 10] =
                let h = x |> dense 256 |> relu
                let h = h + (h |> dense 256 |> relu)
                h |> dense 10
            """).Models[0];
        model.Layers.Select(r => r.Layer).ShouldBe(["dense 256", "relu", "dense 256", "relu", "+", "dense 10"]);
        model.ParameterCount.ShouldBe(200_960 + 65_792 + 2_570);
    }

    [Fact]
    public void The_char_lm_keeps_the_sequence_axis_through_embedding_lstm_and_dense()
    {
        var file = Compile.Ok(CharLm);
        var model = file.Models[0];
        model.Inputs[0].IsIndex.ShouldBeTrue();
        model.Layers.Select(r => $"{r.Layer} {r.Output}").ShouldBe(
            ["embedding 96 64 Tensor[N, T, 64]", "lstm 256 Tensor[N, T, 256]", "dense 96 Tensor[N, T, 96]"]);
        model.Graph.Parameters.Select(p => $"{p.Name} {p.Shape}").ShouldBe(
        [
            "CharLm.embedding.weight Tensor[96, 64]",
            "CharLm.lstm.weight_ih_l0 Tensor[1024, 64]",
            "CharLm.lstm.weight_hh_l0 Tensor[1024, 256]",
            "CharLm.lstm.bias_ih_l0 Tensor[1024]",
            "CharLm.lstm.bias_hh_l0 Tensor[1024]",
            "CharLm.dense.weight Tensor[96, 256]",
            "CharLm.dense.bias Tensor[96]",
        ]);
        var spec = file.Trains[0];
        spec.Data.Kind.ShouldBe(DataKind.TextCorpus);
        (spec.Data.Sequence, spec.Data.Level).ShouldBe((128, "char"));
        spec.Pending.ShouldBeEmpty();
    }

    [Fact]
    public void The_vae_returns_a_record_and_its_elbo_loss_reduces_to_one_number()
    {
        var file = Compile.Ok(Vae);
        var model = file.Models[0];
        model.Outputs.Select(o => $"{o.Name} {model.Graph[o.Node].Shape}").ShouldBe(
            ["output.recon Tensor[N, 784]", "output.mu Tensor[N, 20]", "output.logVar Tensor[N, 20]"]);
        var spec = file.Trains[0];
        (spec.Loss, spec.LossName).ShouldBe((LossKind.Declared, "elbo"));
        var withLoss = file.Elaborate("Vae", "elbo", training: true);
        var loss = withLoss.Graph[withLoss.Graph.Output("loss")];
        loss.Op.ShouldBe(Op.Add);
        loss.Shape.ShouldBe(Shape.Scalar);
        withLoss.Graph.Nodes.Single(n => n.Op == Op.BinaryCrossEntropy).Attributes.Reduce.ShouldBe(Reduction.Sum);
        withLoss.Graph.Nodes.Single(n => n.Op == Op.KlNormal).Attributes.Reduce.ShouldBe(Reduction.Sum);
    }

    [Fact]
    public void A_gan_an_agent_a_distilled_student_and_a_fine_tuned_classifier_check()
    {
        var file = Compile.Ok("""
            model Generator (z: Tensor[N, 64]) : Tensor[N, 784] =
                z |> dense 256 |> relu |> dense 784 |> sigmoid
            model Discriminator (image: Tensor[N, 784]) : Tensor[N, 1] =
                image |> dense 256 |> relu |> dense 1
            model QNet (state: Tensor[N, 4]) : Tensor[N, 2] =
                state |> dense 64 |> relu |> dense 2
            model Student (image: Tensor[N, 784]) : Tensor[N, 10] =
                image |> dense 10
            let convBlock (channels: int) = conv2d channels (kernel = 3, padding = 1) >> relu >> maxPool 2
            model Classifier (image: Tensor[N, 1, 28, 28]) : Tensor[N, 10] =
                image |> convBlock 8 |> flatten |> dense 10

            train gan { generator = Generator; discriminator = Discriminator; data = fashionMnist {} }

            agent CartPoleDqn {
                network = QNet; env = cartPole; algorithm = dqn { double = true }
                replay = { capacity = 50000; batch = 64 }; gamma = 0.99; targetUpdate = 500
                exploration = linear { start = 1.0; stop = 0.05; steps = 10000 }
            }

            train Student { distill = { teacher = "runs/teacher/model.safetensors"; temperature = 4.0; alpha = 0.9 } }
            train Classifier { from = "runs/pretrained/model.safetensors"; freeze = [ "FashionCnn.convBlock*" ] }
            """);
        file.Trains.Select(t => $"{t.Model}: {string.Join(", ", t.Pending.Select(p => p.What))}").ShouldBe(
            ["gan: generator", "Student: distill", "Classifier: from, freeze"]);
        file.Trains[0].Gan.ShouldBe(file.Trains[0].Gan! with { Generator = "Generator", Discriminator = "Discriminator" });
        file.Trains[1].Distill!.TeacherPath.ShouldBe("runs/teacher/model.safetensors");
        file.Trains[1].Data.Kind.ShouldBe(DataKind.None);
        file.Trains[2].Freeze.Select(f => f.Pattern).ShouldBe(["FashionCnn.convBlock*"]);
        var agent = file.Agents.ShouldHaveSingleItem();
        (agent.Network, agent.Environment.Name, agent.Double, agent.ReplayCapacity, agent.TargetUpdate).ShouldBe(("QNet", "cartPole", true, 50000, 500));
        agent.Exploration.ShouldBe(new ExplorationSpec("linear", 1.0, 0.05, 10000));
    }
}
