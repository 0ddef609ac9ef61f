using Dlc.Compiler.Jobs;

namespace Dlc.Compiler.Tests;

/// <summary>Train and agent records of the wider language: read and checked by `check`, with exact diagnostics for mistakes.</summary>
public class RecordTests
{
    private const string Mlp = "model M (x: Tensor[N, 784]) : Tensor[N, 10] =\n    x |> dense 10\n\n";

    [Fact]
    public void A_misspelt_schedule_option_suggests_the_right_one()
    {
        Compile.Error(Mlp + "train M {\n    data = fashionMnist\n    schedule = cosine { warmpu = 1 }\n}\n").ShouldBe("""
            error DL0203: `cosine` has no field `warmpu`
              --> test.dl:6:25
               |
             6 |     schedule = cosine { warmpu = 1 }
               |                         ^^^^^^
               = help: did you mean `warmup`?
            """);
    }

    [Fact]
    public void A_misspelt_distill_field_suggests_the_right_one()
    {
        Compile.Error(Mlp + "train M { distill = { teacher = \"t.safetensors\"; alpah = 0.9 } }\n")
            .ShouldStartWith("error DL0203: `distill` has no field `alpah`\n  --> test.dl:4:50");
    }

    [Theory]
    [InlineData("clip = 0", "error DL0402: `clip` must be above 0, found 0")]
    [InlineData("schedule = cosine { warmup = 10 }", "error DL0402: a warm-up of 10 epochs leaves none of the 10 epochs for the schedule")]
    [InlineData("schedule = linear", "error DL0402: `linear` is not a learning-rate schedule")]
    [InlineData("metrics = [ accuracy; topK ]", "error DL0402: `topK` needs the number of guesses that count")]
    [InlineData("metrics = [ accuracy; topK 12 ]", "error DL0402: `topK 12` needs at least 12 classes, but `M` scores 10")]
    [InlineData("freeze = [ \"M.conv*\" ]", "error DL0402: \"M.conv*\" matches no parameter of `M`")]
    [InlineData("distill = { teacher = 4 }", "error DL0402: `teacher` must be a non-empty string, found 4")]
    [InlineData("generator = M", "error DL0401: `train M` has a `generator` but no `discriminator`")]
    [InlineData("earlyStopping = { patience = 0 }", "error DL0402: `patience` must be an integer of 1 or more, found 0")]
    [InlineData("loss = elbo", "error DL0201: `elbo` is not defined")]
    public void Values_of_the_wider_train_record_are_checked(string field, string error)
    {
        Compile.Error(Mlp + $"train M {{\n    data = fashionMnist\n    {field}\n}}\n").ShouldStartWith(error);
    }

    [Fact]
    public void Text_data_for_a_model_of_numbers_says_how_to_declare_indices()
    {
        Compile.Error(Mlp + "train M { data = textCorpus { path = \"a.txt\" } }\n").ShouldBe("""
            error DL0405: `textCorpus` gives sequences of token indices, but `M` takes Tensor[N, 784] of numbers
              --> test.dl:4:18
               |
             4 | train M { data = textCorpus { path = "a.txt" } }
               |                  ^^^^^^^^^^
               = help: declare the input as indices: `(x: Tensor[N, T] of int)`, then `|> embedding vocabulary dim`
            """);
    }

    private const string Tagger = "model T (x: Tensor[N, T] of int) : Tensor[N, T, 12] =\n    x |> embedding 100 8 (maskZero = true) |> lstm 8 |> dense 12\n\n";

    [Fact]
    public void A_tagging_record_reads_the_task_the_tagset_and_the_vocabulary_options()
    {
        var file = Compile.Ok(Tagger + "train T { data = brownCorpus { task = tags; tagset = universal; lowercase = true; minCount = 2; maxVocabulary = 100 } }\n");
        var data = file.Trains[0].Data;
        (data.Kind, data.Task, data.Tagset, data.Level, data.Lowercase, data.MinCount, data.MaxVocabulary, data.IsTagging)
            .ShouldBe((DataKind.BrownCorpus, "tags", "universal", "word", true, 2, 100, true));
        Capabilities.CheckTrain(file, file.Trains[0]).ShouldBeEmpty();
        Compile.Ok(Tagger + "train T { data = brownCorpus { task = tags } }\n").Trains[0].Data.Tagset.ShouldBe("universal");
    }

    [Fact]
    public void A_genre_record_reads_windows_of_words_64_unless_given()
    {
        const string classifier = "model G (x: Tensor[N, T] of int) : Tensor[N, 15] =\n    x |> embedding 100 8 (maskZero = true) |> sequenceMean |> dense 15\n\n";
        var file = Compile.Ok(classifier + "train G { data = brownCorpus { task = genre; lowercase = true } }\n");
        var data = file.Trains[0].Data;
        (data.Task, data.Level, data.Sequence, data.IsGenre, data.IsTagging).ShouldBe(("genre", "word", 64, true, false));
        Capabilities.CheckTrain(file, file.Trains[0]).ShouldBeEmpty();
        Compile.Ok(classifier + "train G { data = brownCorpus { task = genre; sequence = 200 } }\n").Trains[0].Data.Sequence.ShouldBe(200);
    }

    [Theory]
    [InlineData("task = tags; level = char", "error DL0402: `task = tags` tags words, so it reads the corpus as words")]
    [InlineData("task = tags; sequence = 64", "error DL0402: `task = tags` takes whole sentences, each of its own length (a batch is padded to its longest)")]
    [InlineData("tagset = universal", "error DL0402: `tagset` chooses the tags of `task = tags`")]
    [InlineData("task = universal", "error DL0402: `task` must be `tags` or `genre`, found `universal`")]
    [InlineData("task = genre; level = char", "error DL0402: `task = genre` reads windows of words, so it reads the corpus as words")]
    [InlineData("task = tags; tagset = tags", "error DL0402: `tagset` must be `universal`, found `tags`")]
    [InlineData("task = tags; maxVocabulary = 2", "error DL0402: `maxVocabulary` must be an integer of 3 or more, found 2")]
    [InlineData("minCount = 2", "error DL0402: `minCount` limits a vocabulary of words or tokens, but this corpus is read as characters (every character is kept)")]
    [InlineData("level = char; maxVocabulary = 100", "error DL0402: `maxVocabulary` limits a vocabulary of words or tokens, but this corpus is read as characters")]
    public void Mistakes_in_a_tagging_record_are_reported_at_their_field(string fields, string error)
    {
        Compile.Error(Tagger + $"train T {{ data = brownCorpus {{ {fields} }} }}\n").ShouldStartWith(error);
    }

    [Fact]
    public void A_misspelt_field_of_a_loss_result_suggests_the_field()
    {
        Compile.Error(LanguageSketchTests.Vae.Replace("out.recon x", "out.recn x")).ShouldBe("""
            error DL0203: the record has no field `recn`
              --> test.dl:9:28
               |
             9 |     binaryCrossEntropy out.recn x (reduce = sum) + klNormal out.mu out.logVar
               |                            ^^^^
               = help: did you mean `recon`?
            """);
    }

    [Fact]
    public void A_declared_loss_must_reduce_to_one_number()
    {
        Compile.Error(Mlp + "loss half (x, out) =\n    out * 0.5\n\ntrain M { data = fashionMnist; loss = half }\n")
            .ShouldStartWith("error DL0404: `loss half` must reduce to one number, but this is Tensor[N, 10]\n  --> test.dl:5:5");
    }

    [Fact]
    public void A_record_result_trained_with_cross_entropy_asks_for_a_loss_declaration()
    {
        Compile.Error("model V (x: Tensor[N, 784]) =\n    let mu = x |> dense 20\n    { recon = mu; mu = mu }\n\ntrain V { data = fashionMnist }\n").ShouldBe("""
            error DL0404: `V` returns a record of 2 tensors, so `crossEntropy` has no single result to score
              --> test.dl:5:7
               |
             5 | train V { data = fashionMnist }
               |       ^
               = help: declare how its results make a loss, `loss name (x, out) = ...`, and train with `loss = name`
            """);
    }

    [Fact]
    public void Gan_networks_that_do_not_fit_each_other_are_a_shape_mismatch()
    {
        Compile.Error("""
            model G (z: Tensor[N, 64]) : Tensor[N, 784] =
                z |> dense 784
            model D (x: Tensor[N, 1, 28, 28]) : Tensor[N, 1] =
                x |> flatten |> dense 1

            train gan { generator = G; discriminator = D; data = fashionMnist }
            """).ShouldBe("""
            error DL0301: `G` makes Tensor[N, 784], but `D` takes Tensor[N, 1, 28, 28]
              --> test.dl:6:44
               |
             6 | train gan { generator = G; discriminator = D; data = fashionMnist }
               |                                            ^
               = help: the discriminator judges what the generator makes, so its input is the generator's result
            """);
    }

    [Fact]
    public void An_agent_network_must_score_each_action_of_its_environment()
    {
        Compile.Error("model Q (s: Tensor[N, 4]) : Tensor[N, 3] =\n    s |> dense 3\n\nagent A { network = Q; env = cartPole }\n")
            .ShouldStartWith("error DL0404: `cartPole` has 2 actions, so `Q` must return one value per action, Tensor[N, 2]; it returns Tensor[N, 3]");
        Compile.Error("model Q (s: Tensor[N, 8]) : Tensor[N, 2] =\n    s |> dense 2\n\nagent A { network = Q; env = cartPole }\n")
            .ShouldStartWith("error DL0405: `cartPole` observes 4 numbers, but `Q` takes Tensor[N, 8]");
    }

    [Fact]
    public void An_unknown_agent_field_and_environment_are_reported()
    {
        Compile.Error("model Q (s: Tensor[N, 4]) : Tensor[N, 2] =\n    s |> dense 2\n\nagent A { network = Q; env = cartPole; gama = 0.9 }\n")
            .ShouldStartWith("error DL0203: `agent A` has no field `gama`");
        Compile.Error("model Q (s: Tensor[N, 4]) : Tensor[N, 2] =\n    s |> dense 2\n\nagent A { network = Q; env = cartpole }\n")
            .ShouldStartWith("error DL0201: `cartpole` is not defined");
    }

    [Fact]
    public void A_freeze_pattern_may_name_the_model_a_checkpoint_was_trained_as()
    {
        var spec = Compile.Ok(Mlp + "train M { from = \"run/model.safetensors\"; freeze = [ \"Pretrained.dense.*\" ] }\n").Trains[0];
        spec.From.ShouldBe("run/model.safetensors");
        spec.Pending.Select(p => p.What).ShouldBe(["from", "freeze"]);
    }

    [Fact]
    public void A_plain_record_has_nothing_pending()
    {
        Compile.Ok(Compile.Mlp).Trains[0].Pending.ShouldBeEmpty();
    }

    [Fact]
    public void A_distill_teacher_of_this_file_must_score_the_same_classes()
    {
        Compile.Error(Mlp + "model T (x: Tensor[N, 784]) : Tensor[N, 5] =\n    x |> dense 5\n\ntrain M { data = fashionMnist; distill = { teacher = T } }\n")
            .ShouldStartWith("error DL0301: the teacher `T` returns Tensor[N, 5], but the student `M` returns Tensor[N, 10]");
    }

    [Fact]
    public void A_sequence_model_trains_with_cross_entropy_per_position()
    {
        var file = Compile.Ok(LanguageSketchTests.CharLm);
        file.Trains[0].Loss.ShouldBe(LossKind.CrossEntropy);
    }
}
