using Dlc.Runtime.Checkpoints;
using Dlc.Runtime.Data;

namespace Dlc.Runtime.Tests.Checkpoints;

public class CheckpointTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static readonly ParameterSpec[] Expected = [new("fc1.weight", [4, 3]), new("fc1.bias", [3])];

    private static CheckpointState State(long step = 120) => new()
    {
        ModelName = "Mlp",
        SourceHash = Checkpoint.HashSource("model Mlp { }"),
        Parameters =
        [
            new NamedTensor("fc1.weight", [4, 3], Enumerable.Range(0, 12).Select(i => i / 7f).ToArray()),
            new NamedTensor("fc1.bias", [3], new[] { 0.1f, float.NaN, -0f }),
        ],
        OptimizerState =
        [
            new NamedTensor("adam.m.fc1.weight", [4, 3], Enumerable.Range(0, 12).Select(i => i * 1e-5f).ToArray()),
            new NamedTensor("adam.v.fc1.weight", [4, 3], Enumerable.Range(0, 12).Select(i => i * 1e-9f).ToArray()),
        ],
        Step = step,
        Epoch = 2,
        BatchInEpoch = 17,
        RngState = [0x0123456789ABCDEF, ulong.MaxValue, 0, 42],
        TrainSettings = new Dictionary<string, string> { ["batch"] = "64", ["lr"] = "0.001", ["optimizer"] = "adam" },
    };

    private static void ShouldBeBitExact(IReadOnlyList<NamedTensor> actual, IReadOnlyList<NamedTensor> expected)
    {
        actual.Select(t => t.Name).Order().ShouldBe(expected.Select(t => t.Name).Order());
        foreach (var e in expected)
        {
            var a = actual.Single(t => t.Name == e.Name);
            a.Shape.ShouldBe(e.Shape);
            a.Data.ToArray().Select(BitConverter.SingleToInt32Bits).ShouldBe(e.Data.ToArray().Select(BitConverter.SingleToInt32Bits));
        }
    }

    [Fact]
    public void A_saved_training_state_loads_back_exactly()
    {
        var saved = State();
        Checkpoint.Save(_dir.Path, saved);
        Directory.GetFiles(_dir.Path).Select(Path.GetFileName).Order().ShouldBe(["model.safetensors", "model.state.safetensors"]);

        var loaded = Checkpoint.Load(_dir.Path, Expected);
        loaded.ModelName.ShouldBe("Mlp");
        loaded.SourceHash.ShouldBe(saved.SourceHash);
        loaded.SourceHash.Length.ShouldBe(64);
        (loaded.Step, loaded.Epoch, loaded.BatchInEpoch).ShouldBe((120L, 2, 17));
        loaded.RngState.ShouldBe(saved.RngState);
        loaded.TrainSettings.ShouldBe(saved.TrainSettings);
        ShouldBeBitExact(loaded.Parameters, saved.Parameters);
        ShouldBeBitExact(loaded.OptimizerState, saved.OptimizerState);
    }

    [Fact]
    public void The_validation_record_is_saved_and_loaded_exactly()
    {
        var saved = State() with { Validation = new ValidationRecord(3, 0.1 + 0.2, double.PositiveInfinity, 1) };
        Checkpoint.Save(_dir.Path, saved);
        Checkpoint.Load(_dir.Path, Expected).Validation.ShouldBe(saved.Validation);
    }

    [Fact]
    public void The_best_checkpoint_is_a_parameters_file_with_its_epoch_and_loss()
    {
        Checkpoint.SaveBest(_dir.Path, State() with { Epoch = 3, Validation = new ValidationRecord(3, 0.25, 0.25, 0) });
        Directory.GetFiles(_dir.Path).Select(Path.GetFileName).ShouldBe(["best.safetensors"]);
        var best = SafeTensors.Read(Path.Combine(_dir.Path, Checkpoint.BestFileName));
        (best.Metadata["epoch"], best.Metadata["val_loss"], best.Metadata["model"]).ShouldBe(("3", "0.25", "Mlp"));
        ShouldBeBitExact(Checkpoint.LoadParameters(Path.Combine(_dir.Path, Checkpoint.BestFileName), Expected), State().Parameters);
    }

    [Fact]
    public void The_parameters_file_carries_the_model_metadata_and_only_parameters()
    {
        Checkpoint.Save(_dir.Path, State());
        var model = SafeTensors.Read(Path.Combine(_dir.Path, Checkpoint.ModelFileName));
        model.Names.ShouldBe(["fc1.bias", "fc1.weight"]);
        model.Metadata["model"].ShouldBe("Mlp");
        model.Metadata["format_version"].ShouldBe("1");
        model.Metadata["source_sha256"].ShouldBe(Checkpoint.HashSource("model Mlp { }"));
    }

    [Fact]
    public void Loading_accepts_the_model_file_path_as_well_as_the_folder()
    {
        Checkpoint.Save(_dir.Path, State());
        Checkpoint.Load(Path.Combine(_dir.Path, "model.safetensors")).Step.ShouldBe(120);
        ShouldBeBitExact(Checkpoint.LoadParameters(Path.Combine(_dir.Path, "model.safetensors"), Expected), State().Parameters);
    }

    [Fact]
    public void Saving_again_replaces_the_previous_checkpoint()
    {
        Checkpoint.Save(_dir.Path, State(100));
        Checkpoint.Save(_dir.Path, State(200));
        Checkpoint.Load(_dir.Path).Step.ShouldBe(200);
        Directory.GetFiles(_dir.Path).Length.ShouldBe(2);
    }

    [Fact]
    public void A_parameter_with_another_shape_is_named_with_both_shapes()
    {
        Checkpoint.Save(_dir.Path, State());
        var e = Should.Throw<DataException>(() => Checkpoint.LoadParameters(_dir.Path, [new("fc1.weight", [4, 5]), new("fc1.bias", [3])]));
        e.Code.ShouldBe(DataException.CheckpointMismatch);
        e.Message.ShouldBe("parameter 'fc1.weight' has shape [4, 5] in the model but [4, 3] in model.safetensors");
        e.Help.ShouldNotBeNull().ShouldContain("different model");
    }

    [Fact]
    public void A_missing_parameter_and_an_extra_one_are_both_mismatches()
    {
        Checkpoint.Save(_dir.Path, State());
        Should.Throw<DataException>(() => Checkpoint.Load(_dir.Path, [.. Expected, new("fc2.weight", [3, 2])]))
            .Message.ShouldBe("model.safetensors has no parameter 'fc2.weight', which the model expects with shape [3, 2]");
        Should.Throw<DataException>(() => Checkpoint.LoadParameters(_dir.Path, [new("fc1.weight", [4, 3])]))
            .Message.ShouldBe("model.safetensors has parameter 'fc1.bias' with shape [3], which the model does not have");
    }

    [Fact]
    public void A_save_interrupted_between_the_two_files_is_detected()
    {
        Checkpoint.Save(_dir.Path, State(100));
        var oldModel = File.ReadAllBytes(Path.Combine(_dir.Path, Checkpoint.ModelFileName));
        Checkpoint.Save(_dir.Path, State(200));
        File.WriteAllBytes(Path.Combine(_dir.Path, Checkpoint.ModelFileName), oldModel);
        var e = Should.Throw<DataException>(() => Checkpoint.Load(_dir.Path));
        e.Code.ShouldBe(DataException.CheckpointUnreadable);
        e.Message.ShouldContain("is from step 200 but model.safetensors is from step 100");
        Checkpoint.LoadParameters(_dir.Path).Count.ShouldBe(2);
    }

    [Fact]
    public void A_checkpoint_without_its_training_state_can_be_evaluated_but_not_resumed()
    {
        Checkpoint.Save(_dir.Path, State());
        File.Delete(Path.Combine(_dir.Path, Checkpoint.StateFileName));
        Checkpoint.LoadParameters(_dir.Path, Expected).Count.ShouldBe(2);
        Should.Throw<DataException>(() => Checkpoint.Load(_dir.Path)).Code.ShouldBe(DataException.NotFound);
    }

    [Fact]
    public void A_checkpoint_from_a_newer_format_is_refused()
    {
        SafeTensors.Write(Path.Combine(_dir.Path, "model.safetensors"), State().Parameters,
            new Dictionary<string, string> { ["format_version"] = "9" });
        var e = Should.Throw<DataException>(() => Checkpoint.LoadParameters(_dir.Path));
        e.Code.ShouldBe(DataException.CheckpointUnreadable);
        e.Message.ShouldBe("model.safetensors has checkpoint format version 9; this dlc reads version 1");
    }

    [Fact]
    public void Parameters_from_another_tool_without_dlc_metadata_can_be_loaded()
    {
        var path = Path.Combine(_dir.Path, "weights.safetensors");
        SafeTensors.Write(path, State().Parameters, new Dictionary<string, string> { ["format"] = "pt" });
        Checkpoint.LoadParameters(path, Expected).Count.ShouldBe(2);
    }

    [Fact]
    public void A_missing_checkpoint_is_not_found()
    {
        var e = Should.Throw<DataException>(() => Checkpoint.Load(Path.Combine(_dir.Path, "none")));
        e.Code.ShouldBe(DataException.NotFound);
        e.Help.ShouldNotBeNull();
    }

    [Fact]
    public void A_corrupt_state_file_is_unreadable()
    {
        Checkpoint.Save(_dir.Path, State());
        var state = Path.Combine(_dir.Path, Checkpoint.StateFileName);
        File.WriteAllBytes(state, File.ReadAllBytes(state)[..40]);
        Should.Throw<DataException>(() => Checkpoint.Load(_dir.Path)).Code.ShouldBe(DataException.CheckpointUnreadable);
    }

    [Fact]
    public void The_source_hash_is_the_sha256_of_the_utf8_text()
    {
        Checkpoint.HashSource("abc").ShouldBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
