using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Dlc.Runtime.Checkpoints;
using Dlc.Runtime.Data;

namespace Dlc.Runtime.Tests.Checkpoints;

public class SafeTensorsTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>A safetensors file assembled by hand: header length, header text as given, buffer.</summary>
    private string Raw(string header, byte[] buffer, ulong? declaredLength = null)
    {
        var json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + buffer.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, declaredLength ?? (ulong)json.Length);
        json.CopyTo(bytes, 8);
        buffer.CopyTo(bytes, 8 + json.Length);
        return _dir.Write("raw.safetensors", bytes);
    }

    private DataException Unreadable(string path)
    {
        var e = Should.Throw<DataException>(() => SafeTensors.Read(path));
        e.Code.ShouldBe(DataException.CheckpointUnreadable);
        e.Path.ShouldBe(path);
        return e;
    }

    private static float[] Awkward() =>
        [0f, -0f, 1f, float.Epsilon, float.MaxValue, float.NaN, float.NegativeInfinity, BitConverter.Int32BitsToSingle(0x7FC0_1234), 1f / 3f];

    [Fact]
    public void Tensors_and_metadata_round_trip_bit_for_bit()
    {
        var path = _dir.File("m.safetensors");
        var weights = Enumerable.Range(0, 12).Select(i => MathF.Sin(i) * 1e-3f).ToArray();
        SafeTensors.Write(path, [
            new NamedTensor("fc.weight", [3, 4], weights),
            new NamedTensor("awkward", [9], Awkward()),
            new NamedTensor("scalar", [], new[] { 2.5f }),
            new NamedTensor("empty", [0, 5], Array.Empty<float>()),
        ], new Dictionary<string, string> { ["model"] = "Mlp", ["note"] = "ünïcode \"quoted\"" });

        var file = SafeTensors.Read(path);
        file.Names.ShouldBe(["awkward", "empty", "fc.weight", "scalar"]);
        file.Shape("fc.weight").ShouldBe([3, 4]);
        file.Shape("scalar").ShouldBe(Array.Empty<int>());
        file.DType("fc.weight").ShouldBe("F32");
        file.Metadata["note"].ShouldBe("ünïcode \"quoted\"");
        file.Get("fc.weight").Select(BitConverter.SingleToInt32Bits).ShouldBe(weights.Select(BitConverter.SingleToInt32Bits));
        file.Get("awkward").Select(BitConverter.SingleToInt32Bits).ShouldBe(Awkward().Select(BitConverter.SingleToInt32Bits));
        file.Get("empty").ShouldBeEmpty();
        file.Get("scalar").ShouldBe([2.5f]);
    }

    [Fact]
    public void The_same_tensors_in_any_order_give_the_same_bytes()
    {
        NamedTensor a = new("a", [2], new[] { 1f, 2f }), b = new("b", [1], new[] { 3f });
        SafeTensors.Write(_dir.File("1"), [a, b], new Dictionary<string, string> { ["x"] = "1", ["y"] = "2" });
        SafeTensors.Write(_dir.File("2"), [b, a], new Dictionary<string, string> { ["y"] = "2", ["x"] = "1" });
        File.ReadAllBytes(_dir.File("1")).ShouldBe(File.ReadAllBytes(_dir.File("2")));
    }

    [Fact]
    public void The_written_bytes_follow_the_format_exactly()
    {
        var path = _dir.File("golden.safetensors");
        SafeTensors.Write(path, [new NamedTensor("w", [2], new[] { 1f, -2f })], new Dictionary<string, string> { ["k"] = "v" });
        var bytes = File.ReadAllBytes(path);
        var header = """{"__metadata__":{"k":"v"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""";
        var padded = header.PadRight((header.Length + 7) / 8 * 8);
        BinaryPrimitives.ReadUInt64LittleEndian(bytes).ShouldBe((ulong)padded.Length);
        Encoding.UTF8.GetString(bytes, 8, padded.Length).ShouldBe(padded);
        bytes[(8 + padded.Length)..].ShouldBe(new byte[] { 0, 0, 0x80, 0x3F, 0, 0, 0, 0xC0 });
    }

    [Fact]
    public void A_written_file_is_understood_by_an_independent_minimal_parser()
    {
        var path = _dir.File("m.safetensors");
        var values = Enumerable.Range(0, 6).Select(i => i * 0.25f - 1f).ToArray();
        SafeTensors.Write(path, [new NamedTensor("b", [2], new[] { 7f, 8f }), new NamedTensor("a", [2, 3], values)],
            new Dictionary<string, string> { ["format"] = "dlc" });

        // Parse following the published layout only, without the code under test.
        var bytes = File.ReadAllBytes(path);
        var n = (int)BitConverter.ToUInt64(bytes, 0);
        n.ShouldBeGreaterThan(0);
        ((8 + n) % 8).ShouldBe(0);
        using var json = JsonDocument.Parse(bytes.AsMemory(8, n));
        json.RootElement.GetProperty("__metadata__").GetProperty("format").GetString().ShouldBe("dlc");
        float[] Tensor(string name, int[] shape)
        {
            var info = json.RootElement.GetProperty(name);
            info.GetProperty("dtype").GetString().ShouldBe("F32");
            info.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ShouldBe(shape);
            var offsets = info.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            return Enumerable.Range(0, (offsets[1] - offsets[0]) / 4).Select(i => BitConverter.ToSingle(bytes, 8 + n + offsets[0] + 4 * i)).ToArray();
        }
        Tensor("a", [2, 3]).ShouldBe(values);
        Tensor("b", [2]).ShouldBe([7f, 8f]);
        (8 + n + 4 * 8).ShouldBe(bytes.Length);
    }

    [Fact]
    public void Half_and_bfloat16_tensors_are_widened_to_float()
    {
        var buffer = new byte[8];
        BinaryPrimitives.WriteHalfLittleEndian(buffer, (Half)1.5f);
        BinaryPrimitives.WriteHalfLittleEndian(buffer.AsSpan(2), (Half)(-0.25f));
        BinaryPrimitives.WriteUInt16LittleEndian(buffer.AsSpan(4), (ushort)(BitConverter.SingleToInt32Bits(3f) >> 16));
        BinaryPrimitives.WriteUInt16LittleEndian(buffer.AsSpan(6), (ushort)(BitConverter.SingleToInt32Bits(-96f) >> 16));
        var path = Raw("""{"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"b":{"dtype":"BF16","shape":[2],"data_offsets":[4,8]}}""", buffer);
        var file = SafeTensors.Read(path);
        file.Get("h").ShouldBe([1.5f, -0.25f]);
        file.Get("b").ShouldBe([3f, -96f]);
    }

    [Fact]
    public void An_unpadded_header_from_another_writer_is_read_even_though_the_data_is_unaligned()
    {
        var buffer = new byte[8];
        BinaryPrimitives.WriteSingleLittleEndian(buffer, 0.1f);
        BinaryPrimitives.WriteSingleLittleEndian(buffer.AsSpan(4), -7.5f);
        var path = Raw("""{"w":{"dtype":"F32","shape":[1,2],"data_offsets":[0,8]}}""", buffer);
        SafeTensors.Read(path).Get("w").ShouldBe([0.1f, -7.5f]);
    }

    [Fact]
    public void A_tensor_of_an_unsupported_type_is_refused_when_read()
    {
        var path = Raw("""{"i":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}""", new byte[8]);
        var file = SafeTensors.Read(path);
        var e = Should.Throw<DataException>(() => file.Get("i"));
        e.Code.ShouldBe(DataException.CheckpointUnreadable);
        e.Message.ShouldBe("raw.safetensors stores tensor 'i' as I64; dlc reads F32, F16 and BF16 tensors");
    }

    [Theory]
    [InlineData("""{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 4, "raw.safetensors ends after 4 of the 8 bytes of tensor data its header describes")]
    [InlineData("""{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 12, "raw.safetensors has 4 bytes after the last tensor's data")]
    [InlineData("""{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}""", 8, "raw.safetensors: tensor 'w' has shape [3] of F32, which takes 12 bytes, but its data_offsets span 8 bytes")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", 12, "raw.safetensors: tensors 'a' (bytes 0–8) and 'b' (bytes 4–12) overlap")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8, "raw.safetensors: bytes 0–4 of the data buffer belong to no tensor")]
    [InlineData("""{"w":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}}""", 8, "raw.safetensors: tensor 'w' ends (byte 4) before it begins (byte 8)")]
    [InlineData("""{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}""", 4, "raw.safetensors: tensor 'w' has -1 in \"shape\"; expected a whole number from 0 to 2,147,483,647")]
    [InlineData("""{"w":{"dtype":"F32","shape":[1],"data_offsets":[0]}}""", 4, "raw.safetensors: tensor 'w' has 1 data_offsets; expected 2 (begin, end)")]
    [InlineData("""{"w":{"shape":[1],"data_offsets":[0,4]}}""", 4, "raw.safetensors: tensor 'w' has no \"dtype\" string")]
    [InlineData("""{"w":{"dtype":"F33","shape":[1],"data_offsets":[0,4]}}""", 4, "raw.safetensors: tensor 'w' has the unknown dtype \"F33\"")]
    [InlineData("""{"w":{"dtype":"F32","data_offsets":[0,4]}}""", 4, "raw.safetensors: tensor 'w' has no \"shape\" array")]
    [InlineData("""{"w":[1,2]}""", 0, "raw.safetensors: tensor 'w' is described by a JSON Array, not an object")]
    [InlineData("""{"__metadata__":{"step":3}}""", 0, "raw.safetensors's __metadata__ entry 'step' is a JSON Number, not a string")]
    [InlineData("""{"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}}""", 0, "raw.safetensors's header names 'a' twice")]
    [InlineData("""[1]""", 0, "raw.safetensors's header does not start with '{'")]
    [InlineData("""  {}""", 0, "raw.safetensors's header does not start with '{'")]
    public void A_malformed_file_is_refused_with_a_precise_message(string header, int bufferLength, string message)
    {
        Unreadable(Raw(header, new byte[bufferLength])).Message.ShouldBe(message);
    }

    [Fact]
    public void Broken_json_is_reported_as_unreadable_not_as_a_json_exception()
    {
        var e = Unreadable(Raw("""{"w":{"dtype":"F32",}""", []));
        e.Message.ShouldStartWith("raw.safetensors's header is not valid JSON: ");
        e.InnerException.ShouldBeAssignableTo<JsonException>();
    }

    [Fact]
    public void Invalid_utf8_in_the_header_is_reported_as_unreadable()
    {
        var path = _dir.Write("raw.safetensors", [6, 0, 0, 0, 0, 0, 0, 0, (byte)'{', (byte)'"', 0xFF, (byte)'"', (byte)':', (byte)'}']);
        Unreadable(path).Message.ShouldContain("not valid JSON");
    }

    [Fact]
    public void A_file_shorter_than_the_length_field_or_its_header_is_refused()
    {
        Unreadable(_dir.Write("raw.safetensors", [1, 2, 3])).Message
            .ShouldBe("raw.safetensors is 3 bytes long; a safetensors file starts with an 8-byte header length");
        Unreadable(Raw("{}", [], declaredLength: 80)).Message.ShouldBe("raw.safetensors ends after 2 of the 80 header bytes it announces");
        Unreadable(Raw("{}", [], declaredLength: ulong.MaxValue)).Message.ShouldContain("it is not a safetensors file");
    }

    [Fact]
    public void A_file_cut_short_anywhere_is_refused_with_an_unreadable_error()
    {
        var path = _dir.File("m.safetensors");
        SafeTensors.Write(path, [new NamedTensor("w", [4], new[] { 1f, 2f, 3f, 4f })], null);
        var bytes = File.ReadAllBytes(path);
        for (var length = 0; length < bytes.Length; length++)
        {
            var cut = _dir.Write("cut.safetensors", bytes[..length]);
            Should.Throw<DataException>(() => SafeTensors.Read(cut)).Code.ShouldBe(DataException.CheckpointUnreadable);
        }
    }

    [Fact]
    public void A_missing_file_is_not_found()
    {
        Should.Throw<DataException>(() => SafeTensors.Read(_dir.File("none"))).Code.ShouldBe(DataException.NotFound);
    }

    [Fact]
    public void Writing_rejects_tensors_whose_data_does_not_fit_their_shape_or_names_used_twice()
    {
        Should.Throw<ArgumentException>(() => SafeTensors.Write(_dir.File("x"), [new NamedTensor("w", [2, 2], new float[3])], null));
        Should.Throw<ArgumentException>(() => SafeTensors.Write(_dir.File("x"),
            [new NamedTensor("w", [1], new float[1]), new NamedTensor("w", [1], new float[1])], null));
        File.Exists(_dir.File("x")).ShouldBeFalse();
        Directory.GetFiles(_dir.Path).ShouldBeEmpty();
    }
}
