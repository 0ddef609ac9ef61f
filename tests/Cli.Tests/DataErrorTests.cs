using Dlc.Cli.Tests.Support;

namespace Dlc.Cli.Tests;

/// <summary>
/// Data, checkpoint and option-value problems found once a command runs: exit 1 (2 for option values),
/// one short message that names the file and, for data a .dl file names, its line; never a stack trace.
/// </summary>
public class DataErrorTests : IDisposable
{
    private readonly TinyProject _project = new();

    private string Out => _project["run"];

    [Fact]
    public void A_data_file_that_does_not_exist_is_named_at_the_data_field_of_the_train_record()
    {
        var dl = _project.WriteDl("nodata.dl", TinyProject.Source(images: "no-such-images.idx"));
        var run = Shell.Run("train", dl, "--out", Out).ShouldFailWith(ExitCodes.UserError,
            $"error DL0901: {_project["no-such-images.idx"]} does not exist\n",
            $"  --> {dl}:7:17\n",
            "   |                 ^^^\n",
            "1 error");
        Directory.Exists(Out).ShouldBeFalse("no run folder is made for a run that cannot start");
        run.Out.ShouldBeEmpty();
    }

    [Fact]
    public void A_truncated_idx_file_is_reported_with_how_much_is_missing()
    {
        var full = File.ReadAllBytes(_project["train-images.idx"]);
        File.WriteAllBytes(_project["cut-images.idx"], full[..1000]);
        var dl = _project.WriteDl("cut.dl", TinyProject.Source(images: "cut-images.idx"));
        Shell.Run("train", dl, "--out", Out).ShouldFailWith(ExitCodes.UserError,
            "error DL0903: cut-images.idx ends after 1,000 of 16,400 bytes of image data", $"--> {dl}:7:17");
    }

    [Fact]
    public void An_idx_file_with_a_header_cut_short_is_truncated_data_too()
    {
        File.WriteAllBytes(_project["cut-images.idx"], File.ReadAllBytes(_project["train-images.idx"])[..10]);
        var dl = _project.WriteDl("cut.dl", TinyProject.Source(images: "cut-images.idx"));
        Shell.Run("bench", dl, "--epochs", "1").ShouldFailWith(ExitCodes.UserError, "error DL0903: cut-images.idx ends after 10 of 16 header bytes");
    }

    [Fact]
    public void A_file_that_is_not_idx_is_malformed_data()
    {
        File.WriteAllText(_project["text-images.idx"], "these are not images");
        var dl = _project.WriteDl("text.dl", TinyProject.Source(images: "text-images.idx"));
        Shell.Run("train", dl, "--out", Out).ShouldFailWith(ExitCodes.UserError, "error DL0902: text-images.idx is not an IDX file");
    }

    [Fact]
    public void Images_and_labels_of_different_counts_are_malformed_data()
    {
        TinyProject.WriteIdx(_project["few-images.idx"], _project["unused.idx"], 100, seed: 3);
        var dl = _project.WriteDl("few.dl", TinyProject.Source(images: "few-images.idx"));
        Shell.Run("train", dl, "--out", Out).ShouldFailWith(ExitCodes.UserError,
            "error DL0902: train-labels.idx has 256 labels but few-images.idx has 100 images");
    }

    [Fact]
    public void A_truncated_checkpoint_cannot_be_evaluated()
    {
        Train();
        var bytes = File.ReadAllBytes(Path.Combine(Out, "model.safetensors"));
        File.WriteAllBytes(_project["cut.safetensors"], bytes[..(bytes.Length - 100)]);
        Shell.Run("eval", _project.DlFile, "--checkpoint", _project["cut.safetensors"]).ShouldFailWith(ExitCodes.UserError,
            "error DL0905: cut.safetensors ends after", "of tensor data its header describes");
    }

    [Fact]
    public void A_file_that_is_not_a_checkpoint_cannot_be_evaluated()
    {
        File.WriteAllBytes(_project["tiny.safetensors"], [1, 2, 3]);
        Shell.Run("eval", _project.DlFile, "--checkpoint", _project["tiny.safetensors"]).ShouldFailWith(ExitCodes.UserError,
            "error DL0905: tiny.safetensors is 3 bytes long; a safetensors file starts with an 8-byte header length");
        File.WriteAllBytes(_project["garbage.safetensors"], [.. BitConverter.GetBytes(20L), .. "not json at all!!!!!"u8.ToArray()]);
        Shell.Run("eval", _project.DlFile, "--checkpoint", _project["garbage.safetensors"]).ShouldFailWith(ExitCodes.UserError,
            "error DL0905: garbage.safetensors's header does not start with '{'");
    }

    [Fact]
    public void A_checkpoint_of_another_model_names_the_parameter_that_differs()
    {
        Train();
        var other = _project.WriteDl("wide.dl", TinyProject.Source().Replace("dense 16", "dense 32"));
        Shell.Run("eval", other, "--checkpoint", Out).ShouldFailWith(ExitCodes.UserError,
            "error DL0904: parameter 'Tiny.dense1.weight' has shape [32, 64] in the model but [16, 64] in model.safetensors",
            "= help: the checkpoint was saved from a different model");
        Shell.Run("train", other, "--resume", Out, "--out", _project["resumed"]).ShouldFailWith(ExitCodes.UserError, "DL0904");
    }

    [Fact]
    public void A_checkpoint_that_does_not_exist_is_named()
    {
        var missing = _project["nothing/model.safetensors"];
        Shell.Run("eval", _project.DlFile, "--checkpoint", missing).ShouldFailWith(ExitCodes.UserError,
            $"error DL0901: the checkpoint {missing} does not exist", "= help: give a checkpoint folder or its model.safetensors");
    }

    [Fact]
    public void Resuming_needs_the_training_state_next_to_the_model()
    {
        Train();
        File.Delete(Path.Combine(Out, "model.state.safetensors"));
        Shell.Run("train", _project.DlFile, "--resume", Out, "--epochs", "3").ShouldFailWith(ExitCodes.UserError,
            "DL0901", "model.state.safetensors does not exist, so training cannot resume");
        Shell.Run("eval", _project.DlFile, "--checkpoint", Out).ShouldSucceed();
    }

    [Fact]
    public void An_out_path_that_is_a_file_is_refused()
    {
        var file = _project.Folder.Write("taken", "a file");
        Shell.Run("train", _project.DlFile, "--out", file).ShouldFailWith(ExitCodes.UserError, $"DL0906: --out {file} is a file, not a folder");
    }

    [Fact]
    public void A_model_the_file_does_not_train_is_a_bad_option_value()
    {
        Shell.Run("train", _project.DlFile, "--model", "Nope", "--out", Out).ShouldFailWith(ExitCodes.UserError, "--model Nope: the file trains Tiny");
        Shell.Run("bench", _project.DlFile, "--model", "Nope").ShouldFailWith(ExitCodes.UserError, "--model Nope");
    }

    [Fact]
    public void A_split_the_data_does_not_have_is_a_bad_option_value()
    {
        Train();
        Shell.Run("eval", _project.DlFile, "--checkpoint", Out, "--split", "validation").ShouldFailWith(ExitCodes.UserError,
            "--split validation: the train record holds no validation split");
    }

    [Theory]
    [InlineData("--epochs", "abc", "--epochs must be a whole number, not 'abc'")]
    [InlineData("--lr", "0", "--lr must be a number above 0")]
    [InlineData("--threads", "0", "--threads must be between 1 and 1024")]
    [InlineData("--gemm", "foo", "--gemm must be `auto`, `mkl` or `managed`")]
    public void A_bad_option_value_exits_1_naming_the_option(string option, string value, string message)
    {
        Shell.Run("train", _project.DlFile, option, value, "--out", Out).ShouldFailWith(ExitCodes.UserError, $"error: {message}\n");
        Directory.Exists(Out).ShouldBeFalse();
    }

    [Fact]
    public void A_file_without_a_train_record_cannot_be_trained()
    {
        var dl = _project.WriteDl("model-only.dl", TinyProject.Model);
        Shell.Run("train", dl, "--out", Out).ShouldFailWith(ExitCodes.UserError, $"error DL0", $"{dl} has no `train` record");
    }

    private void Train() => Shell.Run("train", _project.DlFile, "--epochs", "1", "--out", Out).ShouldSucceed();

    public void Dispose() => _project.Dispose();
}
